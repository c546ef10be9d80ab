import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BackupSource } from './backup';
import { claimName, Namespace } from './private/app-registry';
import { MAX_TIMEOUT_SECONDS, MIN_TIMEOUT_SECONDS } from './private/deadline-contract';
import { SNAPSHOT_NAME_REASON } from './private/group-facts';
import { checkName, MAX_SNAPSHOT_NAME_LENGTH } from './private/names';
import { BackupProvider } from './private/provider';
import { RedisSnapshotResourceProperties } from './private/redis-snapshot-contract';
import { snapshotSourceMember } from './private/source';
import { IRedisReplicationGroup } from './replication-group-base';

/**
 * Properties of a `RedisSnapshot`.
 */
export interface RedisSnapshotProps {
  /**
   * The replication group to snapshot.
   */
  readonly replicationGroup: IRedisReplicationGroup;

  /**
   * The snapshot's name: 1 to 40 lower-case letters, digits or hyphens, starting with a letter, with
   * no `--` and no trailing `-`. A new name takes a new snapshot; the old one then follows the
   * removal policy. Snapshot names are unique in an account and region: a name another snapshot of
   * the app uses there (a `RedisSnapshot` or a group's `backup.finalSnapshotName`) fails synth.
   */
  readonly snapshotName: string;

  /**
   * The node the snapshot is taken from. Only for cluster mode disabled.
   *
   * @default - ElastiCache's choice for a group-level snapshot: a replica when there is one (for
   * cluster mode enabled, one node per shard)
   */
  readonly source?: BackupSource;

  /**
   * How long the snapshot may take before the deployment fails: a whole number of minutes, from
   * 1 minute to 1 hour. The resource's handler keeps it, and the error names the snapshot and its
   * status; ElastiCache goes on taking the snapshot, and the removal policy decides whether it is
   * kept when CloudFormation rolls back.
   *
   * CloudFormation waits at most one hour for a custom resource, so no snapshot can take longer
   * here. With a timeout over 58 minutes the handler fails the resource 58 minutes after the
   * request, before CloudFormation gives up with no more than "timed out" to say.
   *
   * @default Duration.hours(1)
   */
  readonly timeout?: Duration;

  /**
   * What happens to the snapshot when the resource is removed from the stack, or replaced by a new
   * name. Only `RETAIN` and `DESTROY` apply.
   *
   * @default RemovalPolicy.RETAIN (a manual backup outlives its stack, as in ElastiCache)
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A manual ElastiCache snapshot taken at deploy time.
 *
 * When it runs: CloudFormation creates it once its group exists, and, since it refers to the
 * group, after every change to the group in the same deployment (a group created, updated or
 * replaced in that deployment is snapshotted as it is after the change). It is not a snapshot
 * "before a risky change" in the deployment that makes the change: for that, use
 * `backup.snapshotBeforeUpdate` on the `RedisReplicationGroup`, or deploy the `RedisSnapshot` first,
 * on its own, and the change afterwards. A new `snapshotName` in a later deployment takes a new
 * snapshot in that deployment, again after the group's own changes.
 *
 * A custom resource (Provider framework, one provider per stack) takes the snapshot and waits until
 * it is `available`. A retry finds its own snapshot and resumes; a name taken by a snapshot this
 * resource did not make fails the deployment before anything changes.
 *
 * Updates: a new `snapshotName` takes a new snapshot, and the old one follows the removal policy;
 * a new `removalPolicy` applies from then on; changing `source` or the group without a new name
 * takes no new snapshot.
 */
export class RedisSnapshot extends Construct {
  /**
   * The snapshot's name.
   *
   * @attribute
   */
  public readonly snapshotName: string;

  /**
   * The snapshot's ARN.
   *
   * @attribute
   */
  public readonly snapshotArn: string;

  constructor(scope: Construct, id: string, props: RedisSnapshotProps) {
    super(scope, id);
    checkName('snapshotName', props.snapshotName, MAX_SNAPSHOT_NAME_LENGTH);
    claimName({ namespace: Namespace.SNAPSHOT_NAME, name: props.snapshotName, scope: this, prop: 'snapshotName', perEnvironment: true }, SNAPSHOT_NAME_REASON);
    const removal = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (removal !== RemovalPolicy.RETAIN && removal !== RemovalPolicy.DESTROY) {
      throw new Error(`removalPolicy is ${removal}; a RedisSnapshot is either retained or destroyed (RemovalPolicy.RETAIN or RemovalPolicy.DESTROY)`);
    }
    const timeoutSeconds = checkTimeout(props.timeout ?? Duration.hours(1));
    const group = props.replicationGroup;
    const cacheClusterId = snapshotSourceMember(group, props.source, 'source');

    const provider = BackupProvider.of(this);
    provider.grantSnapshot(group.replicationGroupArn, props.snapshotName, cacheClusterId);

    const properties: RedisSnapshotResourceProperties = {
      ReplicationGroupId: group.replicationGroupId,
      SnapshotName: props.snapshotName,
      CacheClusterId: cacheClusterId,
      Removal: removal === RemovalPolicy.DESTROY ? 'destroy' : 'retain',
      TimeoutSeconds: timeoutSeconds,
    };
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::RedisSnapshot',
      properties,
    });
    this.snapshotName = resource.getAttString('SnapshotName');
    this.snapshotArn = resource.getAttString('SnapshotArn');
  }
}

/** A RedisSnapshot's timeout in seconds: whole minutes (the handler checks once a minute), 1 minute to 1 hour (CloudFormation's limit). */
function checkTimeout(timeout: Duration): number {
  if (timeout.isUnresolved()) {
    throw new Error('timeout is a token; it must be known at synth time (the handler is given it in whole minutes)');
  }
  const ms = timeout.toMilliseconds();
  if (ms < MIN_TIMEOUT_SECONDS * 1000 || ms > MAX_TIMEOUT_SECONDS * 1000) {
    throw new Error(`timeout is ${timeout.toHumanString()}; a RedisSnapshot waits from 1 minute to 1 hour (CloudFormation waits at most one hour for a custom resource)`);
  }
  if (ms % 60_000 !== 0) {
    throw new Error(`timeout is ${timeout.toHumanString()}; a RedisSnapshot's timeout is a whole number of minutes (its status is checked once a minute)`);
  }
  return ms / 1000;
}
