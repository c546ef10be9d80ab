/**
 * What the workflows' Lambda steps share (the export workflow's and the standby restore's): their
 * named errors, the UTC stamp their names carry, and the AUTH token read from Secrets Manager.
 */

/** An error whose `name` a state machine's Catch (or Retry) matches. */
export class StepError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** `YYYYMMDD-HHMMSS` (UTC) of an ISO 8601 timestamp such as `$$.Execution.StartTime`. */
export function utcStamp(startTime: string): string {
  const t = new Date(startTime);
  if (isNaN(t.getTime())) {
    throw new Error(`startTime '${startTime}' is not an ISO 8601 timestamp`);
  }
  const iso = t.toISOString(); // 2026-11-21T10:00:00.000Z
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

let runtimeSecrets: { getSecretValue(input: { SecretId: string }): Promise<{ SecretString?: string }> } | undefined;

/** A secret's `SecretString`, read with the Secrets Manager client of the Lambda runtime (the bundles leave @aws-sdk out). */
export async function secretString(arn: string): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  runtimeSecrets ??= new (require('@aws-sdk/client-secrets-manager').SecretsManager)({});
  const value = (await runtimeSecrets!.getSecretValue({ SecretId: arn })).SecretString;
  if (!value) throw new Error(`secret ${arn} has no SecretString`);
  return value;
}
