/**
 * The ElastiCache emulator under bad input and long operations (issue 13): windows validated with
 * ElastiCache's errors and nothing changed, exports running in the background, member snapshots
 * shaped as ElastiCache shows them.
 */
import {
  CopySnapshotCommand, CreateReplicationGroupCommand, CreateSnapshotCommand, DeleteSnapshotCommand, DescribeReplicationGroupsCommand,
  DescribeSnapshotsCommand, ElastiCacheClient, InvalidSnapshotStateFault, ModifyReplicationGroupCommand, ReplicationGroupNotFoundFault,
} from '@aws-sdk/client-elasticache';
import { CreateBucketCommand, HeadObjectCommand, PutBucketAclCommand, PutBucketOwnershipControlsCommand, S3Client } from '@aws-sdk/client-s3';
import { ELASTICACHE_CANONICAL_ID } from '../../local/elasticache/facts';
import { until } from '../../local/poll';
import { LocalProvider } from '../../local/provider';
import { groupAvailable, snapshotAvailable } from '../../local/waiters';

jest.setTimeout(120_000);

const MINUTE = 60_000;
const REGION = 'eu-west-1';
let provider: LocalProvider;
let ec: ElastiCacheClient;
let s3: S3Client;

beforeAll(async () => {
  // A second is ten simulated minutes; an export takes an hour (6 s), long enough to be caught in flight.
  provider = await LocalProvider.start({ speed: 600, startTime: Date.UTC(2026, 10, 20, 12, 0), timings: { exportSnapshot: 60 * MINUTE } });
  const credentials = { accessKeyId: 'a', secretAccessKey: 's' };
  ec = new ElastiCacheClient({ region: REGION, endpoint: provider.endpoint, credentials });
  s3 = new S3Client({ region: REGION, endpoint: provider.endpoint, forcePathStyle: true, credentials });
  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'win',
    ReplicationGroupDescription: 'win',
    CacheNodeType: 'cache.r7g.large',
    NumCacheClusters: 2,
    SnapshotWindow: '05:00-06:00',
    PreferredMaintenanceWindow: 'sun:23:00-mon:00:30',
  }));
  await groupAvailable(ec, 'win');
});

afterAll(async () => {
  ec?.destroy();
  s3?.destroy();
  await provider?.stop();
});

async function error(p: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  const e: any = await p.then(() => undefined, (x) => x);
  if (!e) throw new Error('the call succeeded');
  return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
}

describe('SnapshotWindow and PreferredMaintenanceWindow are validated; a bad one changes nothing', () => {
  const FORMAT_S = (v: string) => `Invalid value for parameter SnapshotWindow: ${v}. The format is hh24:mi-hh24:mi (UTC), for example 05:00-09:00.`;
  const FORMAT_M = (v: string) => `Invalid value for parameter PreferredMaintenanceWindow: ${v}. The format is ddd:hh24:mi-ddd:hh24:mi (UTC), with ddd one of sun, mon, tue, wed, thu, fri, sat; for example sun:23:00-mon:01:30.`;
  const cases: Array<[string, Record<string, string>, string]> = [
    ['banana', { SnapshotWindow: 'banana' }, FORMAT_S('banana')],
    ['a time past 23:59', { SnapshotWindow: '24:00-25:00' }, FORMAT_S('24:00-25:00')],
    ['one time only', { SnapshotWindow: '05:00' }, FORMAT_S('05:00')],
    ['minutes past 59', { SnapshotWindow: '05:60-07:00' }, FORMAT_S('05:60-07:00')],
    ['a short snapshot window', { SnapshotWindow: '05:00-05:30' }, 'Snapshot window must be at least 60 minutes. 05:00-05:30 is 30 minutes.'],
    ['an empty snapshot window', { SnapshotWindow: '05:00-05:00' }, 'Snapshot window must be at least 60 minutes. 05:00-05:00 is 0 minutes.'],
    ['maintenance banana', { PreferredMaintenanceWindow: 'banana' }, FORMAT_M('banana')],
    ['a day that is none', { PreferredMaintenanceWindow: 'fun:01:00-fun:02:00' }, FORMAT_M('fun:01:00-fun:02:00')],
    ['days without times', { PreferredMaintenanceWindow: 'sun-mon' }, FORMAT_M('sun-mon')],
    ['a short maintenance window', { PreferredMaintenanceWindow: 'tue:01:00-tue:01:59' }, 'Maintenance window must be at least 60 minutes. tue:01:00-tue:01:59 is 59 minutes.'],
    ['overlapping windows', { SnapshotWindow: '01:00-02:00', PreferredMaintenanceWindow: 'tue:01:30-tue:02:30' }, 'The snapshot window and maintenance window must not overlap.'],
    ['overlap across midnight', { SnapshotWindow: '23:30-00:30', PreferredMaintenanceWindow: 'sat:23:45-sun:01:00' }, 'The snapshot window and maintenance window must not overlap.'],
  ];

  test.each(cases)('CreateReplicationGroup with %s', async (_, windows, message) => {
    const id = `bad-${Object.values(windows).join('').replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 20)}`;
    const failed = await error(ec.send(new CreateReplicationGroupCommand({
      ReplicationGroupId: id, ReplicationGroupDescription: 'x', CacheNodeType: 'cache.r7g.large', ...windows,
    })));
    expect(failed).toEqual({ name: 'InvalidParameterValueException', message, status: 400 });
    expect((await error(ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id })))).name).toBe('ReplicationGroupNotFoundFault');
  });

  // An overlap is judged with the group's other window when only one is given.
  const modifyCases: Array<[string, Record<string, string>, string]> = [
    ...cases,
    ['a snapshot window over the maintenance window', { SnapshotWindow: '23:00-00:30' }, 'The snapshot window and maintenance window must not overlap.'],
    ['a maintenance window over the snapshot window', { PreferredMaintenanceWindow: 'wed:05:30-wed:06:30' }, 'The snapshot window and maintenance window must not overlap.'],
  ];

  test.each(modifyCases)('ModifyReplicationGroup with %s', async (_, windows, message) => {
    const failed = await error(ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: 'win', ApplyImmediately: true, ...windows })));
    expect(failed).toEqual({ name: 'InvalidParameterValueException', message, status: 400 });
    const group = (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'win' }))).ReplicationGroups![0];
    expect(group.SnapshotWindow).toBe('05:00-06:00');
    // DescribeSnapshots still answers for the region.
    expect((await ec.send(new DescribeSnapshotsCommand({}))).$metadata.httpStatusCode).toBe(200);
  });

  test('valid windows are taken, across midnight and the week', async () => {
    await ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: 'win', SnapshotWindow: '23:30-00:30', PreferredMaintenanceWindow: 'sat:01:00-sat:02:00' }));
    const group = (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'win' }))).ReplicationGroups![0];
    expect(group.SnapshotWindow).toBe('23:30-00:30');
    await ec.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: 'win', SnapshotWindow: '05:00-06:00', PreferredMaintenanceWindow: 'sat:23:00-sun:00:30' }));
  });
});

test('a snapshot of a member shows CacheClusterId at its top level, as ElastiCache does', async () => {
  await ec.send(new CreateSnapshotCommand({ CacheClusterId: 'win-002', SnapshotName: 'member-snap' }));
  const s = await snapshotAvailable(ec, 'member-snap');
  expect(s).toMatchObject({ CacheClusterId: 'win-002', NumCacheNodes: 1, ReplicationGroupId: 'win' });
  expect(s.NodeSnapshots![0].CacheNodeId).toBe('0001');
  await groupAvailable(ec, 'win');
  // A snapshot of the group names no member at its top level.
  await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'win', SnapshotName: 'group-snap' }));
  const g = await snapshotAvailable(ec, 'group-snap');
  expect(g.CacheClusterId).toBeUndefined();
  await groupAvailable(ec, 'win');
});

test('an export runs in the background: other calls answer at once, only its snapshot is busy', async () => {
  const grant = `id="${ELASTICACHE_CANONICAL_ID}"`;
  await s3.send(new CreateBucketCommand({ Bucket: 'slow-exports', CreateBucketConfiguration: { LocationConstraint: REGION } }));
  await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: 'slow-exports', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] } }));
  await s3.send(new PutBucketAclCommand({ Bucket: 'slow-exports', GrantRead: grant, GrantWrite: grant, GrantReadACP: grant, GrantWriteACP: grant }));
  await ec.send(new CopySnapshotCommand({ SourceSnapshotName: 'member-snap', TargetSnapshotName: 'exported', TargetBucket: 'slow-exports' }));
  const started = Date.now();
  const group = (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'win' }))).ReplicationGroups![0];
  const source = (await ec.send(new DescribeSnapshotsCommand({ SnapshotName: 'member-snap' }))).Snapshots![0];
  // The export's hour is 6 real seconds; answers come well before.
  expect(Date.now() - started).toBeLessThan(2_000);
  expect(group.Status).toBe('available');
  expect(source.SnapshotStatus).toBe('copying');
  expect((await error(ec.send(new DeleteSnapshotCommand({ SnapshotName: 'member-snap' })))).name).toBe(InvalidSnapshotStateFault.name);
  // The group is not touched by the export: it can take another snapshot meanwhile.
  await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'win', SnapshotName: 'during-export' }));
  await snapshotAvailable(ec, 'during-export');
  expect(Date.now() - started).toBeLessThan(5_000);
  await until('export done', async () => {
    const s = (await ec.send(new DescribeSnapshotsCommand({ SnapshotName: 'member-snap' }))).Snapshots![0];
    return s.SnapshotStatus === 'available' ? s : undefined;
  }, 30_000);
  expect((await s3.send(new HeadObjectCommand({ Bucket: 'slow-exports', Key: 'exported-0001.rdb' }))).ContentLength).toBeGreaterThan(0);
  expect(ReplicationGroupNotFoundFault).toBeDefined();
});
