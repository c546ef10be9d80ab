import { Stack, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Names that must be unique across the whole app, not just within one construct: snapshot names
 * and replication group ids (unique in an account and region), and the workflows' snapshot
 * prefixes (each workflow prunes every name of its prefix).
 *
 * Each construct claims its names when it is built. The check runs at synth time as a validation
 * of the construct that claimed a name second, so the error appears once, under that construct's
 * path, and names the construct that holds the name already. One registry per app, keyed by the
 * root of the construct tree (the App), so separate apps (for example, in tests) never meet.
 */
export enum Namespace {
  /** ElastiCache snapshot names: `RedisSnapshot.snapshotName` and `backup.finalSnapshotName`. */
  SNAPSHOT_NAME = 'snapshot name',
  /** ElastiCache replication group ids. */
  GROUP_ID = 'replication group id',
  /** `ScheduledSnapshotExport.snapshotPrefix`. */
  EXPORT_PREFIX = 'snapshot prefix',
}

/** One name held by one construct. */
export interface Claim {
  readonly namespace: Namespace;
  /** The name, as the property gives it. */
  readonly name: string;
  /** The construct that holds the name. */
  readonly scope: IConstruct;
  /** The property that sets the name, e.g. `snapshotName` or `backup.finalSnapshotName`. */
  readonly prop: string;
  /**
   * Whether the name is unique per account and region (ElastiCache names) rather than per app.
   */
  readonly perEnvironment: boolean;
}

interface Entry extends Claim {
  /** Where the name must be unique: the account and region, or the whole app. */
  readonly key: string;
  readonly where: string;
}

const registries = new WeakMap<IConstruct, Entry[]>();

/**
 * Claims `name` for `claim.scope` and adds a validation that fails when an earlier claim holds
 * the same name in the same place. Token names are not claimed: they cannot be compared at synth
 * time.
 */
export function claimName(claim: Claim, why: string): void {
  if (Token.isUnresolved(claim.name)) {
    return;
  }
  const root = claim.scope.node.root;
  let entries = registries.get(root);
  if (!entries) {
    entries = [];
    registries.set(root, entries);
  }
  const place = claim.perEnvironment ? environment(claim.scope) : { key: 'app', where: 'in this app' };
  const entry: Entry = { ...claim, key: `${claim.namespace}|${place.key}|${claim.name}`, where: place.where };
  const earlier = [...entries];
  entries.push(entry);
  claim.scope.node.addValidation({
    validate: () => earlier
      .filter((other) => other.key === entry.key)
      .map((other) => `${entry.prop} '${entry.name}' of ${entry.scope.node.path} is also the ${other.prop} of ${other.scope.node.path}, ${entry.where}; ${why}`),
  });
}

/**
 * The account and region a construct deploys to. A part unknown at synth time (an env-agnostic
 * stack) compares equal to the same unknown part of another stack: env-agnostic stacks are
 * usually deployed to the same account and region.
 */
function environment(scope: IConstruct): { key: string; where: string } {
  const stack = Stack.of(scope);
  const account = Token.isUnresolved(stack.account) ? undefined : stack.account;
  const region = Token.isUnresolved(stack.region) ? undefined : stack.region;
  const where = account === undefined && region === undefined
    ? 'both in env-agnostic stacks (compared as one account and region)'
    : `both in account ${account ?? '(unknown at synth time)'}, region ${region ?? '(unknown at synth time)'}`;
  return { key: `${account ?? '?'}/${region ?? '?'}`, where };
}
