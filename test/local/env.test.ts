/**
 * One code path: plain SDK clients, built with no endpoint or addressing options, reach the local
 * provider through the service-specific endpoint variables it prints, as Lambda handlers will.
 */
import { DescribeReplicationGroupsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { ListHostedZonesCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LocalProvider } from '../../local/provider';

let provider: LocalProvider;
const saved = { ...process.env };

beforeAll(async () => {
  provider = await LocalProvider.start();
  Object.assign(process.env, provider.env(), { AWS_REGION: 'eu-west-1' });
});

afterAll(async () => {
  process.env = saved;
  await provider?.stop();
});

test('ElastiCache, S3 (virtual-hosted addressing falls back to path style on an IP endpoint) and Route 53', async () => {
  const ec = new ElastiCacheClient({});
  expect((await ec.send(new DescribeReplicationGroupsCommand({}))).ReplicationGroups).toEqual([]);
  const s3 = new S3Client({});
  await s3.send(new CreateBucketCommand({ Bucket: 'plain-client' }));
  await s3.send(new PutObjectCommand({ Bucket: 'plain-client', Key: 'k', Body: 'v' }));
  expect(await (await s3.send(new GetObjectCommand({ Bucket: 'plain-client', Key: 'k' }))).Body!.transformToString()).toBe('v');
  const r53 = new Route53Client({});
  expect((await r53.send(new ListHostedZonesCommand({}))).HostedZones).toEqual([]);
  for (const c of [ec, s3, r53]) c.destroy();
});
