/**
 * The Lambda steps of `ScheduledSnapshotExport`'s state machine. The ElastiCache calls that need no
 * logic (CreateSnapshot, DescribeSnapshots, CopySnapshot) are AWS SDK integrations of the state
 * machine itself; these steps are what needs a little code: naming the run, verifying the exported
 * objects, checking the replica, pruning.
 *
 * A step that finds work not done yet returns (`ready: false`); the state machine waits and asks
 * again. A step that finds something wrong throws an error whose `name` the state machine's Catch
 * reports.
 */
import { DescribeSnapshotsCommand, Snapshot } from '@aws-sdk/client-elasticache';
import {
  DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, HeadObjectCommandOutput, ListObjectsV2Command, PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { deleteSnapshotIfPresent, elasticache, s3 } from './clients';
import { readRdbHeader } from './rdb';
import { StepError, utcStamp } from './steps-common';
import {
  CheckReplicaInput, CheckReplicaOutput, EXPORT_EMPTY, EXPORT_INCOMPLETE, ExportedObject, ExportManifest, ManifestShard, manifestKey,
  PlanInput, PlanOutput, PruneInput, PruneOutput, REPLICATION_FAILED, REPLICATION_INCOMPLETE, VerifyExportInput,
  VerifyExportOutput, WorkflowStepInput,
} from '../../src/private/export-workflow-contract';
import { parameterGroupFamily } from '../../src/private/parameter-group-family-contract';

/** The object keys ElastiCache writes for an export of `name` with `shards` shards. */
export function exportKeys(name: string, shards: number): string[] {
  return Array.from({ length: shards }, (_, i) => `${name}-${String(i + 1).padStart(4, '0')}.rdb`);
}

async function head(client: S3Client, bucket: string, key: string): Promise<HeadObjectCommandOutput | undefined> {
  try {
    return await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  } catch (e) {
    if ((e as { name?: string }).name === 'NotFound' || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
      return undefined;
    }
    throw e;
  }
}

export function plan(input: PlanInput): PlanOutput {
  return { snapshotName: `${input.prefix}-${utcStamp(input.startTime)}` };
}

async function verifyExport(input: VerifyExportInput): Promise<VerifyExportOutput> {
  const checks = input.checks + 1;
  const objects: ExportedObject[] = [];
  for (const key of exportKeys(input.snapshotName, input.shards)) {
    const h = await head(s3(), input.bucket, key);
    if (!h) {
      if (checks >= input.maxChecks) {
        throw new StepError(EXPORT_INCOMPLETE, `s3://${input.bucket}/${key} is still missing after ${checks} checks; the export of ${input.snapshotName} did not complete`);
      }
      return { ready: false, checks, objects: [] };
    }
    if (!h.ContentLength) {
      throw new StepError(EXPORT_EMPTY, `s3://${input.bucket}/${key} is empty; the export of ${input.snapshotName} is not a usable backup`);
    }
    objects.push({ key, size: h.ContentLength, etag: h.ETag ?? '' });
  }
  const manifest = await writeManifest(input, objects);
  return { ready: true, checks, objects: [...objects, manifest] };
}

/**
 * What an exported RDB file's header (its first 64 KiB, a ranged GET) says of database 0: its keys,
 * those with an expiry, and its first key (unless that expires). Nothing when the header cannot be
 * read there or its first database is another one.
 */
async function database0(bucket: string, key: string): Promise<Pick<ManifestShard, 'keys' | 'expires' | 'sampleKey'>> {
  const got = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=0-65535' }));
  const start = Buffer.from(await got.Body!.transformToByteArray());
  try {
    const header = readRdbHeader(start);
    if (!header.firstDatabase) return { keys: 0, expires: 0 };
    if (header.firstDatabase.db !== 0) return {};
    const sample = header.firstKey && !header.firstKey.expires ? header.firstKey.name : undefined;
    return { keys: header.firstDatabase.keys, expires: header.firstDatabase.expires, sampleKey: sample };
  } catch (e) {
    console.log(`s3://${bucket}/${key}: no key count from its header (${(e as Error).message})`);
    return {};
  }
}

/**
 * Writes the run's manifest next to its verified RDB objects: the group's settings a restore needs,
 * from the snapshot (engine, version, node type, shards and their slots, when the data was taken)
 * and from what the construct knows. Replicated like the RDBs, and checked in the replica with them.
 */
async function writeManifest(input: VerifyExportInput, objects: ExportedObject[]): Promise<ExportedObject> {
  const described = await elasticache().send(new DescribeSnapshotsCommand({ SnapshotName: input.snapshotName, ShowNodeGroupConfig: true }));
  const snapshot = described.Snapshots?.[0];
  if (!snapshot) {
    throw new Error(`snapshot ${input.snapshotName} disappeared before its manifest was written`);
  }
  const nodes = [...(snapshot.NodeSnapshots ?? [])].sort((a, b) => (a.NodeGroupId ?? '').localeCompare(b.NodeGroupId ?? ''));
  const times = nodes.map((n) => n.SnapshotCreateTime?.getTime()).filter((t): t is number => t !== undefined);
  const shards: ManifestShard[] = [];
  for (const [i, object] of objects.entries()) {
    shards.push({
      nodeGroupId: nodes[i]?.NodeGroupId ?? String(i + 1).padStart(4, '0'),
      slots: input.source.clusterMode === 'enabled' ? nodes[i]?.NodeGroupConfiguration?.Slots : undefined,
      object,
      ...await database0(input.bucket, object.key),
    });
  }
  const engine = snapshot.Engine ?? 'redis';
  const engineVersion = snapshot.EngineVersion ?? '';
  const manifest: ExportManifest = {
    manifestVersion: 1,
    runName: input.snapshotName,
    snapshotTime: new Date(times.length > 0 ? Math.max(...times) : Date.now()).toISOString(),
    writtenAt: new Date().toISOString(),
    source: {
      ...input.source,
      engine,
      engineVersion,
      cacheNodeType: snapshot.CacheNodeType ?? '',
      port: snapshot.Port ?? input.source.port,
      cacheParameterGroupName: snapshot.CacheParameterGroupName,
      parameterGroupFamily: parameterGroupFamily(engine, engineVersion),
      dataTiering: snapshot.DataTiering === 'enabled',
    },
    shards,
    objects,
    keyCount: shards.every((sh) => sh.keys !== undefined) ? shards.reduce((sum, sh) => sum + sh.keys!, 0) : undefined,
  };
  const body = JSON.stringify(manifest, undefined, 2);
  const key = manifestKey(input.snapshotName);
  const put = await s3().send(new PutObjectCommand({ Bucket: input.bucket, Key: key, Body: body, ContentType: 'application/json' }));
  return { key, size: Buffer.byteLength(body), etag: put.ETag ?? '' };
}

async function checkReplica(input: CheckReplicaInput): Promise<CheckReplicaOutput> {
  const checks = input.checks + 1;
  for (const o of input.objects) {
    const source = await head(s3(), input.bucket, o.key);
    if (source?.ReplicationStatus === 'FAILED') {
      throw new StepError(REPLICATION_FAILED, `S3 could not replicate s3://${input.bucket}/${o.key} to ${input.replicaBucket} (replication status FAILED)`);
    }
    const copy = await head(s3(input.replicaRegion), input.replicaBucket, o.key);
    if (!copy || copy.ContentLength !== o.size || (o.etag && copy.ETag !== o.etag)) {
      if (checks >= input.maxChecks) {
        throw new StepError(REPLICATION_INCOMPLETE, `s3://${input.replicaBucket}/${o.key} (${input.replicaRegion}) is still not a copy of the export after ${checks} checks`);
      }
      return { replicated: false, checks };
    }
  }
  return { replicated: true, checks };
}

/** The run names (snapshot names) the workflow made, newest first: from its snapshots and its exports. */
async function runs(input: PruneInput): Promise<Map<string, { snapshot?: Snapshot; keys: string[] }>> {
  const own = new RegExp(`^${input.prefix}-\\d{8}-\\d{6}$`);
  const found = new Map<string, { snapshot?: Snapshot; keys: string[] }>();
  let marker: string | undefined;
  do {
    const page = await elasticache().send(new DescribeSnapshotsCommand({ ReplicationGroupId: input.replicationGroupId, SnapshotSource: 'user', Marker: marker }));
    for (const s of page.Snapshots ?? []) {
      if (s.SnapshotName && own.test(s.SnapshotName)) found.set(s.SnapshotName, { snapshot: s, keys: [] });
    }
    marker = page.Marker;
  } while (marker);
  let token: string | undefined;
  do {
    const page = await s3().send(new ListObjectsV2Command({ Bucket: input.bucket, Prefix: `${input.prefix}-`, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const m = /^(.*)(?:-\d{4}\.rdb|\.manifest\.json)$/.exec(o.Key ?? '');
      if (!m || !own.test(m[1])) continue;
      const run = found.get(m[1]) ?? { keys: [] };
      run.keys.push(o.Key!);
      found.set(m[1], run);
    }
    token = page.NextContinuationToken;
  } while (token);
  return new Map([...found.entries()].sort(([a], [b]) => b.localeCompare(a)));
}

/** When a run started, from its name. */
function startedAt(name: string): number {
  const m = /-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})$/.exec(name)!;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
}

async function verifiedInReplica(input: PruneInput, name: string, keys: string[], shards: number): Promise<boolean> {
  const expected = new Set([...keys, ...exportKeys(name, shards)]);
  for (const key of expected) {
    const source = await head(s3(), input.bucket, key);
    const copy = await head(s3(input.replicaRegion), input.replicaBucket, key);
    if (!copy || !copy.ContentLength || (source && source.ContentLength !== copy.ContentLength)) {
      return false;
    }
  }
  return true;
}

async function prune(input: PruneInput): Promise<PruneOutput> {
  const now = new Date(input.now).getTime();
  const pruned: string[] = [];
  const kept: string[] = [];
  let index = 0;
  for (const [name, run] of await runs(input)) {
    index++;
    if (name === input.current) continue;
    const tooMany = index > input.keep;
    const tooOld = input.maxAgeDays > 0 && now - startedAt(name) > input.maxAgeDays * 86_400_000;
    if (!tooMany && !tooOld) continue;
    if (run.snapshot?.SnapshotStatus === 'failed' && run.keys.length === 0) {
      // A failed snapshot holds no data and was never exported: nothing is lost by deleting it.
      await deleteSnapshotIfPresent(name);
      pruned.push(name);
      continue;
    }
    if (run.snapshot && run.snapshot.SnapshotStatus !== 'available') {
      // Busy (being copied or deleted): the next run looks at it again.
      kept.push(name);
      continue;
    }
    const shards = run.snapshot?.NodeSnapshots?.length || run.keys.length || 1;
    if (!await verifiedInReplica(input, name, run.keys, shards)) {
      kept.push(name);
      continue;
    }
    // The manifest first: a run interrupted here is left without one, which a restore skips as
    // incomplete, never as a manifest naming RDB objects that are gone.
    for (const key of [...run.keys].sort((a, b) => Number(b.endsWith('.manifest.json')) - Number(a.endsWith('.manifest.json')))) {
      await s3().send(new DeleteObjectCommand({ Bucket: input.bucket, Key: key }));
    }
    if (run.snapshot) {
      await deleteSnapshotIfPresent(name);
    }
    pruned.push(name);
  }
  return { pruned, kept };
}

export async function handler(input: WorkflowStepInput): Promise<unknown> {
  switch (input.step) {
    case 'plan':
      return plan(input);
    case 'verifyExport':
      return verifyExport(input);
    case 'checkReplica':
      return checkReplica(input);
    case 'prune':
      return prune(input);
    default:
      throw new Error(`unknown step ${(input as { step: string }).step}`);
  }
}
