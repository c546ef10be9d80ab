import { Annotations, CfnResource, CustomResource, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { RedisAuthentication, RedisAuthenticationKind } from './auth';
import { BackupSourceKind, RedisBackupProps } from './backup';
import { elastiCacheArn } from './private/arns';
import { checkOfferedEngineVersion } from './private/engine-versions';
import { FinalSnapshotResourceProperties } from './private/final-snapshot-contract';
import { recordGroupFacts } from './private/group-facts';
import { checkName, checkSnapshotNameToRestore, MAX_GROUP_ID_LENGTH, MAX_SNAPSHOT_NAME_LENGTH, nameFromPath } from './private/names';
import { BackupProvider } from './private/provider';
import { slotRanges } from './private/slots';
import { windowsOverlap } from './private/window-range';
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
   * The Redis OSS engine version: one ElastiCache offers, `4.0.10`, `5.0.0`, `5.0.3` to `5.0.6`,
   * `6.0`, `6.2`, `6.x`, `7.0` or `7.1`. Redis OSS ends at 7.1 (later versions are Valkey's).
   *
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

const DEFAULT_RETENTION_DAYS = 15;
const DEFAULT_ENGINE_VERSION = '7.1';
const DEFAULT_PORT = 6379;

/**
 * An ElastiCache Redis OSS replication group with its backup plan declared and checked at synth time.
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
    const engineVersion = props.engineVersion ?? DEFAULT_ENGINE_VERSION;
    const transitEncryption = props.transitEncryption ?? true;
    const atRestEncryption = props.atRestEncryption ?? true;
    const authentication = props.authentication
      ?? (transitEncryption ? RedisAuthentication.authToken() : RedisAuthentication.none());
    const groupId = props.replicationGroupId ?? defaultGroupId(this);
    const hasReplicas = this.replicasPerShard > 0;

    // Checks, in the order a reader would meet the props.
    checkName('replicationGroupId', groupId, MAX_GROUP_ID_LENGTH);
    checkNodeType(props.nodeType);
    const engine = parseEngineVersion(engineVersion);
    checkTopology(this.clusterMode, this.shards, this.replicasPerShard);
    const multiAz = props.multiAz ?? hasReplicas;
    if (multiAz && !hasReplicas) {
      throw new Error('multiAz is true but replicasPerShard is 0; Multi-AZ needs at least one replica to fail over to');
    }
    checkPort(this.port);
    checkSecurity(authentication, transitEncryption, atRestEncryption, props.encryptionKey, engine);

    const backup = resolveBackup(props.backup);
    const snapshotRange = backup.window?._validate('backup.window');
    const maintenanceRange = props.maintenanceWindow?._validate('maintenanceWindow');
    if (snapshotRange && maintenanceRange && windowsOverlap(snapshotRange, maintenanceRange)) {
      throw new Error(`backup.window '${backup.window}' overlaps maintenanceWindow '${props.maintenanceWindow}'; ElastiCache needs the snapshot window and the maintenance window not to overlap (the snapshot window repeats every day)`);
    }
    if (backup.retentionDays > 0 && !clustered && !Token.isUnresolved(props.nodeType) && props.nodeType === 'cache.t1.micro') {
      throw new Error(`backup.retention is ${backup.retentionDays} days but nodeType 'cache.t1.micro' with cluster mode disabled cannot take snapshots (SnapshotFeatureNotSupportedFault); use a current node type or set backup.retention to Duration.days(0)`);
    }
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

    const seed = checkRestore(props.restoreFrom, props.nodeType, this.clusterMode, this.shards);
    if (props.restoreFrom) {
      Annotations.of(this).addWarningV2('cdk-elasticache-backup:restoreFromReplaces',
        'restoreFrom seeds the group when it is created. It is a create-only property: changing, adding or removing it replaces the replication group (the old one is removed with its removal policy).');
    }

    // Resources.
    const subnets = props.vpc.selectSubnets(props.vpcSubnets);
    if (multiAz) {
      const zones = subnets.availabilityZones;
      if (zones.length > 0 && zones.every((az) => !Token.isUnresolved(az)) && new Set(zones).size < 2) {
        throw new Error(`multiAz is true but vpcSubnets selects subnets in one Availability Zone (${zones[0]}); Multi-AZ needs subnets in at least two`);
      }
    }
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: `Subnets of ${this.node.path}`,
      subnetIds: subnets.subnetIds,
    });

    this.securityGroups = props.securityGroups ?? [
      new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: props.vpc,
        description: `Redis replication group ${this.node.path}`,
        // Redis nodes never open connections out of the VPC.
        allowAllOutbound: false,
      }),
    ];
    this.connections = new ec2.Connections({ securityGroups: this.securityGroups, defaultPort: ec2.Port.tcp(this.port) });

    const parameterGroupName = this.parameterGroup(props.parameters, engine, clustered);

    let authToken: string | undefined;
    if (authentication.kind === RedisAuthenticationKind.AUTH_TOKEN) {
      this.secret = authentication.secret ?? new secretsmanager.Secret(this, 'AuthToken', {
        description: `Redis AUTH token of ${this.node.path}`,
        encryptionKey: authentication.encryptionKey,
        generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      });
      authToken = this.secret.secretValue.unsafeUnwrap();
    }

    this.cfnReplicationGroup = new elasticache.CfnReplicationGroup(this, 'Resource', {
      replicationGroupId: groupId,
      replicationGroupDescription: props.description ?? `Redis replication group ${this.node.path}`,
      engine: 'redis',
      engineVersion,
      cacheNodeType: props.nodeType,
      dataTieringEnabled: this.dataTiering ? true : undefined,
      clusterMode: this.clusterMode,
      numCacheClusters: clustered ? undefined : 1 + this.replicasPerShard,
      numNodeGroups: clustered ? this.shards : undefined,
      replicasPerNodeGroup: clustered ? this.replicasPerShard : undefined,
      nodeGroupConfiguration: clustered && seed ? slotRanges(this.shards).map((slots, i) => ({
        nodeGroupId: String(i + 1).padStart(4, '0'),
        slots,
        replicaCount: this.replicasPerShard,
      })) : undefined,
      automaticFailoverEnabled: clustered || hasReplicas,
      multiAzEnabled: multiAz,
      port: this.port,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: this.securityGroups.map((sg) => sg.securityGroupId),
      cacheParameterGroupName: parameterGroupName,
      atRestEncryptionEnabled: atRestEncryption,
      kmsKeyId: props.encryptionKey?.keyArn,
      transitEncryptionEnabled: transitEncryption,
      transitEncryptionMode: transitEncryption && engine.major >= 7 ? 'required' : undefined,
      authToken,
      userGroupIds: authentication.userGroupIds,
      snapshotRetentionLimit: backup.retentionDays,
      snapshotWindow: backup.retentionDays > 0 ? backup.window?.toString() : undefined,
      snapshottingClusterId: this.snapshottingClusterId,
      preferredMaintenanceWindow: props.maintenanceWindow?.toString(),
      snapshotName: seed?.snapshotName,
      snapshotArns: seed?.rdbObjectArns,
    });
    // ElastiCache can't create the group before its subnet group exists.
    this.cfnReplicationGroup.addDependency(subnetGroup);
    // DeletionPolicy and UpdateReplacePolicy both: a replacement must not lose the data either.
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.SNAPSHOT;
    this.cfnReplicationGroup.applyRemovalPolicy(removalPolicy);
    this.keepWhatOutlivesTheStack(removalPolicy, subnetGroup);

    this.replicationGroupId = this.cfnReplicationGroup.ref;
    this.replicationGroupArn = elastiCacheArn(this, 'replicationgroup', this.replicationGroupId);
    const finalSnapshotName = props.backup?.finalSnapshotName;
    if (finalSnapshotName !== undefined) {
      this.finalSnapshot(finalSnapshotName, props.removalPolicy, props.nodeType, clustered);
    }
    this.endpointAddress = clustered
      ? this.cfnReplicationGroup.attrConfigurationEndPointAddress
      : this.cfnReplicationGroup.attrPrimaryEndPointAddress;
    this.readerEndpointAddress = clustered ? undefined : this.cfnReplicationGroup.attrReaderEndPointAddress;
  }

  /**
   * A named final snapshot: CloudFormation keeps the group (RetainExceptOnCreate, Retain on
   * replacement) and a custom resource deletes it with `FinalSnapshotIdentifier` when CloudFormation
   * says the group is leaving, waiting until the snapshot is available and the group gone.
   */
  private finalSnapshot(name: string, removalPolicy: RemovalPolicy | undefined, nodeType: string, clustered: boolean): void {
    checkName('backup.finalSnapshotName', name, MAX_SNAPSHOT_NAME_LENGTH);
    if (removalPolicy !== undefined && removalPolicy !== RemovalPolicy.SNAPSHOT) {
      throw new Error(`backup.finalSnapshotName is '${name}' but removalPolicy is ${removalPolicy}; a named final snapshot takes the place of RemovalPolicy.SNAPSHOT (leave removalPolicy unset)`);
    }
    if (!clustered && !Token.isUnresolved(nodeType) && nodeType === 'cache.t1.micro') {
      throw new Error(`backup.finalSnapshotName is '${name}' but nodeType 'cache.t1.micro' with cluster mode disabled cannot take snapshots (SnapshotFeatureNotSupportedFault)`);
    }
    // CloudFormation keeps the group when it leaves the stack or is replaced; the custom resource
    // below deletes it then, with the named snapshot. A group created by a failed operation is new,
    // holds nothing but its seed, and is deleted by CloudFormation on rollback (RetainExceptOnCreate),
    // so that a retry does not find its id taken.
    this.cfnReplicationGroup.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
    const provider = BackupProvider.of(this);
    // Every member by name (no wildcard): after a failover the primary may be any of them.
    const members = clustered
      ? Array.from({ length: this.shards }, (_, s) => Array.from({ length: 1 + this.replicasPerShard },
        (__, r) => `${String(s + 1).padStart(4, '0')}-${String(r + 1).padStart(3, '0')}`)).flat()
      : Array.from({ length: 1 + this.replicasPerShard }, (_, r) => String(r + 1).padStart(3, '0'));
    provider.grantFinalSnapshot(this.replicationGroupArn, members.map((m) => this.memberArn(m)), name);
    const properties: FinalSnapshotResourceProperties = {
      ReplicationGroupId: this.replicationGroupId,
      FinalSnapshotName: name,
      ReplicationGroupLogicalId: Stack.of(this).getLogicalId(this.cfnReplicationGroup),
    };
    new CustomResource(this, 'FinalSnapshot', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::RedisFinalSnapshot',
      properties,
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
      return clustered ? `default.${engine.family}.cluster.on` : undefined;
    }
    if (engine.family === undefined) {
      throw new Error('parameters are given but engineVersion is a token; the parameter group family is derived from a known engineVersion');
    }
    if (clustered && parameters['cluster-enabled'] === 'no') {
      throw new Error("parameters sets 'cluster-enabled' to 'no' but clusterMode is ClusterMode.ENABLED; a cluster needs 'cluster-enabled' 'yes'");
    }
    const group = new elasticache.CfnParameterGroup(this, 'ParameterGroup', {
      cacheParameterGroupFamily: engine.family,
      description: `Parameters of ${this.node.path}`,
      properties: clustered ? { ...parameters, 'cluster-enabled': 'yes' } : parameters,
    });
    return group.ref;
  }
}

interface ResolvedBackup {
  readonly retentionDays: number;
  readonly window?: RedisBackupProps['window'];
  readonly source?: RedisBackupProps['source'];
}

function resolveBackup(backup: RedisBackupProps | undefined): ResolvedBackup {
  if (!backup) {
    return { retentionDays: DEFAULT_RETENTION_DAYS };
  }
  const retention = backup.retention;
  if (retention.isUnresolved()) {
    throw new Error('backup.retention is a token; it must be known at synth time to set the snapshotting node');
  }
  const days = retention.toDays({ integral: false });
  if (!Number.isInteger(days)) {
    throw new Error(`backup.retention is ${retention.toHumanString()}, which is not a whole number of days; ElastiCache keeps snapshots for whole days (SnapshotRetentionLimit)`);
  }
  if (days < 0 || days > 35) {
    throw new Error(`backup.retention is ${days} days; ElastiCache keeps automatic snapshots for 0 to 35 days (0 turns them off)`);
  }
  return { retentionDays: days, window: backup.window, source: backup.source };
}

function snapshottingMember(backup: ResolvedBackup, groupId: string, clusterMode: ClusterMode, replicas: number): string | undefined {
  const source = backup.source;
  if (clusterMode === ClusterMode.ENABLED) {
    if (source) {
      throw new Error(`backup.source is BackupSource.${source.kind}(${source.cacheClusterId ? `'${source.cacheClusterId}'` : ''}) but clusterMode is ClusterMode.ENABLED; ElastiCache cannot set a snapshotting cluster for a cluster mode enabled group (it snapshots every shard itself)`);
    }
    return undefined;
  }
  const members = Array.from({ length: 1 + replicas }, (_, i) => `${groupId}-${String(i + 1).padStart(3, '0')}`);
  switch (source?.kind) {
    case undefined:
      // ElastiCache rejects a retention without a snapshotting cluster once there are replicas.
      return replicas > 0 ? members[1] : members[0];
    case BackupSourceKind.PRIMARY:
      return members[0];
    case BackupSourceKind.REPLICA:
      if (replicas === 0) {
        throw new Error('backup.source is BackupSource.replica() but replicasPerShard is 0; use BackupSource.primary() or add a replica');
      }
      return members[1];
    case BackupSourceKind.MEMBER: {
      const member = source.cacheClusterId!;
      if (Token.isUnresolved(member) || Token.isUnresolved(groupId)) {
        return member;
      }
      if (!members.includes(member)) {
        throw new Error(`backup.source member '${member}' does not exist; replication group '${groupId}' has members ${members.join(', ')}`);
      }
      return member;
    }
    default:
      throw new Error('backup.source has an unknown kind');
  }
}

interface Seed {
  readonly snapshotName?: string;
  readonly rdbObjectArns?: string[];
}

const S3_OBJECT_ARN = /^arn:aws[a-z-]*:s3:::([^/]+)\/(.+)$/;
const BUCKET_NAME = /^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function checkRestore(source: RestoreSource | undefined, nodeType: string, clusterMode: ClusterMode, shards: number): Seed | undefined {
  if (!source) {
    return undefined;
  }
  if (source.snapshotName !== undefined) {
    checkSnapshotNameToRestore('restoreFrom snapshot name', source.snapshotName);
    const from = source.sourceNodeType;
    if (from && !Token.isUnresolved(from) && !Token.isUnresolved(nodeType) && isDataTiering(from) && !isDataTiering(nodeType)) {
      throw new Error(`restoreFrom snapshot '${source.snapshotName}' was taken from data-tiering node type '${from}' but nodeType is '${nodeType}'; a data-tiering snapshot restores only into data-tiering (cache.r6gd.*) nodes`);
    }
    return { snapshotName: source.snapshotName };
  }
  const arns = source.rdbObjectArns ?? [];
  if (arns.length === 0) {
    throw new Error('restoreFrom has no RDB object ARNs; give one per shard');
  }
  arns.forEach((arn, i) => {
    const prop = `restoreFrom RDB object ARN #${i + 1}`;
    // Checked before the token test: the literal parts of a token string (the key given to
    // RestoreSource.fromBucket) are plain text.
    if (arn.includes(',')) {
      throw new Error(`${prop} '${arn}' contains a comma; ElastiCache takes SnapshotArns as a comma-separated list, so an object ARN cannot contain one`);
    }
    if (Token.isUnresolved(arn)) {
      return;
    }
    const match = S3_OBJECT_ARN.exec(arn);
    if (!match) {
      throw new Error(`${prop} '${arn}' is not an S3 object ARN; ElastiCache expects arn:aws:s3:::bucket/key.rdb`);
    }
    if (!BUCKET_NAME.test(match[1]) || match[1].includes('..')) {
      throw new Error(`${prop} '${arn}' names bucket '${match[1]}', which is not a DNS-compliant bucket name (3 to 63 lower-case letters, digits, dots or hyphens)`);
    }
  });
  const expected = clusterMode === ClusterMode.ENABLED ? shards : 1;
  if (arns.length !== expected) {
    throw new Error(`restoreFrom has ${arns.length} RDB object ARNs but the group has ${expected} shard${expected === 1 ? '' : 's'}; ElastiCache seeds one shard from each RDB file`);
  }
  return { rdbObjectArns: arns };
}

interface EngineVersion {
  readonly major: number;
  /** The parameter group family, undefined when the version is a token. */
  readonly family?: string;
  readonly minor?: number;
}

function parseEngineVersion(version: string): EngineVersion {
  if (Token.isUnresolved(version)) {
    // Assume a current engine; nothing version-specific is checked.
    return { major: 7 };
  }
  const match = /^(\d+)\.(\d+|x)(\.\d+)?$/.exec(version);
  if (!match) {
    throw new Error(`engineVersion '${version}' is not a Redis OSS version such as '7.1' or '6.2'`);
  }
  const major = Number(match[1]);
  const minor = match[2] === 'x' ? undefined : Number(match[2]);
  if (major < 4) {
    throw new Error(`engineVersion '${version}' is older than Redis OSS 4.0.10, the first version with encryption and the oldest ElastiCache still runs`);
  }
  checkOfferedEngineVersion(version);
  let family: string;
  if (major >= 7) {
    family = `redis${major}`;
  } else if (major === 6) {
    family = 'redis6.x';
  } else {
    family = `redis${major}.${minor ?? 0}`;
  }
  return { major, minor, family };
}

function checkNodeType(nodeType: string): void {
  if (Token.isUnresolved(nodeType)) {
    return;
  }
  if (!/^cache\.[a-z0-9]+\.[a-z0-9]+$/.test(nodeType)) {
    throw new Error(`nodeType '${nodeType}' is not an ElastiCache node type such as 'cache.r7g.large'`);
  }
}

function checkTopology(clusterMode: ClusterMode, shards: number, replicas: number): void {
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > 5) {
    throw new Error(`replicasPerShard is ${replicas}; ElastiCache allows 0 to 5 replicas per shard`);
  }
  if (clusterMode === ClusterMode.DISABLED && shards !== 1) {
    throw new Error(`shards is ${shards} but clusterMode is ClusterMode.DISABLED; a group with cluster mode disabled has exactly 1 shard (use ClusterMode.ENABLED to shard)`);
  }
  if (!Number.isInteger(shards) || shards < 1 || shards > 500) {
    throw new Error(`shards is ${shards}; ElastiCache allows 1 to 500 shards`);
  }
  if (shards * (1 + replicas) > 500) {
    throw new Error(`shards ${shards} with ${replicas} replicas each is ${shards * (1 + replicas)} nodes; ElastiCache allows at most 500 nodes in a group`);
  }
}

function checkPort(port: number): void {
  if (Token.isUnresolved(port)) {
    return;
  }
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    throw new Error(`port is ${port}; ElastiCache accepts ports 1024 to 65535`);
  }
}

function checkSecurity(auth: RedisAuthentication, transit: boolean, atRest: boolean, key: kms.IKey | undefined, engine: EngineVersion): void {
  if (auth.kind !== RedisAuthenticationKind.NONE && !transit) {
    throw new Error(`authentication is ${auth.kind === RedisAuthenticationKind.AUTH_TOKEN ? 'RedisAuthentication.authToken()' : 'RedisAuthentication.userGroups()'} but transitEncryption is false; ElastiCache accepts AUTH tokens and user groups only with encryption in transit`);
  }
  if (auth.kind === RedisAuthenticationKind.USER_GROUPS) {
    if (!auth.userGroupIds || auth.userGroupIds.length === 0) {
      throw new Error('authentication is RedisAuthentication.userGroups([]) with no user group; give at least one user group id');
    }
    if (engine.major < 6) {
      throw new Error(`authentication is RedisAuthentication.userGroups() but engineVersion is ${engine.major}.x; role-based access control needs Redis OSS 6.0 or later`);
    }
  }
  if (key && !atRest) {
    throw new Error('encryptionKey is given but atRestEncryption is false; the key is only used for encryption at rest');
  }
}

function isDataTiering(nodeType: string): boolean {
  return !Token.isUnresolved(nodeType) && /^cache\.r6gd\./.test(nodeType);
}

/**
 * A replication group id derived from the construct path: unique in the app, stable across
 * deployments, and valid under ElastiCache's rules (lower case, starts with a letter, no `--`,
 * at most 40 characters).
 */
function defaultGroupId(scope: Construct): string {
  const unique = nameFromPath(scope, MAX_GROUP_ID_LENGTH - 2);
  return /^[a-z]/.test(unique) ? unique : `r-${unique}`.slice(0, MAX_GROUP_ID_LENGTH);
}
