import { Duration, IResource, Resource } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { elastiCacheArn } from './private/arns';
import { firstReplicaMemberId, primaryMemberId } from './private/members';
import { checkHasReplicas } from './private/rules/metrics';

/**
 * Whether the group is a Redis Cluster (data sharded over node groups) or a single primary with
 * replicas.
 */
export enum ClusterMode {
  /** One shard: a primary and up to 5 replicas. */
  DISABLED = 'disabled',
  /** 1 to 500 shards, each a primary and up to 5 replicas; clients must support Redis Cluster. */
  ENABLED = 'enabled',
}

/**
 * Options for a metric of one member (node) of a replication group.
 */
export interface RedisMetricOptions extends cloudwatch.MetricOptions {
  /**
   * The member (cache cluster id) to report on. ElastiCache publishes these metrics per node.
   *
   * @default - the node this metric matters most for: see each `metricXxx` method
   */
  readonly memberId?: string;
}

/**
 * A Redis replication group, defined in this app or imported.
 */
export interface IRedisReplicationGroup extends IResource, ec2.IConnectable {
  /**
   * The replication group id.
   *
   * @attribute
   */
  readonly replicationGroupId: string;

  /**
   * The replication group ARN.
   *
   * @attribute
   */
  readonly replicationGroupArn: string;

  /**
   * Whether the group runs with cluster mode enabled.
   */
  readonly clusterMode: ClusterMode;

  /**
   * Grants `actions` on this replication group.
   */
  grant(grantee: iam.IGrantable, ...actions: string[]): iam.Grant;

  /**
   * Grants what it takes to snapshot this group and watch the snapshot: `CreateSnapshot` on the
   * group, its members and the snapshot, and `DescribeSnapshots`.
   *
   * @param snapshotNamePattern the snapshot names allowed, as an IAM resource pattern
   */
  grantCreateSnapshot(grantee: iam.IGrantable, snapshotNamePattern?: string): iam.Grant;

  /**
   * Grants `DescribeReplicationGroups` on this group and `DescribeCacheClusters` on its members.
   */
  grantDescribe(grantee: iam.IGrantable): iam.Grant;

  /**
   * A metric of one member of the group, in the `AWS/ElastiCache` namespace.
   */
  metric(metricName: string, props?: RedisMetricOptions): cloudwatch.Metric;

  /**
   * Percentage of the memory available to Redis that is in use. Saving a snapshot forks Redis; the
   * copy-on-write memory of that fork must fit in the reserved memory, or the backup fails.
   */
  metricDatabaseMemoryUsagePercentage(props?: RedisMetricOptions): cloudwatch.Metric;

  /**
   * How far (seconds) a replica is behind its primary. A snapshot from a lagging replica misses the
   * latest writes. ElastiCache publishes it for replicas only: for a group defined in this app
   * without replicas, this throws.
   */
  metricReplicationLag(props?: RedisMetricOptions): cloudwatch.Metric;

  /**
   * 1 while a background save (snapshot or full sync) runs on the node, else 0.
   */
  metricSaveInProgress(props?: RedisMetricOptions): cloudwatch.Metric;
}

/**
 * What it takes to refer to a replication group defined elsewhere.
 */
export interface RedisReplicationGroupAttributes {
  /**
   * The replication group id.
   */
  readonly replicationGroupId: string;

  /**
   * The port clients connect to.
   *
   * @default 6379
   */
  readonly port?: number;

  /**
   * The group's security groups, to allow connections through.
   *
   * @default - none: `connections` can't open the group to anything
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * Whether the group runs with cluster mode enabled.
   *
   * @default ClusterMode.DISABLED
   */
  readonly clusterMode?: ClusterMode;
}

/**
 * The parts shared by defined and imported replication groups: grants and metrics.
 */
export abstract class RedisReplicationGroupBase extends Resource implements IRedisReplicationGroup {
  public abstract readonly replicationGroupId: string;
  public abstract readonly replicationGroupArn: string;
  public abstract readonly clusterMode: ClusterMode;
  public abstract readonly connections: ec2.Connections;

  public grant(grantee: iam.IGrantable, ...actions: string[]): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [this.replicationGroupArn] });
  }

  public grantCreateSnapshot(grantee: iam.IGrantable, snapshotNamePattern: string = '*'): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      // CreateSnapshot is authorized against the group (or the member named by CacheClusterId) and
      // against the snapshot it creates.
      actions: ['elasticache:CreateSnapshot'],
      resourceArns: [this.replicationGroupArn, this.memberArn('*'), this.snapshotArn(snapshotNamePattern)],
    });
    grant.combine(iam.Grant.addToPrincipal({
      grantee,
      // Polling the snapshot until it is available; tags are written with the snapshot.
      actions: ['elasticache:DescribeSnapshots', 'elasticache:AddTagsToResource'],
      resourceArns: [this.snapshotArn(snapshotNamePattern)],
    }));
    return grant;
  }

  public grantDescribe(grantee: iam.IGrantable): iam.Grant {
    const grant = this.grant(grantee, 'elasticache:DescribeReplicationGroups');
    grant.combine(iam.Grant.addToPrincipal({
      grantee,
      actions: ['elasticache:DescribeCacheClusters'],
      resourceArns: [this.memberArn('*')],
    }));
    return grant;
  }

  public metric(metricName: string, props: RedisMetricOptions = {}): cloudwatch.Metric {
    const { memberId, ...options } = props;
    return new cloudwatch.Metric({
      namespace: 'AWS/ElastiCache',
      metricName,
      dimensionsMap: { CacheClusterId: memberId ?? primaryMemberId(this.replicationGroupId, this.clusterMode === ClusterMode.ENABLED) },
      period: Duration.minutes(5),
      ...options,
    }).attachTo(this);
  }

  /**
   * Defaults to the node created as the primary (`-001`, or `-0001-001` with cluster mode enabled).
   */
  public metricDatabaseMemoryUsagePercentage(props?: RedisMetricOptions): cloudwatch.Metric {
    return this.metric('DatabaseMemoryUsagePercentage', { statistic: 'Maximum', ...props });
  }

  /**
   * Defaults to the first replica (`-002`, or `-0001-002` with cluster mode enabled). Throws for a
   * group defined in this app that has no replicas.
   */
  public metricReplicationLag(props?: RedisMetricOptions): cloudwatch.Metric {
    checkHasReplicas(this);
    return this.metric('ReplicationLag', { statistic: 'Maximum', memberId: firstReplicaMemberId(this.replicationGroupId, this.clusterMode === ClusterMode.ENABLED), ...props });
  }

  /**
   * Defaults to the node created as the primary (`-001`, or `-0001-001` with cluster mode enabled).
   */
  public metricSaveInProgress(props?: RedisMetricOptions): cloudwatch.Metric {
    return this.metric('SaveInProgress', { statistic: 'Maximum', ...props });
  }

  /** The ARN of a member cache cluster; `suffix` follows `<group id>-`. */
  protected memberArn(suffix: string): string {
    return elastiCacheArn(this, 'cluster', `${this.replicationGroupId}-${suffix}`);
  }

  /** The ARN of a snapshot in this group's account and region. */
  protected snapshotArn(name: string): string {
    return elastiCacheArn(this, 'snapshot', name);
  }
}
