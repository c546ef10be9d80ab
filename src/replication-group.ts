import { Annotations, CfnResource, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { RedisAuthentication, RedisAuthenticationKind } from './auth';
import { RedisBackupProps } from './backup';
import { CacheEngine, ElastiCacheEngine } from './engine';
import { claimName, Namespace } from './private/app-registry';
import { elastiCacheArn } from './private/arns';
import { AuthTokenRotation } from './private/auth-token-rotation';
import { addResourceDependency } from './private/dependencies';
import { FinalSnapshot } from './private/final-snapshot';
import { recordGroupFacts } from './private/group-facts';
import { nodeGroupId } from './private/members';
import { checkName, defaultGroupId, MAX_GROUP_ID_LENGTH } from './private/names';
import { PreUpdateSnapshot } from './private/pre-update-snapshot';
import {
  checkAutomaticSnapshotsSupported, checkBackupWindows, checkFinalSnapshot, checkSnapshotBeforeUpdate, resolveBackup, snapshottingMember,
} from './private/rules/backup';
import { defaultParameterGroupName, EngineVersion, parameterGroupProperties, resolveEngine, transitEncryptionMode } from './private/rules/engine';
import { checkPort } from './private/rules/network';
import { checkNodeType, isDataTiering } from './private/rules/node-type';
import { checkRestore } from './private/rules/restore';
import { checkRotation, checkSecurity } from './private/rules/security';
import { automaticFailover, checkMultiAz, checkMultiAzSubnets, checkTopology } from './private/rules/topology';
import { slotRanges } from './private/slots';
import { ClusterMode, IRedisReplicationGroup, RedisReplicationGroupAttributes, RedisReplicationGroupBase } from './replication-group-base';
import { RestoreSource } from './restore';
import { MaintenanceWindow } from './windows';

/**
 * Properties of a `RedisReplicationGroup`.
 */
export interface RedisReplicationGroupProps {
  /**
   * The VPC the group runs in.
   */
  readonly vpc: ec2.IVpc;

  /**
   * The subnets of the group's subnet group.
   *
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups of the group.
   *
   * @default - a new security group that allows no inbound traffic; open it with `connections`
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * The replication group id: 1 to 40 lower-case letters, digits or hyphens, starting with a
   * letter, with no `--` and no trailing `-`. Changing it replaces the group. Ids are unique in an
   * account and region: two groups of the app with one id in the same account and region (or both
   * in env-agnostic stacks) fail synth.
   *
   * @default - an id derived from the construct path, stable across deployments
   */
  readonly replicationGroupId?: string;

  /**
   * A description of the group.
   *
   * @default - the construct path
   */
  readonly description?: string;

  /**
   * The node type, e.g. `cache.r7g.large`.
   */
  readonly nodeType: string;

  /**
   * The engine and its version: `ElastiCacheEngine.redis(RedisEngineVersion.VER_7_1)` or
   * `ElastiCacheEngine.valkey(ValkeyEngineVersion.VER_8_0)`. It sets `Engine`, `EngineVersion` and
   * the parameter group family. Changing the engine from Redis OSS to Valkey is an in-place upgrade
   * in ElastiCache; whether CloudFormation applies it without replacing the group is not confirmed here.
   *
   * @default - Redis OSS 7.1 (`ElastiCacheEngine.redis(RedisEngineVersion.VER_7_1)`), or Redis OSS at
   * `engineVersion` when that is given
   */
  readonly engine?: ElastiCacheEngine;

  /**
   * The Redis OSS engine version as a string: one ElastiCache offers, `4.0.10`, `5.0.0`, `5.0.3` to
   * `5.0.6`, `6.0`, `6.2`, `6.x`, `7.0` or `7.1`. Redis OSS ends at 7.1 (later versions are
   * Valkey's). Cannot be given with `engine`.
   *
   * @deprecated use `engine: ElastiCacheEngine.redis(RedisEngineVersion.VER_7_1)` (or `.valkey(...)`)
   * @default '7.1'
   */
  readonly engineVersion?: string;

  /**
   * Whether the group is a Redis Cluster. Changing it replaces the group.
   *
   * @default ClusterMode.DISABLED
   */
  readonly clusterMode?: ClusterMode;

  /**
   * The number of shards (node groups): 1 with cluster mode disabled, 1 to 500 with it enabled.
   *
   * @default 1
   */
  readonly shards?: number;

  /**
   * The number of replicas of each shard's primary, 0 to 5.
   *
   * @default 1
   */
  readonly replicasPerShard?: number;

  /**
   * Whether ElastiCache places replicas in other Availability Zones than their primary and fails
   * over to them. Needs at least one replica. Automatic failover is on whenever there are replicas
   * (and always with cluster mode enabled).
   *
   * @default - true when there are replicas
   */
  readonly multiAz?: boolean;

  /**
   * The port clients connect to.
   *
   * @default 6379
   */
  readonly port?: number;

  /**
   * Whether data at rest (on disk and in snapshots) is encrypted.
   *
   * @default true
   */
  readonly atRestEncryption?: boolean;

  /**
   * The KMS key for encryption at rest.
   *
   * @default - the AWS owned key of ElastiCache
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Whether traffic to and between nodes is encrypted with TLS (required by both kinds of
   * authentication).
   *
   * @default true
   */
  readonly transitEncryption?: boolean;

  /**
   * How clients authenticate.
   *
   * @default - `RedisAuthentication.authToken()`: Redis AUTH with a generated secret when transit
   * encryption is on; `RedisAuthentication.none()` when it is off
   */
  readonly authentication?: RedisAuthentication;

  /**
   * Redis parameters to set in a parameter group made for the group, e.g.
   * `{ 'reserved-memory-percent': '30' }`. With cluster mode enabled, `cluster-enabled` is set to `yes`.
   *
   * @default - the engine's default parameter group (`default.redis7`, or `default.redis7.cluster.on`
   * with cluster mode enabled)
   */
  readonly parameters?: { [name: string]: string };

  /**
   * The backup plan: retention of automatic snapshots, their window and source node.
   *
   * @default - automatic snapshots kept for 15 days (the least the cdk-nag HIPAA Security and
   * NIST 800-53 packs accept), in a window chosen by ElastiCache, from a replica when there is one
   */
  readonly backup?: RedisBackupProps;

  /**
   * The weekly maintenance window. It must not overlap the snapshot window.
   *
   * @default - a 60-minute window chosen by ElastiCache
   */
  readonly maintenanceWindow?: MaintenanceWindow;

  /**
   * Data to seed the new group with: an ElastiCache snapshot, or RDB files in S3. This is a
   * create-only property: **changing it, adding it or removing it replaces the group.**
   *
   * @default - the group starts empty
   */
  readonly restoreFrom?: RestoreSource;

  /**
   * What happens to the group when it is removed from the stack or replaced.
   *
   * With `RemovalPolicy.RETAIN` (or `RETAIN_ON_UPDATE_OR_DELETE`) the group outlives the stack, and so
   * do the AUTH token secret, subnet group, security group and parameter group this construct made
   * for it, so that the retained group can still be used and the stack deletion does not fail on
   * a security group in use. With `SNAPSHOT` the group is deleted after its snapshot, which needs
   * none of them to be restored.
   *
   * @default RemovalPolicy.SNAPSHOT (on deletion and on replacement)
   */
  readonly removalPolicy?: RemovalPolicy;
}

const DEFAULT_PORT = 6379;

/**
 * An ElastiCache replication group (Redis OSS or Valkey) with its backup plan declared and checked at synth time.
 *
 * Comes with its subnet group, security group, an AUTH token secret and, where needed, a parameter
 * group. Backups are on by default.
 *
 * @resource AWS::ElastiCache::ReplicationGroup
 */
export class RedisReplicationGroup extends RedisReplicationGroupBase {
  /**
   * Refers to a replication group defined elsewhere.
   */
  public static fromReplicationGroupAttributes(scope: Construct, id: string, attrs: RedisReplicationGroupAttributes): IRedisReplicationGroup {
    class Import extends RedisReplicationGroupBase {
      public readonly replicationGroupId = attrs.replicationGroupId;
      public readonly replicationGroupArn = elastiCacheArn(scope, 'replicationgroup', attrs.replicationGroupId);
      public readonly clusterMode = attrs.clusterMode ?? ClusterMode.DISABLED;
      public readonly connections = new ec2.Connections({
        securityGroups: attrs.securityGroups,
        defaultPort: ec2.Port.tcp(attrs.port ?? DEFAULT_PORT),
      });
    }
    return new Import(scope, id);
  }

  public readonly replicationGroupId: string;
  public readonly replicationGroupArn: string;
  public readonly clusterMode: ClusterMode;
  public readonly connections: ec2.Connections;

  /**
   * The address clients connect to: the primary endpoint with cluster mode disabled, the
   * configuration endpoint with it enabled.
   *
   * @attribute
   */
  public readonly endpointAddress: string;

  /**
   * The reader endpoint, which spreads reads over the replicas. Only with cluster mode disabled.
   *
   * @attribute
   */
  public readonly readerEndpointAddress?: string;

  /**
   * The port clients connect to.
   */
  public readonly port: number;

  /**
   * The secret that holds the AUTH token, when Redis AUTH is used.
   */
  public readonly secret?: secretsmanager.ISecret;

  /**
   * The security groups of the group.
   */
  public readonly securityGroups: ec2.ISecurityGroup[];

  /**
   * The number of shards.
   */
  public readonly shards: number;

  /**
   * The group's engine and engine version.
   */
  public readonly engine: ElastiCacheEngine;

  /**
   * The number of replicas per shard.
   */
  public readonly replicasPerShard: number;

  /**
   * The member automatic snapshots are taken from (`SnapshottingClusterId`), when one is set.
   */
  public readonly snapshottingClusterId?: string;

  /**
   * Whether the group runs on data tiering nodes (r6gd). Snapshots of such groups cannot be
   * exported to S3.
   */
  public readonly dataTiering: boolean;

  /**
   * The underlying CloudFormation resource.
   */
  public readonly cfnReplicationGroup: elasticache.CfnReplicationGroup;

  constructor(scope: Construct, id: string, props: RedisReplicationGroupProps) {
    super(scope, id);

    this.clusterMode = props.clusterMode ?? ClusterMode.DISABLED;
    const clustered = this.clusterMode === ClusterMode.ENABLED;
    this.shards = props.shards ?? 1;
    this.replicasPerShard = props.replicasPerShard ?? 1;
    this.port = props.port ?? DEFAULT_PORT;
    const transitEncryption = props.transitEncryption ?? true;
    const atRestEncryption = props.atRestEncryption ?? true;
    const authentication = props.authentication
      ?? (transitEncryption ? RedisAuthentication.authToken() : RedisAuthentication.none());
    const groupId = props.replicationGroupId ?? defaultGroupId(this);
    const multiAz = props.multiAz ?? this.replicasPerShard > 0;

    // Checks, in the order a reader would meet the props (the rules are in private/rules/).
    checkName('replicationGroupId', groupId, MAX_GROUP_ID_LENGTH);
    checkNodeType(props.nodeType);
    const engine = resolveEngine(props.engine, props.engineVersion);
    this.engine = props.engine ?? ElastiCacheEngine._of(engine.engine, engine.version);
    checkTopology(this.clusterMode, this.shards, this.replicasPerShard);
    checkMultiAz(multiAz, this.replicasPerShard);
    checkPort(this.port);
    checkSecurity(authentication, transitEncryption, atRestEncryption, props.encryptionKey, engine);
    checkRotation(authentication.rotation);

    const backup = resolveBackup(props.backup);
    const { snapshotRange, maintenanceRange } = checkBackupWindows(backup, props.maintenanceWindow);
    checkAutomaticSnapshotsSupported(backup, props.nodeType, clustered);
    if (backup.retentionDays === 0 && (props.backup?.window || props.backup?.source)) {
      Annotations.of(this).addWarningV2('cdk-elasticache-backup:backupOff',
        'backup.retention is 0 days, so automatic backups are off and backup.window and backup.source are not used');
    }
    this.snapshottingClusterId = backup.retentionDays > 0
      ? snapshottingMember(backup, groupId, this.clusterMode, this.replicasPerShard)
      : undefined;

    this.dataTiering = isDataTiering(props.nodeType);
    recordGroupFacts(this, {
      groupId,
      clustered,
      shards: this.shards,
      replicasPerShard: this.replicasPerShard,
      snapshotWindow: backup.retentionDays > 0 && snapshotRange ? { text: backup.window!.toString(), range: snapshotRange } : undefined,
      maintenanceWindow: maintenanceRange ? { text: props.maintenanceWindow!.toString(), range: maintenanceRange } : undefined,
      finalSnapshotName: props.backup?.finalSnapshotName,
    });

    const seed = checkRestore(props.restoreFrom, props.nodeType, this.clusterMode, this.shards, engine);
    if (props.restoreFrom) {
      Annotations.of(this).addWarningV2('cdk-elasticache-backup:restoreFromReplaces',
        'restoreFrom seeds the group when it is created. It is a create-only property: changing, adding or removing it replaces the replication group (the old one is removed with its removal policy).');
    }

    // Resources.
    const subnetGroup = this.subnetGroup(props.vpc, props.vpcSubnets, multiAz);
    this.securityGroups = props.securityGroups ?? [this.securityGroup(props.vpc)];
    this.connections = new ec2.Connections({ securityGroups: this.securityGroups, defaultPort: ec2.Port.tcp(this.port) });
    const parameterGroupName = this.parameterGroup(props.parameters, engine, clustered);
    this.secret = this.authTokenSecret(authentication);

    this.cfnReplicationGroup = new elasticache.CfnReplicationGroup(this, 'Resource', {
      replicationGroupId: groupId,
      replicationGroupDescription: props.description ?? `${engine.engine === CacheEngine.VALKEY ? 'Valkey' : 'Redis'} replication group ${this.node.path}`,
      engine: engine.engine,
      engineVersion: engine.version,
      cacheNodeType: props.nodeType,
      dataTieringEnabled: this.dataTiering ? true : undefined,
      clusterMode: this.clusterMode,
      numCacheClusters: clustered ? undefined : 1 + this.replicasPerShard,
      numNodeGroups: clustered ? this.shards : undefined,
      replicasPerNodeGroup: clustered ? this.replicasPerShard : undefined,
      nodeGroupConfiguration: clustered && seed ? slotRanges(this.shards).map((slots, i) => ({
        nodeGroupId: nodeGroupId(i + 1),
        slots,
        replicaCount: this.replicasPerShard,
      })) : undefined,
      automaticFailoverEnabled: automaticFailover(this.clusterMode, this.replicasPerShard),
      multiAzEnabled: multiAz,
      port: this.port,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: this.securityGroups.map((sg) => sg.securityGroupId),
      cacheParameterGroupName: parameterGroupName,
      atRestEncryptionEnabled: atRestEncryption,
      kmsKeyId: props.encryptionKey?.keyArn,
      // Always explicit: "TransitEncryptionEnabled is required when creating a new valkey replication
      // group" (CloudFormation reference, AWS::ElastiCache::ReplicationGroup; cfn-lint E3704 checks
      // that it is set, true or false).
      transitEncryptionEnabled: transitEncryption,
      transitEncryptionMode: transitEncryptionMode(transitEncryption, engine),
      authToken: this.secret?.secretValue.unsafeUnwrap(),
      userGroupIds: authentication.userGroupIds,
      snapshotRetentionLimit: backup.retentionDays,
      snapshotWindow: backup.retentionDays > 0 ? backup.window?.toString() : undefined,
      snapshottingClusterId: this.snapshottingClusterId,
      preferredMaintenanceWindow: props.maintenanceWindow?.toString(),
      snapshotName: seed?.snapshotName,
      snapshotArns: seed?.rdbObjectArns,
    });
    // ElastiCache can't create the group before its subnet group exists.
    addResourceDependency(this.cfnReplicationGroup, subnetGroup);
    // DeletionPolicy and UpdateReplacePolicy both: a replacement must not lose the data either.
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.SNAPSHOT;
    this.cfnReplicationGroup.applyRemovalPolicy(removalPolicy);
    this.keepWhatOutlivesTheStack(removalPolicy, subnetGroup);

    this.replicationGroupId = this.cfnReplicationGroup.ref;
    this.replicationGroupArn = elastiCacheArn(this, 'replicationgroup', this.replicationGroupId);
    const finalSnapshotName = props.backup?.finalSnapshotName;
    if (finalSnapshotName !== undefined) {
      checkFinalSnapshot(finalSnapshotName, props.removalPolicy, props.nodeType, clustered);
      new FinalSnapshot(this, 'FinalSnapshot', {
        replicationGroup: this.cfnReplicationGroup,
        replicationGroupId: this.replicationGroupId,
        replicationGroupArn: this.replicationGroupArn,
        clustered,
        shards: this.shards,
        replicasPerShard: this.replicasPerShard,
        snapshotName: finalSnapshotName,
      });
    }
    const beforeUpdate = props.backup?.snapshotBeforeUpdate;
    if (beforeUpdate) {
      const { prefix, keep } = checkSnapshotBeforeUpdate(beforeUpdate, groupId, props.nodeType, clustered);
      claimName({ namespace: Namespace.EXPORT_PREFIX, name: prefix, scope: this, prop: 'backup.snapshotBeforeUpdate.prefix', perEnvironment: false },
        'snapshots named <prefix>-YYYYMMDD-HHMMSS are pruned by whichever of them keeps that prefix, so each needs a prefix of its own');
      new PreUpdateSnapshot(this, 'PreUpdateSnapshot', {
        group: this.cfnReplicationGroup,
        groupId,
        // The backup source, as automatic snapshots use (a replica by default); the group's own
        // choice when there is none (backups off, or cluster mode enabled).
        cacheClusterId: this.snapshottingClusterId,
        prefix,
        keep,
      });
    }
    if (authentication.rotation && this.secret) {
      new AuthTokenRotation(this, 'AuthTokenRotation', {
        secret: this.secret,
        rotation: authentication.rotation,
        endpoints: authentication.rotationEndpoints ?? false,
        vpc: props.vpc,
        vpcSubnets: props.vpcSubnets,
        groupConnections: this.connections,
        groupId: this.replicationGroupId,
        groupArn: this.replicationGroupArn,
        group: this.cfnReplicationGroup,
      });
    }
    this.endpointAddress = clustered
      ? this.cfnReplicationGroup.attrConfigurationEndPointAddress
      : this.cfnReplicationGroup.attrPrimaryEndPointAddress;
    this.readerEndpointAddress = clustered ? undefined : this.cfnReplicationGroup.attrReaderEndPointAddress;
  }

  /** The subnet group: the selected subnets, in two Availability Zones at least with Multi-AZ. */
  private subnetGroup(vpc: ec2.IVpc, vpcSubnets: ec2.SubnetSelection | undefined, multiAz: boolean): elasticache.CfnSubnetGroup {
    const subnets = vpc.selectSubnets(vpcSubnets);
    checkMultiAzSubnets(multiAz, subnets.availabilityZones);
    return new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: `Subnets of ${this.node.path}`,
      subnetIds: subnets.subnetIds,
    });
  }

  /** A security group of the group's own, made when none is given: no inbound, no outbound. */
  private securityGroup(vpc: ec2.IVpc): ec2.ISecurityGroup {
    return new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: `Redis replication group ${this.node.path}`,
      // Redis nodes never open connections out of the VPC.
      allowAllOutbound: false,
    });
  }

  /** The secret that holds the AUTH token (the one given, or a generated one), when Redis AUTH is used. */
  private authTokenSecret(authentication: RedisAuthentication): secretsmanager.ISecret | undefined {
    if (authentication.kind !== RedisAuthenticationKind.AUTH_TOKEN) {
      return undefined;
    }
    return authentication.secret ?? new secretsmanager.Secret(this, 'AuthToken', {
      description: `Redis AUTH token of ${this.node.path}`,
      encryptionKey: authentication.encryptionKey,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
    });
  }

  /**
   * A group that outlives its stack (RETAIN) is only usable with its AUTH token, its subnet group,
   * its security group and its parameter group, so those the construct made follow the group's
   * removal policy, as aws-rds keeps a retained instance's subnet group. (CloudFormation could not
   * delete a security group or subnet group a live group still uses anyway: the stack deletion
   * would fail.) With SNAPSHOT the group itself is deleted and nothing else needs to stay.
   */
  private keepWhatOutlivesTheStack(policy: RemovalPolicy, subnetGroup: elasticache.CfnSubnetGroup): void {
    if (policy !== RemovalPolicy.RETAIN && policy !== RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE) {
      return;
    }
    subnetGroup.applyRemovalPolicy(policy);
    // The AUTH token secret, security group and parameter group the construct made (an L2's
    // CloudFormation resource is its default child).
    for (const id of ['AuthToken', 'SecurityGroup', 'ParameterGroup']) {
      const child = this.node.tryFindChild(id);
      const resource = child?.node.defaultChild ?? child;
      if (resource instanceof CfnResource) {
        resource.applyRemovalPolicy(policy);
      }
    }
  }

  private parameterGroup(parameters: { [name: string]: string } | undefined, engine: EngineVersion, clustered: boolean): string | undefined {
    if (!parameters || Object.keys(parameters).length === 0) {
      return defaultParameterGroupName(engine, clustered);
    }
    const { family, properties } = parameterGroupProperties(parameters, engine, clustered);
    const group = new elasticache.CfnParameterGroup(this, 'ParameterGroup', {
      cacheParameterGroupFamily: family,
      description: `Parameters of ${this.node.path}`,
      properties,
    });
    return group.ref;
  }
}

