import { Duration, Lazy, Token } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  BackupSource, ClusterMode, DayOfWeek, ElastiCacheEngine, MaintenanceWindow, RedisAuthentication, RedisEngineVersion, RedisReplicationGroup,
  RestoreSource, SnapshotWindow, ValkeyEngineVersion,
} from '../src';
import { GroupProps, groupProperties, groupStack, newStack } from './util';

const NAME_RULE = "ElastiCache names are 1 to 40 lower-case letters, digits or hyphens, start with a letter, and have no '--' and no trailing '-'";
const OFFERED = '4.0.10, 5.0.0, 5.0.3, 5.0.4, 5.0.5, 5.0.6, 6.0, 6.2, 6.x, 7.0, 7.1';
const VALKEY = 'Redis OSS ends at 7.1, and 7.2 and later are Valkey versions: give engine ElastiCacheEngine.valkey(...) instead';
const valkey8 = ElastiCacheEngine.valkey(ValkeyEngineVersion.VER_8_0);
const day = Duration.days(1);
const win = (s: string) => SnapshotWindow.fromString(s);
const mwin = (s: string) => MaintenanceWindow.fromString(s);

describe('every invalid case throws an error naming the prop, the value and the rule', () => {
  const cases: Array<[string, Partial<GroupProps>, string]> = [
    // Names
    ['group id too long', { replicationGroupId: 'a'.repeat(41) },
      `replicationGroupId '${'a'.repeat(41)}' is 41 characters long; ${NAME_RULE}`],
    ['group id empty', { replicationGroupId: '' }, `replicationGroupId '' is 0 characters long; ${NAME_RULE}`],
    ['group id upper case', { replicationGroupId: 'Sessions' },
      `replicationGroupId 'Sessions' has upper-case letters (ElastiCache stores names lower-case); ${NAME_RULE}`],
    ['group id underscore', { replicationGroupId: 'my_group' },
      `replicationGroupId 'my_group' has characters other than letters, digits and hyphens ("_"); ${NAME_RULE}`],
    ['group id starts with digit', { replicationGroupId: '1group' }, `replicationGroupId '1group' does not start with a letter; ${NAME_RULE}`],
    ['group id double hyphen', { replicationGroupId: 'my--group' }, `replicationGroupId 'my--group' has two consecutive hyphens '--'; ${NAME_RULE}`],
    ['group id trailing hyphen', { replicationGroupId: 'group-' }, `replicationGroupId 'group-' ends with a hyphen '-'; ${NAME_RULE}`],
    ['restore snapshot name invalid', { restoreFrom: RestoreSource.fromSnapshot('before--upgrade') },
      `restoreFrom snapshot name 'before--upgrade' has two consecutive hyphens '--'; ${NAME_RULE}`],
    ['restore snapshot name too long', { restoreFrom: RestoreSource.fromSnapshot(`s${'x'.repeat(40)}`) },
      `restoreFrom snapshot name 's${'x'.repeat(40)}' is 41 characters long; ${NAME_RULE}`],
    ['automatic snapshot name malformed', { restoreFrom: RestoreSource.fromSnapshot('automatic.sessions-2026-11') },
      "restoreFrom snapshot name 'automatic.sessions-2026-11' starts with 'automatic.' but is not an automatic snapshot name; ElastiCache names those automatic.<replication group id>-<yyyy>-<mm>-<dd>-<hh>-<mi>"],
    ['automatic snapshot of an invalid group id', { restoreFrom: RestoreSource.fromSnapshot('automatic.Sessions-2026-11-20-05-00') },
      `restoreFrom snapshot name (replication group id in 'automatic.Sessions-2026-11-20-05-00') 'Sessions' has upper-case letters (ElastiCache stores names lower-case); ${NAME_RULE}`],

    // Shape of the group
    ['node type', { nodeType: 'r7g.large' }, "nodeType 'r7g.large' is not an ElastiCache node type such as 'cache.r7g.large'"],
    ['engine version', { engineVersion: 'latest' }, "engineVersion 'latest' is not a Redis OSS version such as '7.1' or '6.2'"],
    ['engine too old', { engineVersion: '3.2.6' },
      "engineVersion '3.2.6' is older than Redis OSS 4.0.10, the first version with encryption and the oldest ElastiCache still runs"],
    ['engine version Redis OSS never had', { engineVersion: '8.0' }, `engineVersion '8.0' is not a Redis OSS version ElastiCache offers (${OFFERED}); ${VALKEY}`],
    ['engine version of Valkey', { engineVersion: '7.2' }, `engineVersion '7.2' is not a Redis OSS version ElastiCache offers (${OFFERED}); ${VALKEY}`],
    ['engine patch version not offered', { engineVersion: '5.0.1' }, `engineVersion '5.0.1' is not a Redis OSS version ElastiCache offers (${OFFERED})`],
    ['engine 7.x', { engineVersion: '7.x' }, `engineVersion '7.x' is not a Redis OSS version ElastiCache offers (${OFFERED})`],
    ['engine 6.1', { engineVersion: '6.1' }, `engineVersion '6.1' is not a Redis OSS version ElastiCache offers (${OFFERED})`],
    ['engine 4.0.9', { engineVersion: '4.0.9' }, `engineVersion '4.0.9' is not a Redis OSS version ElastiCache offers (${OFFERED})`],
    ['engine and engineVersion both', { engine: valkey8, engineVersion: '7.1' },
      "engine is Valkey 8.0 and engineVersion is '7.1'; engineVersion is the deprecated string form of a Redis OSS version, so give the version in engine only"],
    ['replicas', { replicasPerShard: 6 }, 'replicasPerShard is 6; ElastiCache allows 0 to 5 replicas per shard'],
    ['shards with cluster mode disabled', { shards: 2 },
      'shards is 2 but clusterMode is ClusterMode.DISABLED; a group with cluster mode disabled has exactly 1 shard (use ClusterMode.ENABLED to shard)'],
    ['shards 0', { clusterMode: ClusterMode.ENABLED, shards: 0 }, 'shards is 0; ElastiCache allows 1 to 500 shards'],
    ['too many nodes', { clusterMode: ClusterMode.ENABLED, shards: 100, replicasPerShard: 5 },
      'shards 100 with 5 replicas each is 600 nodes; ElastiCache allows at most 500 nodes in a group'],
    ['multi-AZ without replicas', { replicasPerShard: 0, multiAz: true },
      'multiAz is true but replicasPerShard is 0; Multi-AZ needs at least one replica to fail over to'],
    ['port', { port: 80 }, 'port is 80; ElastiCache accepts ports 1024 to 65535'],

    // Security
    ['AUTH without TLS', { transitEncryption: false, authentication: RedisAuthentication.authToken() },
      'authentication is RedisAuthentication.authToken() but transitEncryption is false; ElastiCache accepts AUTH tokens and user groups only with encryption in transit'],
    ['RBAC without TLS', { transitEncryption: false, authentication: RedisAuthentication.userGroups(['g']) },
      'authentication is RedisAuthentication.userGroups() but transitEncryption is false; ElastiCache accepts AUTH tokens and user groups only with encryption in transit'],
    ['rotation in hours', { authentication: RedisAuthentication.authToken({ rotation: Duration.hours(36) }) },
      'authentication rotation is 1 day 12 hours; the AUTH token is rotated every whole number of days from 1 to 1000 (a Secrets Manager rotation schedule)'],
    ['rotation of 0 days', { authentication: RedisAuthentication.authToken({ rotation: Duration.days(0) }) },
      'authentication rotation is 0 days; the AUTH token is rotated every whole number of days from 1 to 1000 (a Secrets Manager rotation schedule)'],
    ['rotation over 1000 days', { authentication: RedisAuthentication.authToken({ rotation: Duration.days(1001) }) },
      'authentication rotation is 1001 days; the AUTH token is rotated every whole number of days from 1 to 1000 (a Secrets Manager rotation schedule)'],
    ['RBAC with no group', { authentication: RedisAuthentication.userGroups([]) },
      'authentication is RedisAuthentication.userGroups([]) with no user group; give at least one user group id'],
    ['RBAC on Redis 5', { engineVersion: '5.0.6', authentication: RedisAuthentication.userGroups(['g']) },
      'authentication is RedisAuthentication.userGroups() but engineVersion is 5.x; role-based access control needs Redis OSS 6.0 or later'],

    // Engine of a snapshot to restore
    ['Valkey snapshot into Redis OSS', { restoreFrom: RestoreSource.fromSnapshot('nightly', { sourceEngine: valkey8 }) },
      "restoreFrom snapshot 'nightly' was taken from Valkey 8.0 but engine is Redis OSS 7.1; ElastiCache restores a snapshot into a new group of its own engine, and a Valkey snapshot does not load into Redis OSS"],
    ['Redis OSS snapshot into Valkey', {
      engine: valkey8,
      restoreFrom: RestoreSource.fromSnapshot('nightly', { sourceEngine: ElastiCacheEngine.redis(RedisEngineVersion.VER_7_1) }),
    }, "restoreFrom snapshot 'nightly' was taken from Redis OSS 7.1 but engine is Valkey 8.0; ElastiCache restores a snapshot into a new group of its own engine; to move Redis OSS data to Valkey, restore into Redis OSS and upgrade the group in place (ModifyReplicationGroup with Engine valkey)"],
    ['Valkey 9 snapshot into Valkey 8', {
      engine: ElastiCacheEngine.valkey(ValkeyEngineVersion.VER_8_2),
      restoreFrom: RestoreSource.fromSnapshot('nightly', { sourceEngine: ElastiCacheEngine.valkey(ValkeyEngineVersion.VER_9_0) }),
    }, "restoreFrom snapshot 'nightly' was taken from Valkey 9.0 but engine is Valkey 8.2; an RDB file loads only into an engine version at least as new as the one that wrote it"],
    ['Redis OSS 7.1 snapshot into 6.2', {
      engine: ElastiCacheEngine.redis(RedisEngineVersion.VER_6_2),
      restoreFrom: RestoreSource.fromSnapshot('nightly', { sourceEngine: ElastiCacheEngine.redis(RedisEngineVersion.VER_7_1) }),
    }, "restoreFrom snapshot 'nightly' was taken from Redis OSS 7.1 but engine is Redis OSS 6.2; an RDB file loads only into an engine version at least as new as the one that wrote it"],

    // Retention
    ['retention not whole days', { backup: { retention: Duration.hours(36) } },
      'backup.retention is 1 day 12 hours, which is not a whole number of days; ElastiCache keeps snapshots for whole days (SnapshotRetentionLimit)'],
    ['retention over 35 days', { backup: { retention: Duration.days(36) } },
      'backup.retention is 36 days; ElastiCache keeps automatic snapshots for 0 to 35 days (0 turns them off)'],
    ['retention is a token', { backup: { retention: Duration.days(Lazy.number({ produce: () => 3 })) } },
      'backup.retention is a token; it must be known at synth time to set the snapshotting node'],
    ['no retention (a caller without the types)', { backup: { finalSnapshotName: 'last' } as any },
      'backup is given without backup.retention; say how long automatic snapshots are kept (Duration.days(0) turns them off)'],

    // Snapshot window
    ['snapshot window format', { backup: { retention: day, window: win('5:00-6:00') } },
      "backup.window '5:00-6:00' is not in the format hh24:mi-hh24:mi; ElastiCache expects hh24:mi-hh24:mi (UTC), e.g. 05:00-06:00"],
    ['snapshot window hour 24', { backup: { retention: day, window: win('23:00-24:00') } },
      "backup.window '23:00-24:00' has a time outside 00:00-23:59; ElastiCache expects hh24:mi-hh24:mi (UTC), e.g. 05:00-06:00"],
    ['snapshot window empty', { backup: { retention: day, window: win('05:00-05:00') } },
      "backup.window '05:00-05:00' starts and ends at the same time; ElastiCache expects hh24:mi-hh24:mi (UTC), e.g. 05:00-06:00"],
    ['snapshot window 30 minutes', { backup: { retention: day, window: win('05:00-05:30') } },
      "backup.window '05:00-05:30' is 30 minutes long; ElastiCache needs a window of at least 60 minutes"],
    ['snapshot window 59 minutes across midnight', { backup: { retention: day, window: win('23:31-00:30') } },
      "backup.window '23:31-00:30' is 59 minutes long; ElastiCache needs a window of at least 60 minutes"],
    ['typed snapshot window too short', { backup: { retention: day, window: SnapshotWindow.startingAt({ hour: 5, duration: Duration.minutes(45) }) } },
      "backup.window '05:00-05:45' is 45 minutes long; ElastiCache needs a window of at least 60 minutes"],
    ['typed snapshot window bad hour', { backup: { retention: day, window: SnapshotWindow.startingAt({ hour: 24 }) } },
      "backup.window 'starting at hour 24 minute 0 for 1 hour' has hour 24, which is not a whole hour from 0 to 23; ElastiCache expects hh24:mi-hh24:mi (UTC), e.g. 05:00-06:00"],
    ['typed snapshot window bad minute', { backup: { retention: day, window: SnapshotWindow.startingAt({ hour: 5, minute: 60 }) } },
      "backup.window 'starting at hour 5 minute 60 for 1 hour' has minute 60, which is not a whole minute from 0 to 59; ElastiCache expects hh24:mi-hh24:mi (UTC), e.g. 05:00-06:00"],
    ['typed snapshot window of a day', { backup: { retention: day, window: SnapshotWindow.startingAt({ hour: 5, duration: Duration.hours(24) }) } },
      "backup.window '05:00-05:00' lasts 1440 minutes; a window must end before it starts again (1440 minutes)"],
    ['typed snapshot window in seconds', { backup: { retention: day, window: SnapshotWindow.startingAt({ hour: 5, duration: Duration.seconds(3630) }) } },
      "backup.window 'starting at hour 5 minute 0 for 1 hour 30 seconds' lasts 1 hour 30 seconds, which is not a whole number of minutes; ElastiCache expects hh24:mi-hh24:mi (UTC), e.g. 05:00-06:00"],

    // Maintenance window
    ['maintenance window format', { maintenanceWindow: mwin('sun:23:00-01:00') },
      "maintenanceWindow 'sun:23:00-01:00' is not in the format ddd:hh24:mi-ddd:hh24:mi; ElastiCache expects ddd:hh24:mi-ddd:hh24:mi (UTC), e.g. sun:23:00-mon:00:30"],
    ['maintenance window day', { maintenanceWindow: mwin('sun:23:00-mond:00:30') },
      "maintenanceWindow 'sun:23:00-mond:00:30' is not in the format ddd:hh24:mi-ddd:hh24:mi; ElastiCache expects ddd:hh24:mi-ddd:hh24:mi (UTC), e.g. sun:23:00-mon:00:30"],
    ['maintenance window unknown day', { maintenanceWindow: mwin('sun:23:00-mun:00:30') },
      "maintenanceWindow 'sun:23:00-mun:00:30' has a day that is not one of sun, mon, tue, wed, thu, fri, sat; ElastiCache expects ddd:hh24:mi-ddd:hh24:mi (UTC), e.g. sun:23:00-mon:00:30"],
    ['maintenance window capital day', { maintenanceWindow: mwin('Sun:23:00-Mon:00:30') },
      "maintenanceWindow 'Sun:23:00-Mon:00:30' is not in the format ddd:hh24:mi-ddd:hh24:mi; ElastiCache expects ddd:hh24:mi-ddd:hh24:mi (UTC), e.g. sun:23:00-mon:00:30"],
    ['maintenance window time', { maintenanceWindow: mwin('sun:23:60-mon:00:30') },
      "maintenanceWindow 'sun:23:60-mon:00:30' has a time outside 00:00-23:59; ElastiCache expects ddd:hh24:mi-ddd:hh24:mi (UTC), e.g. sun:23:00-mon:00:30"],
    ['maintenance window 30 minutes across days', { maintenanceWindow: mwin('sun:23:45-mon:00:15') },
      "maintenanceWindow 'sun:23:45-mon:00:15' is 30 minutes long; ElastiCache needs a window of at least 60 minutes"],
    ['maintenance window 30 minutes across the week', { maintenanceWindow: mwin('sat:23:45-sun:00:15') },
      "maintenanceWindow 'sat:23:45-sun:00:15' is 30 minutes long; ElastiCache needs a window of at least 60 minutes"],
    ['typed maintenance window too short', { maintenanceWindow: MaintenanceWindow.startingAt({ day: DayOfWeek.FRIDAY, hour: 2, duration: Duration.minutes(59) }) },
      "maintenanceWindow 'fri:02:00-fri:02:59' is 59 minutes long; ElastiCache needs a window of at least 60 minutes"],

    // Overlap
    ['windows overlap the same day', { backup: { retention: day, window: win('05:00-06:00') }, maintenanceWindow: mwin('tue:05:30-tue:06:30') },
      "backup.window '05:00-06:00' overlaps maintenanceWindow 'tue:05:30-tue:06:30'; ElastiCache needs the snapshot window and the maintenance window not to overlap (the snapshot window repeats every day)"],
    ['snapshot window across midnight overlaps', { backup: { retention: day, window: win('23:30-00:30') }, maintenanceWindow: mwin('wed:00:00-wed:01:00') },
      "backup.window '23:30-00:30' overlaps maintenanceWindow 'wed:00:00-wed:01:00'; ElastiCache needs the snapshot window and the maintenance window not to overlap (the snapshot window repeats every day)"],
    ['maintenance window across days overlaps', { backup: { retention: day, window: win('00:00-01:00') }, maintenanceWindow: mwin('sun:23:00-mon:00:30') },
      "backup.window '00:00-01:00' overlaps maintenanceWindow 'sun:23:00-mon:00:30'; ElastiCache needs the snapshot window and the maintenance window not to overlap (the snapshot window repeats every day)"],
    ['maintenance window across the week overlaps', { backup: { retention: day, window: win('00:00-01:00') }, maintenanceWindow: mwin('sat:23:00-sun:00:30') },
      "backup.window '00:00-01:00' overlaps maintenanceWindow 'sat:23:00-sun:00:30'; ElastiCache needs the snapshot window and the maintenance window not to overlap (the snapshot window repeats every day)"],
    ['long maintenance window contains the snapshot window', { backup: { retention: day, window: win('05:00-06:00') }, maintenanceWindow: mwin('mon:00:00-wed:00:00') },
      "backup.window '05:00-06:00' overlaps maintenanceWindow 'mon:00:00-wed:00:00'; ElastiCache needs the snapshot window and the maintenance window not to overlap (the snapshot window repeats every day)"],

    // Snapshot source
    ['t1.micro cannot snapshot', { nodeType: 'cache.t1.micro', replicasPerShard: 0 },
      "backup.retention is 15 days but nodeType 'cache.t1.micro' with cluster mode disabled cannot take snapshots (SnapshotFeatureNotSupportedFault); use a current node type or set backup.retention to Duration.days(0)"],
    ['source with cluster mode enabled', { clusterMode: ClusterMode.ENABLED, backup: { retention: day, source: BackupSource.replica() } },
      'backup.source is BackupSource.replica() but clusterMode is ClusterMode.ENABLED; ElastiCache cannot set a snapshotting cluster for a cluster mode enabled group (it snapshots every shard itself)'],
    ['member with cluster mode enabled', { replicationGroupId: 'sessions', clusterMode: ClusterMode.ENABLED, backup: { retention: day, source: BackupSource.member('sessions-0001-002') } },
      "backup.source is BackupSource.member('sessions-0001-002') but clusterMode is ClusterMode.ENABLED; ElastiCache cannot set a snapshotting cluster for a cluster mode enabled group (it snapshots every shard itself)"],
    ['member that does not exist', { replicationGroupId: 'sessions', replicasPerShard: 2, backup: { retention: day, source: BackupSource.member('sessions-004') } },
      "backup.source member 'sessions-004' does not exist; replication group 'sessions' has members sessions-001, sessions-002, sessions-003"],
    ['member of another group', { replicationGroupId: 'sessions', backup: { retention: day, source: BackupSource.member('carts-002') } },
      "backup.source member 'carts-002' does not exist; replication group 'sessions' has members sessions-001, sessions-002"],
    ['replica without replicas', { replicasPerShard: 0, backup: { retention: day, source: BackupSource.replica() } },
      'backup.source is BackupSource.replica() but replicasPerShard is 0; use BackupSource.primary() or add a replica'],

    // Restore
    ['seed ARN with a comma', { restoreFrom: RestoreSource.fromRdbObjectArns(['arn:aws:s3:::seeds/a,b.rdb']) },
      "restoreFrom RDB object ARN #1 'arn:aws:s3:::seeds/a,b.rdb' contains a comma; ElastiCache takes SnapshotArns as a comma-separated list, so an object ARN cannot contain one"],
    ['seed ARN not S3', { restoreFrom: RestoreSource.fromRdbObjectArns(['s3://seeds/a.rdb']) },
      "restoreFrom RDB object ARN #1 's3://seeds/a.rdb' is not an S3 object ARN; ElastiCache expects arn:aws:s3:::bucket/key.rdb"],
    ['seed ARN without key', { restoreFrom: RestoreSource.fromRdbObjectArns(['arn:aws:s3:::seeds']) },
      "restoreFrom RDB object ARN #1 'arn:aws:s3:::seeds' is not an S3 object ARN; ElastiCache expects arn:aws:s3:::bucket/key.rdb"],
    ['seed ARN with a region', { restoreFrom: RestoreSource.fromRdbObjectArns(['arn:aws:s3:eu-west-1::seeds/a.rdb']) },
      "restoreFrom RDB object ARN #1 'arn:aws:s3:eu-west-1::seeds/a.rdb' is not an S3 object ARN; ElastiCache expects arn:aws:s3:::bucket/key.rdb"],
    ['seed ARN bucket not DNS-compliant', { restoreFrom: RestoreSource.fromRdbObjectArns(['arn:aws:s3:::Seeds_Bucket/a.rdb']) },
      "restoreFrom RDB object ARN #1 'arn:aws:s3:::Seeds_Bucket/a.rdb' names bucket 'Seeds_Bucket', which is not a DNS-compliant bucket name (3 to 63 lower-case letters, digits, dots or hyphens)"],
    ['no seed ARNs', { restoreFrom: RestoreSource.fromRdbObjectArns([]) }, 'restoreFrom has no RDB object ARNs; give one per shard'],
    ['two seeds for one shard', { restoreFrom: RestoreSource.fromRdbObjectArns(['arn:aws:s3:::seeds/a.rdb', 'arn:aws:s3:::seeds/b.rdb']) },
      'restoreFrom has 2 RDB object ARNs but the group has 1 shard; ElastiCache seeds one shard from each RDB file'],
    ['two seeds for three shards', { clusterMode: ClusterMode.ENABLED, shards: 3, restoreFrom: RestoreSource.fromRdbObjectArns(['arn:aws:s3:::seeds/a.rdb', 'arn:aws:s3:::seeds/b.rdb']) },
      'restoreFrom has 2 RDB object ARNs but the group has 3 shards; ElastiCache seeds one shard from each RDB file'],
    ['data tiering into non data tiering', { nodeType: 'cache.r7g.large', restoreFrom: RestoreSource.fromSnapshot('tiered', { sourceNodeType: 'cache.r6gd.xlarge' }) },
      "restoreFrom snapshot 'tiered' was taken from data-tiering node type 'cache.r6gd.xlarge' but nodeType is 'cache.r7g.large'; a data-tiering snapshot restores only into data-tiering (cache.r6gd.*) nodes"],

    // Parameters
    ['cluster-enabled no in a cluster', { clusterMode: ClusterMode.ENABLED, parameters: { 'cluster-enabled': 'no' } },
      "parameters sets 'cluster-enabled' to 'no' but clusterMode is ClusterMode.ENABLED; a cluster needs 'cluster-enabled' 'yes'"],
    ['parameters with a token engine version', { engineVersion: Token.asString(Lazy.string({ produce: () => '7.1' })), parameters: { 'maxmemory-policy': 'noeviction' } },
      'parameters are given but engineVersion is a token; the parameter group family is derived from a known engineVersion'],
  ];

  test.each(cases)('%s', (_name, props, message) => {
    expect(() => groupStack(props)).toThrow(new Error(message));
  });
});

test.each(OFFERED.split(', '))('engine version %s, which ElastiCache offers, is accepted', (engineVersion) => {
  expect(groupProperties(groupStack({ engineVersion }).template()).EngineVersion).toBe(engineVersion);
});

test.each([
  ['Valkey 8.0 into Valkey 8.2', ValkeyEngineVersion.VER_8_0, ValkeyEngineVersion.VER_8_2],
  ['Valkey 8.2 into Valkey 8.2', ValkeyEngineVersion.VER_8_2, ValkeyEngineVersion.VER_8_2],
  ['Valkey 7.2 into Valkey 9.1', ValkeyEngineVersion.VER_7_2, ValkeyEngineVersion.VER_9_1],
])('a snapshot of %s restores', (_name, from, to) => {
  const props = groupProperties(groupStack({
    engine: ElastiCacheEngine.valkey(to),
    restoreFrom: RestoreSource.fromSnapshot('nightly', { sourceEngine: ElastiCacheEngine.valkey(from) }),
  }).template());
  expect(props).toMatchObject({ Engine: 'valkey', EngineVersion: to.version, SnapshotName: 'nightly' });
});

describe('other invalid input', () => {
  test('an encryption key without encryption at rest', () => {
    const { stack, vpc } = newStack();
    expect(() => new RedisReplicationGroup(stack, 'Cache', {
      vpc, nodeType: 'cache.r7g.large', atRestEncryption: false, encryptionKey: new kms.Key(stack, 'Key'),
    })).toThrow(new Error('encryptionKey is given but atRestEncryption is false; the key is only used for encryption at rest'));
  });

  test('an AUTH secret and a key for it at once', () => {
    const { stack } = newStack();
    const key = new kms.Key(stack, 'Key');
    expect(() => RedisAuthentication.authToken({ secret: { } as any, encryptionKey: key })).toThrow(
      new Error('RedisAuthentication.authToken() was given both secret and encryptionKey; the key only encrypts a generated secret, so give one or the other'));
  });

  test('Multi-AZ over subnets in one Availability Zone', () => {
    const { stack, vpc } = newStack();
    expect(() => new RedisReplicationGroup(stack, 'Cache', {
      vpc, nodeType: 'cache.r7g.large', vpcSubnets: { availabilityZones: ['dummy1a'] },
    })).toThrow(new Error('multiAz is true but vpcSubnets selects subnets in one Availability Zone (dummy1a); Multi-AZ needs subnets in at least two'));
  });

  test('a seed ARN with a comma is found in a bucket key too', () => {
    const { stack, vpc } = newStack();
    const bucket = new s3.Bucket(stack, 'Seeds');
    expect(() => new RedisReplicationGroup(stack, 'Cache', {
      vpc, nodeType: 'cache.r7g.large', restoreFrom: RestoreSource.fromBucket(bucket, ['a,b.rdb']),
    })).toThrow(/^restoreFrom RDB object ARN #1 '.*a,b\.rdb' contains a comma/);
  });
});

describe('tokens are not validated', () => {
  test('token ids, node types, windows and ARNs pass through', () => {
    const t = (v: string) => Token.asString(Lazy.string({ produce: () => v }));
    const { template } = groupStack({
      replicationGroupId: t('Not_Checked'),
      nodeType: t('whatever'),
      backup: { retention: day, window: SnapshotWindow.fromString(t('5-6')), source: BackupSource.member(t('x')) },
      maintenanceWindow: MaintenanceWindow.fromString(t('sun')),
      restoreFrom: RestoreSource.fromRdbObjectArns([t('not-an-arn')]),
    });
    expect(groupProperties(template())).toMatchObject({
      ReplicationGroupId: 'Not_Checked',
      CacheNodeType: 'whatever',
      SnapshotWindow: '5-6',
      PreferredMaintenanceWindow: 'sun',
      SnapshottingClusterId: 'x',
      SnapshotArns: ['not-an-arn'],
    });
  });
});
