import { Names, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * ElastiCache's rules for the names it lets callers choose: replication group ids, cluster
 * (member) ids and snapshot names. 1 to `maxLength` letters, digits or hyphens; starts with a
 * letter; no two consecutive hyphens; does not end with a hyphen. ElastiCache stores them
 * lower-case, so this library asks for lower-case: an id written in capitals would not match what
 * ElastiCache returns, and references built from it (member ids, ARNs) would not either.
 *
 * Returns `undefined` for a token or a valid name, otherwise the error message.
 */
export function nameProblem(prop: string, value: string, maxLength: number, stamp?: string): string | undefined {
  if (Token.isUnresolved(value)) {
    return undefined;
  }
  // A prefix is followed by a stamp: ElastiCache's limit is for the whole name.
  const rule = stamp === undefined
    ? `ElastiCache names are 1 to ${maxLength} lower-case letters, digits or hyphens, start with a letter, and have no '--' and no trailing '-'`
    : `ElastiCache names are 1 to ${maxLength + stamp.length} lower-case letters, digits or hyphens, start with a letter, and have no '--' and no trailing '-'; `
      + `the prefix is followed by '${stamp}', so it has at most ${maxLength}`;
  let problem: string | undefined;
  if (value.length < 1 || value.length > maxLength) {
    problem = `is ${value.length} characters long`;
  } else if (/[A-Z]/.test(value)) {
    problem = 'has upper-case letters (ElastiCache stores names lower-case)';
  } else if (!/^[a-z0-9-]+$/.test(value)) {
    problem = `has characters other than letters, digits and hyphens (${JSON.stringify(value.replace(/[a-zA-Z0-9-]/g, ''))})`;
  } else if (!/^[a-z]/.test(value)) {
    problem = 'does not start with a letter';
  } else if (value.includes('--')) {
    problem = "has two consecutive hyphens '--'";
  } else if (value.endsWith('-')) {
    problem = "ends with a hyphen '-'";
  }
  return problem ? `${prop} '${value}' ${problem}; ${rule}` : undefined;
}

/** Throws the error `nameProblem` finds, if any (`stamp`: what follows a prefix in the names it makes). */
export function checkName(prop: string, value: string, maxLength: number, stamp?: string): void {
  const problem = nameProblem(prop, value, maxLength, stamp);
  if (problem) {
    throw new Error(problem);
  }
}

/** The longest replication group id ElastiCache accepts. */
export const MAX_GROUP_ID_LENGTH = 40;
/** The longest snapshot name ElastiCache accepts. */
export const MAX_SNAPSHOT_NAME_LENGTH = 40;

const AUTOMATIC_SNAPSHOT = /^automatic\.(.+)-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}$/;

/**
 * A snapshot name to restore from: either a manual snapshot's name or the name ElastiCache gives an
 * automatic snapshot, `automatic.<group id>-<yyyy>-<mm>-<dd>-<hh>-<mi>`.
 */
export function checkSnapshotNameToRestore(prop: string, value: string): void {
  if (Token.isUnresolved(value)) {
    return;
  }
  if (value.startsWith('automatic.')) {
    const match = AUTOMATIC_SNAPSHOT.exec(value);
    if (!match) {
      throw new Error(`${prop} '${value}' starts with 'automatic.' but is not an automatic snapshot name; ElastiCache names those automatic.<replication group id>-<yyyy>-<mm>-<dd>-<hh>-<mi>`);
    }
    checkName(`${prop} (replication group id in '${value}')`, match[1], MAX_GROUP_ID_LENGTH);
    return;
  }
  checkName(prop, value, MAX_SNAPSHOT_NAME_LENGTH);
}

/**
 * A name derived from the construct path: unique in the app, stable across deployments, at most
 * `maxLength` characters, lower case, letters, digits and single hyphens, no hyphen at either end.
 * It may still start with a digit; callers add their own leading letter where that matters.
 */
export function nameFromPath(scope: IConstruct, maxLength: number): string {
  return Names.uniqueResourceName(scope, { maxLength, separator: '-', allowedSpecialCharacters: '-' })
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * A replication group id derived from the construct path: unique in the app, stable across
 * deployments, and valid under ElastiCache's rules (lower case, starts with a letter, no `--`,
 * at most 40 characters).
 */
export function defaultGroupId(scope: IConstruct): string {
  const unique = nameFromPath(scope, MAX_GROUP_ID_LENGTH - 2);
  return /^[a-z]/.test(unique) ? unique : `r-${unique}`.slice(0, MAX_GROUP_ID_LENGTH);
}
