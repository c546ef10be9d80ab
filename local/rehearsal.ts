/**
 * Drill stage 2: the DR path rehearsed on the local provider, through the real AWS SDK clients.
 *
 * The first replication group of the synthesized template is created in the primary region with
 * its declared settings, filled with data, snapshotted from its declared backup source, exported to
 * a bucket that replicates to the recovery region, restored there as a new group seeded from the
 * replicated RDB, and the DNS name applications use is moved to the new primary. Every step is
 * checked; the data is read back through the name.
 *
 * Until the template deployer and the Step Functions workflows exist, the steps are driven here
 * directly with SDK calls; the workflows will replace this driver, not the provider.
 */
import {
  CopySnapshotCommand, CreateReplicationGroupCommand, CreateSnapshotCommand, ElastiCacheClient, ModifyReplicationGroupCommand, ReplicationGroup,
} from '@aws-sdk/client-elasticache';
import {
  ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, GetChangeCommand, Route53Client,
} from '@aws-sdk/client-route-53';
import {
  CreateBucketCommand, HeadObjectCommand, PutBucketAclCommand, PutBucketOwnershipControlsCommand, PutBucketPolicyCommand,
  PutBucketReplicationCommand, PutBucketVersioningCommand, S3Client,
} from '@aws-sdk/client-s3';
import Redis from 'ioredis';
import { ELASTICACHE_CANONICAL_ID } from './elasticache/engine';
import { until } from './poll';
import { LocalProvider } from './provider';
import { groupAvailable, snapshotAvailable } from './waiters';

export interface RehearsalOptions {
  /** The template to take the replication group from. */
  readonly template: any;
  readonly primaryRegion?: string;
  readonly recoveryRegion?: string;
  /** How many keys to write and read back. */
  readonly keys?: number;
  /** Reports each step as it finishes. */
  readonly log?: (line: string) => void;
}

export interface RehearsalResult {
  readonly keysRestored: number;
  readonly dnsTarget: string;
  readonly steps: Array<{ step: string; realMs: number; simulatedMinutes: number }>;
}

export async function rehearse(options: RehearsalOptions): Promise<RehearsalResult> {
  const A = options.primaryRegion ?? 'eu-west-1';
  const B = options.recoveryRegion ?? 'us-west-2';
  const keys = options.keys ?? 10_000;
  const log = options.log ?? (() => undefined);
  const resources = Object.values<any>(options.template.Resources ?? {});
  const declared = resources.find((r) => r.Type === 'AWS::ElastiCache::ReplicationGroup' && r.Properties?.ClusterMode !== 'enabled')?.Properties;
  if (!declared) {
    throw new Error('the template declares no cluster-mode-disabled replication group to rehearse with');
  }
  const id = 'drill-primary';
  const provider = await LocalProvider.start({ speed: 600 });
  const credentials = { accessKeyId: 'drill', secretAccessKey: 'drill' };
  const ecA = new ElastiCacheClient({ region: A, endpoint: provider.endpoint, credentials });
  const ecB = new ElastiCacheClient({ region: B, endpoint: provider.endpoint, credentials });
  const s3A = new S3Client({ region: A, endpoint: provider.endpoint, forcePathStyle: true, credentials });
  const s3B = new S3Client({ region: B, endpoint: provider.endpoint, forcePathStyle: true, credentials });
  const r53 = new Route53Client({ region: 'us-east-1', endpoint: provider.endpoint, credentials });
  const redisClients: Redis[] = [];
  const steps: RehearsalResult['steps'] = [];
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const real = Date.now();
    const simulated = provider.clock.now();
    const result = await work();
    const entry = { step: name, realMs: Date.now() - real, simulatedMinutes: Math.round((provider.clock.now() - simulated) / 60_000) };
    steps.push(entry);
    log(`  ${name.padEnd(66)} ${String(entry.realMs).padStart(6)} ms real, ~${entry.simulatedMinutes} min simulated`);
    return result;
  };
  const connect = (g: ReplicationGroup) => {
    const endpoint = g.NodeGroups![0].PrimaryEndpoint!;
    const client = new Redis({ host: endpoint.Address, port: endpoint.Port, maxRetriesPerRequest: 2 });
    redisClients.push(client);
    return client;
  };

  try {
    const replicas = Math.max(0, (declared.NumCacheClusters ?? 1) - 1);
    const source = await step(`create the declared group in ${A} (${declared.CacheNodeType}, ${replicas} replicas)`, async () => {
      await ecA.send(new CreateReplicationGroupCommand({
        ReplicationGroupId: id,
        ReplicationGroupDescription: 'drill: the declared group',
        CacheNodeType: declared.CacheNodeType,
        NumCacheClusters: 1 + replicas,
        AutomaticFailoverEnabled: replicas > 0,
        SnapshotRetentionLimit: declared.SnapshotRetentionLimit,
        SnapshotWindow: typeof declared.SnapshotWindow === 'string' ? declared.SnapshotWindow : undefined,
        PreferredMaintenanceWindow: typeof declared.PreferredMaintenanceWindow === 'string' ? declared.PreferredMaintenanceWindow : undefined,
      }));
      await groupAvailable(ecA, id);
      if (declared.SnapshottingClusterId) {
        // The template names the member by the declared group id; here the group is `drill-primary`.
        const member = `${id}-${String(declared.SnapshottingClusterId).slice(-3)}`;
        await ecA.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: id, SnapshottingClusterId: member, ApplyImmediately: true }));
      }
      return groupAvailable(ecA, id);
    });

    await step(`write ${keys.toLocaleString('en-US')} keys to the primary`, async () => {
      const primary = connect(source);
      const pipeline = primary.pipeline();
      for (let i = 0; i < keys; i++) pipeline.set(`drill:${i}`, `value-${i}`);
      await pipeline.exec();
      await primary.wait(replicas, 10_000);
    });

    await step(`prepare the export bucket in ${A}, replicating to ${B}`, async () => {
      const grant = `id="${ELASTICACHE_CANONICAL_ID}"`;
      await s3B.send(new CreateBucketCommand({ Bucket: 'drill-replica', CreateBucketConfiguration: { LocationConstraint: B as any } }));
      await s3B.send(new PutBucketVersioningCommand({ Bucket: 'drill-replica', VersioningConfiguration: { Status: 'Enabled' } }));
      await s3B.send(new PutBucketPolicyCommand({
        Bucket: 'drill-replica',
        Policy: JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: { Service: `${B}.elasticache-snapshot.amazonaws.com` }, Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*' }] }),
      }));
      await s3A.send(new CreateBucketCommand({ Bucket: 'drill-exports', CreateBucketConfiguration: { LocationConstraint: A as any } }));
      await s3A.send(new PutBucketOwnershipControlsCommand({ Bucket: 'drill-exports', OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] } }));
      await s3A.send(new PutBucketAclCommand({ Bucket: 'drill-exports', GrantRead: grant, GrantWrite: grant, GrantReadACP: grant, GrantWriteACP: grant }));
      await s3A.send(new PutBucketVersioningCommand({ Bucket: 'drill-exports', VersioningConfiguration: { Status: 'Enabled' } }));
      await s3A.send(new PutBucketReplicationCommand({
        Bucket: 'drill-exports',
        ReplicationConfiguration: {
          Role: 'arn:aws:iam::000000000000:role/drill-replication',
          Rules: [{ ID: 'rdb', Priority: 1, Status: 'Enabled', Filter: { Prefix: '' }, Destination: { Bucket: 'arn:aws:s3:::drill-replica' }, DeleteMarkerReplication: { Status: 'Disabled' } }],
        },
      }));
    });

    const snapshot = await step('snapshot from the declared backup source', async () => {
      await ecA.send(new CreateSnapshotCommand(declared.SnapshottingClusterId
        ? { CacheClusterId: (await groupAvailable(ecA, id)).SnapshottingClusterId, SnapshotName: 'drill-1' }
        : { ReplicationGroupId: id, SnapshotName: 'drill-1' }));
      return snapshotAvailable(ecA, 'drill-1');
    });
    log(`    taken from ${snapshot.NodeSnapshots![0].CacheClusterId}`);

    await step('export to S3 and wait for the object', async () => {
      await ecA.send(new CopySnapshotCommand({ SourceSnapshotName: 'drill-1', TargetSnapshotName: 'drill-1', TargetBucket: 'drill-exports' }));
      // Not there until the export is done: a missing object means "not yet".
      await until('export', () => s3A.send(new HeadObjectCommand({ Bucket: 'drill-exports', Key: 'drill-1-0001.rdb' })).catch(() => undefined));
    });

    await step(`wait for replication to ${B}`, async () => {
      await until('replication', async () => {
        const head = await s3A.send(new HeadObjectCommand({ Bucket: 'drill-exports', Key: 'drill-1-0001.rdb' }));
        if (head.ReplicationStatus === 'FAILED') throw new Error('replication failed');
        return head.ReplicationStatus === 'COMPLETED' ? head : undefined;
      });
      await s3B.send(new HeadObjectCommand({ Bucket: 'drill-replica', Key: 'drill-1-0001.rdb' }));
    });

    const standby = await step(`restore a standby in ${B} from the replicated RDB`, async () => {
      await ecB.send(new CreateReplicationGroupCommand({
        ReplicationGroupId: 'drill-standby',
        ReplicationGroupDescription: 'drill: standby',
        CacheNodeType: declared.CacheNodeType,
        NumCacheClusters: 1 + replicas,
        AutomaticFailoverEnabled: replicas > 0,
        SnapshotArns: ['arn:aws:s3:::drill-replica/drill-1-0001.rdb'],
      }));
      return groupAvailable(ecB, 'drill-standby');
    });

    // The name applications use is a CNAME to the standby's primary endpoint name, as in AWS; both
    // are answered by the provider's DNS server, which this process resolves through.
    const name = 'redis.drill.internal';
    const target = standby.NodeGroups![0].PrimaryEndpoint!.Address!;
    const port = standby.NodeGroups![0].PrimaryEndpoint!.Port!;
    await step('check the standby, then move the DNS name to it', async () => {
      const check = connect(standby);
      const size = await check.dbsize();
      if (size !== keys) throw new Error(`the standby has ${size} keys, expected ${keys}; DNS not moved`);
      const zone = await r53.send(new CreateHostedZoneCommand({ Name: 'drill.internal', CallerReference: `drill-${Date.now()}` }));
      const change = await r53.send(new ChangeResourceRecordSetsCommand({
        HostedZoneId: zone.HostedZone!.Id,
        ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: name, Type: 'CNAME', TTL: 30, ResourceRecords: [{ Value: target }] } }] },
      }));
      await until('DNS in sync', async () => {
        const info = await r53.send(new GetChangeCommand({ Id: change.ChangeInfo!.Id }));
        return info.ChangeInfo?.Status === 'INSYNC' ? info : undefined;
      });
    });

    const restored = await step('read every key back through the DNS name', async () => {
      const client = new Redis({ host: name, port, maxRetriesPerRequest: 2 });
      redisClients.push(client);
      let good = 0;
      for (let i = 0; i < keys; i += 5000) {
        const batch = Array.from({ length: Math.min(5000, keys - i) }, (_, j) => `drill:${i + j}`);
        const values = await client.mget(batch);
        good += values.filter((v, j) => v === `value-${i + j}`).length;
      }
      if (good !== keys) throw new Error(`${keys - good} keys are missing or wrong after the restore`);
      return good;
    });
    return { keysRestored: restored, dnsTarget: target, steps };
  } finally {
    for (const c of redisClients) c.disconnect();
    for (const c of [ecA, ecB, s3A, s3B, r53]) c.destroy();
    await provider.stop();
  }
}
