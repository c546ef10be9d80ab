/**
 * The round trip the whole library exists for, on the local provider with real SDK clients and
 * real redis-server nodes: write 100,000 keys in region A, snapshot from a replica, export to a
 * bucket that replicates to region B, seed a new group in region B from the replicated RDB, and
 * read every key back. Then the export's failure paths.
 */
import {
  CopySnapshotCommand, CreateReplicationGroupCommand, CreateSnapshotCommand, DescribeReplicationGroupsCommand, ElastiCacheClient,
  InvalidParameterValueException, InvalidSnapshotStateFault, ReplicationGroup,
} from '@aws-sdk/client-elasticache';
import {
  CreateBucketCommand, HeadObjectCommand, PutBucketAclCommand, PutBucketOwnershipControlsCommand, PutBucketPolicyCommand,
  PutBucketReplicationCommand, PutBucketVersioningCommand, PutObjectAclCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import Redis from 'ioredis';
import { ELASTICACHE_CANONICAL_ID } from '../../local/elasticache/engine';
import { until } from '../../local/poll';
import { LocalProvider } from '../../local/provider';
import { groupAvailable, snapshotAvailable } from '../../local/waiters';

jest.setTimeout(300_000);

const A = 'eu-west-1';
const B = 'us-west-2';
const KEYS = 100_000;
let provider: LocalProvider;
const closers: Array<() => void> = [];

function ec(region: string): ElastiCacheClient {
  const c = new ElastiCacheClient({ region, endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
  closers.push(() => c.destroy());
  return c;
}

function s3(region: string): S3Client {
  const c = new S3Client({ region, endpoint: provider.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
  closers.push(() => c.destroy());
  return c;
}

function redis(group: ReplicationGroup): Redis {
  const endpoint = group.NodeGroups![0].PrimaryEndpoint!;
  const r = new Redis({ host: endpoint.Address, port: endpoint.Port });
  closers.push(() => r.disconnect());
  return r;
}


beforeAll(async () => {
  provider = await LocalProvider.start({ speed: 600 });
  // The export bucket in A: ACLs on (BucketOwnerPreferred) with ElastiCache's canonical user
  // granted what an export needs; versioned and replicating to B.
  const grant = `id="${ELASTICACHE_CANONICAL_ID}"`;
  await s3(B).send(new CreateBucketCommand({ Bucket: 'rdb-replica', CreateBucketConfiguration: { LocationConstraint: B } }));
  await s3(B).send(new PutBucketVersioningCommand({ Bucket: 'rdb-replica', VersioningConfiguration: { Status: 'Enabled' } }));
  await s3(A).send(new CreateBucketCommand({ Bucket: 'rdb-exports', CreateBucketConfiguration: { LocationConstraint: A } }));
  await s3(A).send(new PutBucketOwnershipControlsCommand({ Bucket: 'rdb-exports', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] } }));
  await s3(A).send(new PutBucketAclCommand({ Bucket: 'rdb-exports', GrantRead: grant, GrantWrite: grant, GrantReadACP: grant, GrantWriteACP: grant }));
  await s3(A).send(new PutBucketVersioningCommand({ Bucket: 'rdb-exports', VersioningConfiguration: { Status: 'Enabled' } }));
  await s3(A).send(new PutBucketReplicationCommand({
    Bucket: 'rdb-exports',
    ReplicationConfiguration: {
      Role: 'arn:aws:iam::000000000000:role/rdb-replication',
      Rules: [{ ID: 'rdb', Priority: 1, Status: 'Enabled', Filter: { Prefix: '' }, Destination: { Bucket: 'arn:aws:s3:::rdb-replica' }, DeleteMarkerReplication: { Status: 'Disabled' } }],
    },
  }));
  // The seed bucket in B, readable by ElastiCache through a bucket policy.
  await s3(B).send(new PutBucketPolicyCommand({
    Bucket: 'rdb-replica',
    Policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: `${B}.elasticache-snapshot.amazonaws.com` }, Action: ['s3:GetObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::rdb-replica', 'arn:aws:s3:::rdb-replica/*'] }],
    }),
  }));
});

afterAll(async () => {
  for (const close of closers) close();
  await provider?.stop();
});

test(`${KEYS} keys survive snapshot, export, cross-region replication and seeding`, async () => {
  const a = ec(A);
  await a.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'orders',
    ReplicationGroupDescription: 'orders',
    CacheNodeType: 'cache.r7g.large',
    NumCacheClusters: 2,
    AutomaticFailoverEnabled: true,
  }));
  const source = await groupAvailable(a, 'orders');
  const primary = redis(source);
  for (let i = 0; i < KEYS; i += 10_000) {
    const pipeline = primary.pipeline();
    for (let j = i; j < i + 10_000; j++) pipeline.set(`order:${j}`, `value-${j}`);
    await pipeline.exec();
  }
  await primary.wait(1, 10_000);

  await a.send(new CreateSnapshotCommand({ ReplicationGroupId: 'orders', SnapshotName: 'orders-nightly' }));
  const snapshot = await snapshotAvailable(a, 'orders-nightly');
  expect(snapshot.NodeSnapshots![0].CacheClusterId).toBe('orders-002');

  const exported = await a.send(new CopySnapshotCommand({ SourceSnapshotName: 'orders-nightly', TargetSnapshotName: 'orders-nightly', TargetBucket: 'rdb-exports' }));
  expect(exported.Snapshot?.SnapshotStatus).toBe('copying');
  await snapshotAvailable(a, 'orders-nightly');
  const head = await until('export object', async () => {
    try {
      return await s3(A).send(new HeadObjectCommand({ Bucket: 'rdb-exports', Key: 'orders-nightly-0001.rdb' }));
    } catch {
      return undefined;
    }
  });
  expect(head.ContentLength).toBeGreaterThan(1_000_000);
  await provider.clock.advance(5 * 60_000);
  const replicated = await s3(A).send(new HeadObjectCommand({ Bucket: 'rdb-exports', Key: 'orders-nightly-0001.rdb' }));
  expect(replicated.ReplicationStatus).toBe('COMPLETED');
  const replica = await s3(B).send(new HeadObjectCommand({ Bucket: 'rdb-replica', Key: 'orders-nightly-0001.rdb' }));
  expect(replica.ReplicationStatus).toBe('REPLICA');
  expect(replica.ServerSideEncryption).toBe('AES256');

  const b = ec(B);
  await b.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'orders-standby',
    ReplicationGroupDescription: 'standby',
    CacheNodeType: 'cache.r7g.xlarge',
    NumCacheClusters: 2,
    AutomaticFailoverEnabled: true,
    SnapshotArns: ['arn:aws:s3:::rdb-replica/orders-nightly-0001.rdb'],
  }));
  const standby = redis(await groupAvailable(b, 'orders-standby'));
  expect(await standby.dbsize()).toBe(KEYS);
  const values = await standby.mget(Array.from({ length: KEYS }, (_, i) => `order:${i}`));
  const wrong = values.findIndex((v, i) => v !== `value-${i}`);
  expect(wrong).toBe(-1);
});

describe('export failures', () => {
  test('an export over an existing object is refused', async () => {
    const a = ec(A);
    await expect(a.send(new CopySnapshotCommand({ SourceSnapshotName: 'orders-nightly', TargetSnapshotName: 'orders-nightly', TargetBucket: 'rdb-exports' })))
      .rejects.toThrow('The S3 object orders-nightly-0001.rdb already exists in bucket rdb-exports; an export does not overwrite objects.');
  });

  test('a bucket that has not granted ElastiCache access refuses the export', async () => {
    await s3(A).send(new CreateBucketCommand({ Bucket: 'locked', CreateBucketConfiguration: { LocationConstraint: A } }));
    const error = await ec(A).send(new CopySnapshotCommand({ SourceSnapshotName: 'orders-nightly', TargetSnapshotName: 'x', TargetBucket: 'locked' })).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidParameterValueException);
    expect(error.message).toBe('ElastiCache has not been granted READ permissions on the S3 bucket locked.');
  });

  test('in an opt-in region the bucket policy must allow the regional service principal', async () => {
    const region = 'af-south-1';
    const c = ec(region);
    await s3(region).send(new CreateBucketCommand({ Bucket: 'cape-exports', CreateBucketConfiguration: { LocationConstraint: region } }));
    await c.send(new CreateReplicationGroupCommand({ ReplicationGroupId: 'cape', ReplicationGroupDescription: 'cape', CacheNodeType: 'cache.r7g.large', NumCacheClusters: 1 }));
    await groupAvailable(c, 'cape');
    await c.send(new CreateSnapshotCommand({ ReplicationGroupId: 'cape', SnapshotName: 'cape-1' }));
    await snapshotAvailable(c, 'cape-1');
    await expect(c.send(new CopySnapshotCommand({ SourceSnapshotName: 'cape-1', TargetSnapshotName: 'cape-1', TargetBucket: 'cape-exports' })))
      .rejects.toThrow(/its bucket policy must allow af-south-1.elasticache-snapshot.amazonaws.com/);
    await s3(region).send(new PutBucketPolicyCommand({
      Bucket: 'cape-exports',
      Policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: 'af-south-1.elasticache-snapshot.amazonaws.com' }, Action: 's3:*', Resource: '*' }] }),
    }));
    await c.send(new CopySnapshotCommand({ SourceSnapshotName: 'cape-1', TargetSnapshotName: 'cape-1', TargetBucket: 'cape-exports' }));
    await snapshotAvailable(c, 'cape-1');
    await until('cape export', async () => {
      try {
        return await s3(region).send(new HeadObjectCommand({ Bucket: 'cape-exports', Key: 'cape-1-0001.rdb' }));
      } catch {
        return undefined;
      }
    });
  });

  test('a bucket in another region, and a snapshot that is not available, are refused', async () => {
    const a = ec(A);
    await expect(a.send(new CopySnapshotCommand({ SourceSnapshotName: 'orders-nightly', TargetSnapshotName: 'y', TargetBucket: 'rdb-replica' })))
      .rejects.toThrow('The S3 bucket rdb-replica is in us-west-2; an export must go to a bucket in eu-west-1, the snapshot\'s region.');
    await a.send(new CreateSnapshotCommand({ ReplicationGroupId: 'orders', SnapshotName: 'orders-busy' }));
    await expect(a.send(new CopySnapshotCommand({ SourceSnapshotName: 'orders-busy', TargetSnapshotName: 'orders-busy', TargetBucket: 'rdb-exports' })))
      .rejects.toBeInstanceOf(InvalidSnapshotStateFault);
  });
});

describe('seeding failures', () => {
  test('an RDB file redis-server cannot load leaves the new group restore-failed', async () => {
    const b = ec(B);
    await s3(B).send(new PutObjectCommand({ Bucket: 'rdb-replica', Key: 'garbage-0001.rdb', Body: 'this is not an RDB file' }));
    await b.send(new CreateReplicationGroupCommand({
      ReplicationGroupId: 'broken',
      ReplicationGroupDescription: 'broken',
      CacheNodeType: 'cache.r7g.large',
      NumCacheClusters: 1,
      SnapshotArns: ['arn:aws:s3:::rdb-replica/garbage-0001.rdb'],
    }));
    await until('restore-failed', async () => {
      const g = (await b.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'broken' }))).ReplicationGroups![0];
      return g.Status === 'restore-failed' ? g : undefined;
    });
  });

  test('a KMS-encrypted or unreadable object is refused when the group is created', async () => {
    const b = ec(B);
    await s3(B).send(new PutObjectCommand({ Bucket: 'rdb-replica', Key: 'kms-0001.rdb', Body: 'x', ServerSideEncryption: 'aws:kms' }));
    await expect(b.send(new CreateReplicationGroupCommand({
      ReplicationGroupId: 'kms', ReplicationGroupDescription: 'kms', CacheNodeType: 'cache.r7g.large', SnapshotArns: ['arn:aws:s3:::rdb-replica/kms-0001.rdb'],
    }))).rejects.toThrow('The object kms-0001.rdb is encrypted with aws:kms; ElastiCache can only read RDB files encrypted with SSE-S3 (AES256).');
    await s3(A).send(new PutObjectCommand({ Bucket: 'rdb-exports', Key: 'private-0001.rdb', Body: 'x' }));
    await expect(ec(A).send(new CreateReplicationGroupCommand({
      ReplicationGroupId: 'private', ReplicationGroupDescription: 'private', CacheNodeType: 'cache.r7g.large', SnapshotArns: ['arn:aws:s3:::rdb-exports/private-0001.rdb'],
    }))).rejects.toThrow('ElastiCache has not been granted READ permission on the S3 object private-0001.rdb in bucket rdb-exports.');
    // An object ACL grant is enough.
    await s3(A).send(new PutObjectAclCommand({ Bucket: 'rdb-exports', Key: 'private-0001.rdb', GrantRead: `id="${ELASTICACHE_CANONICAL_ID}"`, GrantFullControl: 'id="7d1f0c0b3b6f4f0e9a1b2c3d4e5f60718293a4b5c6d7e8f90123456789abcdef"' }));
    await ec(A).send(new CreateReplicationGroupCommand({
      ReplicationGroupId: 'private', ReplicationGroupDescription: 'private', CacheNodeType: 'cache.r7g.large', SnapshotArns: ['arn:aws:s3:::rdb-exports/private-0001.rdb'],
    }));
  });
});
