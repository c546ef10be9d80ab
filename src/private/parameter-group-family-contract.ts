/**
 * The parameter group family of an engine version, shared by the construct (its parameter group)
 * and the export workflow's handler (the manifest a restore builds a group from), so both name it alike.
 */

/**
 * The parameter group family of an engine version: Redis OSS `redis7` for 7.x, `redis6.x` for 6.x,
 * `redis<major>.<minor>` before (ElastiCache user guide, "Parameter groups"); Valkey `valkey<major>`
 * (see rules/engine.ts for what is confirmed). Undefined when the version has no major.minor form.
 */
export function parameterGroupFamily(engine: string, version: string): string | undefined {
  const m = /^(\d+)\.(\d+|x)/.exec(version);
  if (!m || (engine !== 'redis' && engine !== 'valkey')) return undefined;
  const major = Number(m[1]);
  if (engine === 'valkey') return `valkey${major}`;
  if (major >= 7) return `redis${major}`;
  if (major === 6) return 'redis6.x';
  return `redis${major}.${m[2] === 'x' ? '0' : m[2]}`;
}
