import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { BackupSource } from './backup';
import { claimName, Namespace } from './private/app-registry';
import { SNAPSHOT_NAME_REASON } from './private/group-facts';
import { checkName, MAX_SNAPSHOT_NAME_LENGTH } from './private/names';
import { BackupProvider } from './private/provider';
import { RedisSnapshotResourceProperties } from './private/redis-snapshot-contract';
import { snapshotSourceMember } from './private/source';
import { IRedisReplicationGroup } from './replication-group';

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
   * How long the snapshot may take before the deployment fails.
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
 * A manual ElastiCache snapshot taken at deploy time, e.g. before a risky change.
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
    const timeout = props.timeout ?? Duration.hours(1);
    if (!timeout.isUnresolved() && (timeout.toSeconds() < 60 || timeout.toHours({ integral: false }) > 2)) {
      throw new Error(`timeout is ${timeout.toHumanString()}; a RedisSnapshot waits from 1 minute to 2 hours (the Provider framework's limit)`);
    }
    const group = props.replicationGroup;
    const cacheClusterId = snapshotSourceMember(group, props.source, 'source');

    const provider = BackupProvider.of(this, timeout);
    provider.grantSnapshot(group, props.snapshotName, cacheClusterId);

    const properties: RedisSnapshotResourceProperties = {
      ReplicationGroupId: group.replicationGroupId,
      SnapshotName: props.snapshotName,
      CacheClusterId: cacheClusterId,
      Removal: removal === RemovalPolicy.DESTROY ? 'destroy' : 'retain',
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
