/**
 * The local provider's S3, driven through the real @aws-sdk/client-s3 (default checksums, so
 * uploads arrive aws-chunked with trailing checksums).
 */
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetBucketAclCommand, GetBucketLocationCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, NoSuchKey,
  PutBucketAclCommand, PutBucketOwnershipControlsCommand, PutBucketReplicationCommand, PutBucketVersioningCommand,
  PutObjectCommand, S3Client, S3ServiceException, UploadPartCommand, GetBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand, GetBucketLifecycleConfigurationCommand, DeleteBucketLifecycleCommand,
} from '@aws-sdk/client-s3';
import { LocalProvider } from '../../local/provider';

jest.setTimeout(60_000);

let provider: LocalProvider;
const s3Clients = new Map<string, S3Client>();

function s3(region = 'eu-west-1'): S3Client {
  if (!s3Clients.has(region)) {
    s3Clients.set(region, new S3Client({ region, endpoint: provider.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 's' } }));
  }
  return s3Clients.get(region)!;
}

async function errorOf(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    return e as S3ServiceException;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  provider = await LocalProvider.start({ speed: 600, replicationDelay: 5 * 60_000 });
  await s3().send(new CreateBucketCommand({ Bucket: 'exports', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
});

afterAll(async () => {
  for (const c of s3Clients.values()) c.destroy();
  await provider?.stop();
});

test('objects: put (aws-chunked with checksum), get, head, copy, list with paging, delete', async () => {
  const c = s3();
  const body = Buffer.from('x'.repeat(100_000));
  const put = await c.send(new PutObjectCommand({ Bucket: 'exports', Key: 'a/one.rdb', Body: body }));
  expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
  const got = await c.send(new GetObjectCommand({ Bucket: 'exports', Key: 'a/one.rdb' }));
  // Buffer.equals: jest's toEqual walks a large buffer byte by byte, slowly.
  expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
  expect(got.ServerSideEncryption).toBe('AES256');
  await c.send(new CopyObjectCommand({ Bucket: 'exports', Key: 'a/two.rdb', CopySource: 'exports/a/one.rdb' }));
  const head = await c.send(new HeadObjectCommand({ Bucket: 'exports', Key: 'a/two.rdb' }));
  expect(head.ContentLength).toBe(100_000);
  for (let i = 0; i < 5; i++) await c.send(new PutObjectCommand({ Bucket: 'exports', Key: `b/${i}`, Body: `${i}` }));
  const page1 = await c.send(new ListObjectsV2Command({ Bucket: 'exports', Prefix: 'b/', MaxKeys: 3 }));
  expect(page1.Contents!.map((o) => o.Key)).toEqual(['b/0', 'b/1', 'b/2']);
  expect(page1.IsTruncated).toBe(true);
  const page2 = await c.send(new ListObjectsV2Command({ Bucket: 'exports', Prefix: 'b/', MaxKeys: 3, ContinuationToken: page1.NextContinuationToken }));
  expect(page2.Contents!.map((o) => o.Key)).toEqual(['b/3', 'b/4']);
  expect(page2.IsTruncated).toBe(false);
  await c.send(new DeleteObjectCommand({ Bucket: 'exports', Key: 'b/0' }));
  await expect(c.send(new GetObjectCommand({ Bucket: 'exports', Key: 'b/0' }))).rejects.toBeInstanceOf(NoSuchKey);
});

test('a ranged GET answers 206 with the bytes asked for; a range past the end is InvalidRange (416)', async () => {
  const c = s3();
  const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
  await c.send(new PutObjectCommand({ Bucket: 'exports', Key: 'ranged.rdb', Body: body }));
  const cases: Array<[string, Buffer, string]> = [
    ['bytes=10-19', body.subarray(10, 20), 'bytes 10-19/1000'],
    ['bytes=990-', body.subarray(990), 'bytes 990-999/1000'],
    ['bytes=-5', body.subarray(995), 'bytes 995-999/1000'],
    ['bytes=900-5000', body.subarray(900), 'bytes 900-999/1000'],
  ];
  for (const [range, expected, contentRange] of cases) {
    const got = await c.send(new GetObjectCommand({ Bucket: 'exports', Key: 'ranged.rdb', Range: range }));
    expect(got.$metadata.httpStatusCode).toBe(206);
    expect(got.ContentRange).toBe(contentRange);
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(expected)).toBe(true);
  }
  await expect(c.send(new GetObjectCommand({ Bucket: 'exports', Key: 'ranged.rdb', Range: 'bytes=1000-' })))
    .rejects.toMatchObject({ name: 'InvalidRange', $metadata: { httpStatusCode: 416 } });
});

test('multipart uploads assemble their parts in order', async () => {
  const c = s3();
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: 'exports', Key: 'big.rdb' }));
  const part1 = Buffer.alloc(5 * 1024 * 1024, 1);
  const part2 = Buffer.from('tail');
  const p1 = await c.send(new UploadPartCommand({ Bucket: 'exports', Key: 'big.rdb', UploadId, PartNumber: 1, Body: part1 }));
  const p2 = await c.send(new UploadPartCommand({ Bucket: 'exports', Key: 'big.rdb', UploadId, PartNumber: 2, Body: part2 }));
  await c.send(new CompleteMultipartUploadCommand({
    Bucket: 'exports',
    Key: 'big.rdb',
    UploadId,
    MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
  }));
  const got = await c.send(new GetObjectCommand({ Bucket: 'exports', Key: 'big.rdb' }));
  expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([part1, part2]))).toBe(true);
});

test('buckets live in a region: the location says so and other regions are redirected', async () => {
  expect((await s3('us-east-1').send(new GetBucketLocationCommand({ Bucket: 'exports' }))).LocationConstraint).toBe('eu-west-1');
  const e = await errorOf(s3('us-east-1').send(new GetObjectCommand({ Bucket: 'exports', Key: 'a/one.rdb' })));
  expect(e.$metadata.httpStatusCode).toBe(301);
  // A bucket is created in the region the request is sent to.
  const wrong = await errorOf(s3('us-east-1').send(new CreateBucketCommand({ Bucket: 'elsewhere', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })));
  expect(wrong.name).toBe('IllegalLocationConstraintException');
});

test('ACLs are refused while object ownership is BucketOwnerEnforced, the default', async () => {
  const c = s3();
  const grant = 'id="540804c33a284a299d2547575ce1010f2312ef3da9b3a053c8bc45bf233e4353"';
  const e = await errorOf(c.send(new PutBucketAclCommand({ Bucket: 'exports', GrantRead: grant })));
  expect(e.name).toBe('AccessControlListNotSupported');
  await c.send(new PutBucketOwnershipControlsCommand({ Bucket: 'exports', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] } }));
  await c.send(new PutBucketAclCommand({ Bucket: 'exports', GrantRead: grant, GrantWrite: grant, GrantReadACP: grant }));
  const acl = await c.send(new GetBucketAclCommand({ Bucket: 'exports' }));
  expect(acl.Grants!.filter((g) => g.Grantee?.ID === '540804c33a284a299d2547575ce1010f2312ef3da9b3a053c8bc45bf233e4353').map((g) => g.Permission).sort())
    .toEqual(['READ', 'READ_ACP', 'WRITE']);
  expect((await c.send(new GetBucketEncryptionCommand({ Bucket: 'exports' }))).ServerSideEncryptionConfiguration?.Rules?.[0]
    .ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
});

describe('cross-region replication', () => {
  beforeAll(async () => {
    await s3('us-west-2').send(new CreateBucketCommand({ Bucket: 'replica', CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }));
  });

  test('needs versioning on both buckets', async () => {
    const config = {
      Bucket: 'exports',
      ReplicationConfiguration: { Role: 'arn:aws:iam::000000000000:role/replication', Rules: [{ ID: 'rdb', Priority: 1, Status: 'Enabled' as const, Filter: { Prefix: 'exports/' }, Destination: { Bucket: 'arn:aws:s3:::replica' }, DeleteMarkerReplication: { Status: 'Disabled' as const } }] },
    };
    expect((await errorOf(s3().send(new PutBucketReplicationCommand(config)))).name).toBe('InvalidRequest');
    await s3().send(new PutBucketVersioningCommand({ Bucket: 'exports', VersioningConfiguration: { Status: 'Enabled' } }));
    expect((await errorOf(s3().send(new PutBucketReplicationCommand(config)))).message).toBe('Destination bucket must have versioning enabled.');
    await s3('us-west-2').send(new PutBucketVersioningCommand({ Bucket: 'replica', VersioningConfiguration: { Status: 'Enabled' } }));
    await s3().send(new PutBucketReplicationCommand(config));
  });

  test('objects under the rule prefix replicate asynchronously: PENDING, then COMPLETED, and REPLICA in the destination', async () => {
    await s3().send(new PutObjectCommand({ Bucket: 'exports', Key: 'exports/nightly-0001.rdb', Body: 'REDIS0011...' }));
    await s3().send(new PutObjectCommand({ Bucket: 'exports', Key: 'other/file', Body: 'not replicated' }));
    const pending = await s3().send(new HeadObjectCommand({ Bucket: 'exports', Key: 'exports/nightly-0001.rdb' }));
    expect(pending.ReplicationStatus).toBe('PENDING');
    expect(pending.VersionId).toBeDefined();
    await provider.clock.advance(5 * 60_000);
    const done = await s3().send(new HeadObjectCommand({ Bucket: 'exports', Key: 'exports/nightly-0001.rdb' }));
    expect(done.ReplicationStatus).toBe('COMPLETED');
    const replica = await s3('us-west-2').send(new GetObjectCommand({ Bucket: 'replica', Key: 'exports/nightly-0001.rdb' }));
    expect(replica.ReplicationStatus).toBe('REPLICA');
    expect(await replica.Body!.transformToString()).toBe('REDIS0011...');
    expect((await s3().send(new HeadObjectCommand({ Bucket: 'exports', Key: 'other/file' }))).ReplicationStatus).toBeUndefined();
  });

  test('a stalled replication stays PENDING until released', async () => {
    provider.s3.faults.stallReplication = true;
    await s3().send(new PutObjectCommand({ Bucket: 'exports', Key: 'exports/stalled-0001.rdb', Body: 'x' }));
    await provider.clock.advance(60 * 60_000);
    expect((await s3().send(new HeadObjectCommand({ Bucket: 'exports', Key: 'exports/stalled-0001.rdb' }))).ReplicationStatus).toBe('PENDING');
    provider.s3.faults.stallReplication = false;
    await provider.clock.advance(1);
    expect((await s3().send(new HeadObjectCommand({ Bucket: 'exports', Key: 'exports/stalled-0001.rdb' }))).ReplicationStatus).toBe('COMPLETED');
  });
});

test('a lifecycle configuration is kept and answered back (not applied), and can be removed', async () => {
  const c = s3();
  expect((await errorOf(c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'exports' })))).name).toBe('NoSuchLifecycleConfiguration');
  await c.send(new PutBucketLifecycleConfigurationCommand({
    Bucket: 'exports',
    LifecycleConfiguration: { Rules: [{ ID: 'old', Status: 'Enabled', Filter: { Prefix: '' }, NoncurrentVersionExpiration: { NoncurrentDays: 30 } }] },
  }));
  const got = await c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'exports' }));
  expect(got.Rules).toEqual([expect.objectContaining({ ID: 'old', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 } })]);
  expect((await errorOf(c.send(new PutBucketLifecycleConfigurationCommand({
    Bucket: 'exports', LifecycleConfiguration: { Rules: [{ ID: 'bad', Status: 'Sometimes' as any, Filter: { Prefix: '' } }] },
  })))).name).toBe('MalformedXML');
  await c.send(new DeleteBucketLifecycleCommand({ Bucket: 'exports' }));
  expect((await errorOf(c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'exports' })))).name).toBe('NoSuchLifecycleConfiguration');
});
