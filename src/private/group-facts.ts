import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { claimName, Namespace } from './app-registry';
import { memberIds } from './members';
import { WindowRange } from './window-range';

/**
 * What a `RedisReplicationGroup` defined in this app knows about itself at synth time, for the
 * checks other constructs make against it. Its public `replicationGroupId` is the resource's Ref
 * (a token), so those checks could not see the id or the members without this. Kept out of the
 * public API: a WeakMap from the group construct.
 */
export interface GroupFacts {
  /** The replication group id as given (or derived from the path); may be a token. */
  readonly groupId: string;
  readonly clustered: boolean;
  readonly shards: number;
  readonly replicasPerShard: number;
  /** The daily snapshot window, when automatic backups are on and the window is known. */
  readonly snapshotWindow?: { readonly text: string; readonly range: WindowRange };
  /** The weekly maintenance window, when known. */
  readonly maintenanceWindow?: { readonly text: string; readonly range: WindowRange };
  readonly finalSnapshotName?: string;
}

const facts = new WeakMap<IConstruct, GroupFacts>();

/**
 * Records the facts of a group defined in this app, and claims its id and its final snapshot name
 * in the account and region (see app-registry.ts).
 */
export function recordGroupFacts(group: IConstruct, groupFacts: GroupFacts): void {
  facts.set(group, groupFacts);
  claimName({ namespace: Namespace.GROUP_ID, name: groupFacts.groupId, scope: group, prop: 'replicationGroupId', perEnvironment: true },
    'ElastiCache replication group ids are unique in an account and region, so the second group cannot be created (ReplicationGroupAlreadyExists): give each group its own replicationGroupId');
  if (groupFacts.finalSnapshotName !== undefined) {
    claimName({ namespace: Namespace.SNAPSHOT_NAME, name: groupFacts.finalSnapshotName, scope: group, prop: 'backup.finalSnapshotName', perEnvironment: true }, SNAPSHOT_NAME_REASON);
  }
}

/** The facts of a group defined in this app; undefined for an imported group. */
export function groupFactsOf(group: IConstruct): GroupFacts | undefined {
  return facts.get(group);
}

/** Why two snapshots cannot share a name, for the registry's message. */
export const SNAPSHOT_NAME_REASON = 'ElastiCache snapshot names are unique in an account and region, so whichever is taken second fails (SnapshotAlreadyExistsFault) and a group whose final snapshot cannot be taken is not deleted: give each snapshot its own name';

/**
 * The member ids of a group with cluster mode disabled (`<id>-001` is the node created as the
 * primary, then one per replica), or undefined when they can't be known at synth time.
 */
export function knownMembers(f: GroupFacts): string[] | undefined {
  if (f.clustered || Token.isUnresolved(f.groupId)) {
    return undefined;
  }
  return memberIds(f.groupId, false, 1, f.replicasPerShard);
}
