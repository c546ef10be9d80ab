/**
 * The Lambda steps of `StandbyRestore`'s state machine that need code: finding the newest complete
 * replicated export, creating the standby seeded from it, moving the DNS record, and recording the
 * run's RPO and RTO. Waiting (DescribeReplicationGroups, GetChange) and deleting a rehearsal's
 * standby are AWS SDK integrations of the state machine itself; the check of the standby's data runs
 * in the VPC as a function of its own (standby-check.ts).
 *
 * A step that finds something wrong throws an error whose `name` the state machine's Catch reports.
 * Nothing here deletes or overwrites anything: the standby's id is new for every run, and
 * CreateReplicationGroup refuses an id that exists.
 */
import { CreateReplicationGroupCommand, CreateReplicationGroupCommandInput, NodeGroupConfiguration } from '@aws-sdk/client-elasticache';
import { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { GetObjectAclCommand, GetObjectCommand, ListObjectsV2Command, PutObjectAclCommand } from '@aws-sdk/client-s3';
import { describeGroup, elasticache, s3 } from './clients';
import { secretString, StepError, utcStamp } from './steps-common';
import { ExportManifest, manifestKey } from '../../src/private/export-workflow-contract';
import { ELASTICACHE_CANONICAL_ID } from '../../src/private/regions';
import { slotRanges } from '../../src/private/slots';
import {
  CreateStandbyInput, CreateStandbyOutput, CutoverInput, CutoverOutput, EXPORT_NOT_USABLE, FindExportInput, FindExportOutput, INVALID_INPUT,
  METRIC_NAMESPACE, METRICS, NO_COMPLETE_EXPORT, RecordFailureInput, RecordInput, RecordOutput, RESTORE_MODES, RunMode, RestoreStepInput,
  SkippedExport, STANDBY_ALREADY_SERVING, STANDBY_AUTH_MISMATCH,
} from '../../src/private/standby-restore-contract';

/** The Lambda entry point (`index.standbyRestoreStep` of the export-workflow bundle). */
export async function handler(event: RestoreStepInput): Promise<unknown> {
  switch (event.step) {
    case 'findExport': return findExport(event);
    case 'createStandby': return createStandby(event);
    case 'cutover': return cutover(event);
    case 'record': return record(event);
    case 'recordFailure': return recordFailure(event);
    default: throw new Error(`unknown step ${(event as { step?: unknown }).step}`);
  }
}

function modeOf(value: unknown): RunMode {
  if (typeof value !== 'string' || !(RESTORE_MODES as string[]).includes(value)) {
    throw new StepError(INVALID_INPUT, `mode is ${JSON.stringify(value) ?? 'missing'}; give "failover" (restore, check, move DNS) or "rehearsal" (restore, check, record, delete the standby)`);
  }
  return value as RunMode;
}

/**
 * Every object under `prefix` with its size. Presence and sizes come from the listing, not from
 * HeadObject: a HEAD of a missing key answers 403, not 404, to a caller whose s3:ListBucket is
 * limited by an `s3:prefix` condition (a HEAD carries no prefix), which would fail the run instead of
 * passing over an export that is still replicating.
 */
async function listSizes(bucket: string, prefix: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      if (o.Key) sizes.set(o.Key, o.Size ?? 0);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return sizes;
}

/** The run names of the workflow's exports that have a manifest among `sizes`' keys, newest first. */
function manifestRuns(sizes: Map<string, number>, prefix: string): string[] {
  const own = new RegExp(`^(${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{8}-\\d{6})\\.manifest\\.json$`);
  const runs = [...sizes.keys()].map((key) => own.exec(key)?.[1]).filter((run): run is string => run !== undefined);
  // The stamp is the run's start time (YYYYMMDD-HHMMSS): names sort by it.
  return runs.sort().reverse();
}

/** The run's manifest, and why it cannot be restored from (undefined: it can). */
async function inspect(bucket: string, runName: string, sizes: Map<string, number>): Promise<{ manifest?: ExportManifest; problem?: string }> {
  if (!sizes.has(manifestKey(runName))) {
    return { problem: 'its manifest is not in the replica bucket' };
  }
  let manifest: ExportManifest;
  try {
    const got = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: manifestKey(runName) }));
    manifest = JSON.parse(await got.Body!.transformToString('utf-8')) as ExportManifest;
  } catch (e) {
    return { problem: `its manifest cannot be read (${(e as Error).message})` };
  }
  if (manifest.manifestVersion !== 1 || !Array.isArray(manifest.shards) || manifest.shards.length === 0 || manifest.runName !== runName) {
    return { manifest, problem: 'its manifest is not a version 1 manifest of this run with at least one shard' };
  }
  for (const shard of manifest.shards) {
    const size = sizes.get(shard.object.key);
    if (size === undefined) {
      return { manifest, problem: `${shard.object.key} (shard ${shard.nodeGroupId}) is not in the replica bucket` };
    }
    if (size !== shard.object.size) {
      return { manifest, problem: `${shard.object.key} is ${size} bytes, the manifest says ${shard.object.size}` };
    }
  }
  return { manifest };
}

/**
 * A failover after a failover would restore the old region's last export over a standby that has
 * been taking writes since, and move applications off it: their writes would be lost. So while the
 * record points at one of this workflow's standbys (its endpoint names the standby's id), a
 * failover is refused unless the input says `"force": true`.
 */
async function refuseWhileStandbyServes(input: FindExportInput): Promise<void> {
  const route53 = new Route53Client({});
  try {
    const current = await currentTarget(route53, input.record.hostedZoneId, input.record.recordName);
    if (current && new RegExp(`(^|[.])${input.standbyPrefix}-\\d{6}-\\d{6}[.]`).test(current)) {
      throw new StepError(STANDBY_ALREADY_SERVING, `${input.record.recordName} already points at ${current}, a standby this workflow restored: `
        + 'applications may be writing to it, and a failover would move them to an older export. Start the run with "force": true to fail over anyway');
    }
  } finally {
    route53.destroy();
  }
}

async function findExport(input: FindExportInput): Promise<FindExportOutput> {
  const mode = modeOf(input.request.mode);
  const wanted = input.request.runName;
  if (wanted !== undefined && (typeof wanted !== 'string' || !new RegExp(`^${input.exportPrefix}-\\d{8}-\\d{6}$`).test(wanted))) {
    throw new StepError(INVALID_INPUT, `runName is ${JSON.stringify(wanted)}; give the name of one of this workflow's exports, ${input.exportPrefix}-YYYYMMDD-HHMMSS, or leave it out for the newest complete one`);
  }
  const force = input.request.force;
  if (force !== undefined && typeof force !== 'boolean') {
    throw new StepError(INVALID_INPUT, `force is ${JSON.stringify(force)}; give true to fail over although the record already points at one of this workflow's standbys`);
  }
  if (mode === 'failover' && force !== true) {
    await refuseWhileStandbyServes(input);
  }
  const skipped: SkippedExport[] = [];
  const sizes = await listSizes(input.bucket, wanted !== undefined ? wanted as string : `${input.exportPrefix}-`);
  const candidates = wanted !== undefined ? [wanted as string] : manifestRuns(sizes, input.exportPrefix);
  for (const runName of candidates) {
    const { manifest, problem } = await inspect(input.bucket, runName, sizes);
    if (problem || !manifest) {
      if (wanted !== undefined) {
        throw new StepError(EXPORT_NOT_USABLE, `export ${runName} in s3://${input.bucket} cannot be restored from: ${problem}`);
      }
      skipped.push({ runName, reason: problem ?? 'no manifest' });
      continue;
    }
    return {
      mode,
      runName,
      snapshotTime: manifest.snapshotTime,
      manifest,
      objectArns: manifest.shards.map((sh) => `arn:aws:s3:::${input.bucket}/${sh.object.key}`),
      skipped,
      standbyId: `${input.standbyPrefix}-${utcStamp(input.startTime).slice(2)}`,
    };
  }
  const passed = skipped.length === 0 ? '' : `; passed over: ${skipped.map((s) => `${s.runName} (${s.reason})`).join('; ')}`;
  throw new StepError(NO_COMPLETE_EXPORT, `no complete export named ${input.exportPrefix}-YYYYMMDD-HHMMSS is in s3://${input.bucket}${passed}`);
}

/**
 * Grants ElastiCache's canonical user READ on an object, keeping its owner and every grant there:
 * the seeding guide's step for buckets ElastiCache reads through ACLs ("Seeding a new cluster with an
 * externally created backup", step "Grant ElastiCache read access to the .rdb file"). Replicated
 * objects are owned by the replica bucket's owner when the bucket owner is preferred, but carry no
 * grant for ElastiCache (a bucket ACL grant does not reach objects), hence this grant per run.
 */
async function grantRead(bucket: string, key: string): Promise<void> {
  const acl = await s3().send(new GetObjectAclCommand({ Bucket: bucket, Key: key }));
  const grants = acl.Grants ?? [];
  if (grants.some((g) => g.Grantee?.ID === ELASTICACHE_CANONICAL_ID && (g.Permission === 'READ' || g.Permission === 'FULL_CONTROL'))) return;
  await s3().send(new PutObjectAclCommand({
    Bucket: bucket,
    Key: key,
    AccessControlPolicy: { Owner: acl.Owner, Grants: [...grants, { Grantee: { Type: 'CanonicalUser', ID: ELASTICACHE_CANONICAL_ID }, Permission: 'READ' }] },
  }));
}

/**
 * The engine version to create with. Snapshots report the version their nodes ran, with its patch
 * (`7.1.0`); from 6 on, ElastiCache creates only by major.minor ("Specific version selection is not
 * allowed for '6.2.6', please use '6.2'", as reported in crossplane-contrib/provider-aws#1617; not
 * found in the stored AWS documents). Older versions are created by their full number.
 */
export function creatableVersion(version: string): string {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m && Number(m[1]) >= 6 ? `${m[1]}.${m[2]}` : version;
}

/** The CreateReplicationGroup request of the standby: shaped from the manifest, as the props override. */
export function standbyRequest(input: CreateStandbyInput, authToken?: string): CreateReplicationGroupCommandInput {
  const { found, shape } = input;
  const source = found.manifest.source;
  const clustered = source.clusterMode === 'enabled' || found.manifest.shards.length > 1;
  const replicas = shape.replicasPerShard ?? source.replicasPerShard ?? 1;
  const common: CreateReplicationGroupCommandInput = {
    ReplicationGroupId: found.standbyId,
    ReplicationGroupDescription: `Standby restored from ${found.runName} by ${input.workflow}, run ${input.executionName}`,
    Engine: source.engine,
    EngineVersion: creatableVersion(source.engineVersion),
    CacheNodeType: shape.cacheNodeType ?? source.cacheNodeType,
    CacheParameterGroupName: shape.cacheParameterGroupName,
    CacheSubnetGroupName: shape.cacheSubnetGroupName,
    SecurityGroupIds: shape.securityGroupIds.length > 0 ? shape.securityGroupIds : undefined,
    Port: shape.port,
    SnapshotArns: found.objectArns,
    AtRestEncryptionEnabled: true,
    TransitEncryptionEnabled: shape.transitEncryption,
    AuthToken: authToken,
    AutomaticFailoverEnabled: clustered || replicas > 0,
    MultiAZEnabled: shape.multiAz && replicas > 0,
    SnapshotRetentionLimit: shape.snapshotRetentionLimit,
    SnapshotWindow: shape.snapshotWindow,
    PreferredMaintenanceWindow: shape.preferredMaintenanceWindow,
    Tags: [
      { Key: 'cdk-elasticache-backup:restored-from', Value: found.runName },
      { Key: 'cdk-elasticache-backup:workflow', Value: input.workflow },
    ],
  };
  if (!clustered) {
    return { ...common, NumCacheClusters: 1 + replicas };
  }
  // Each shard keeps its slots (the export's, else an even split), so every RDB loads into the
  // shard that owns its keys. "Slots must be provided when restoring from snapshot ARNs with cluster
  // mode enabled" (ElastiCache, CreateReplicationGroup).
  const generated = slotRanges(found.manifest.shards.length);
  const groups: NodeGroupConfiguration[] = found.manifest.shards.map((sh, i) => ({
    NodeGroupId: sh.nodeGroupId,
    Slots: sh.slots ?? generated[i],
    ReplicaCount: replicas,
  }));
  return { ...common, ClusterMode: 'enabled', NumNodeGroups: groups.length, ReplicasPerNodeGroup: replicas, NodeGroupConfiguration: groups };
}

async function createStandby(input: CreateStandbyInput): Promise<CreateStandbyOutput> {
  // Applications of a group with an AUTH token send it: a standby without one refuses them
  // ("AUTH <password> called without any password configured"), so it is not created.
  if (input.found.manifest.source.authToken === true && !input.shape.authTokenSecretArn) {
    throw new StepError(STANDBY_AUTH_MISMATCH, `export ${input.found.runName} is of group ${input.found.manifest.source.replicationGroupId}, whose clients `
      + 'authenticate with an AUTH token, but this StandbyRestore gives its standby none: applications would be refused after a failover. '
      + 'Give the StandbyRestore an authToken (the token applications use, e.g. the group\'s secret replicated to this region)');
  }
  if (input.grantObjectRead) {
    for (const arn of input.found.objectArns) await grantRead(input.bucket, arn.slice(`arn:aws:s3:::${input.bucket}/`.length));
  }
  const token = input.shape.authTokenSecretArn ? await secretString(input.shape.authTokenSecretArn) : undefined;
  const request = standbyRequest(input, token);
  try {
    await elasticache().send(new CreateReplicationGroupCommand(request));
  } catch (e) {
    // A retried step (the first call created the group, its answer was lost) finds its own standby:
    // the id carries the run's start time and the description the run's export. Anything else that
    // holds the id is not touched, and the run fails.
    if ((e as { name?: string }).name !== 'ReplicationGroupAlreadyExistsFault') throw e;
    const existing = await describeGroup(request.ReplicationGroupId!);
    if (existing?.Description !== request.ReplicationGroupDescription) throw e;
  }
  return {
    replicationGroupId: input.found.standbyId,
    clusterMode: request.ClusterMode === 'enabled' ? 'enabled' : 'disabled',
    shards: request.NumNodeGroups ?? 1,
    checks: 0,
  };
}

/** The CNAME's current target, or undefined when there is no such record. */
async function currentTarget(route53: Route53Client, hostedZoneId: string, recordName: string): Promise<string | undefined> {
  const name = recordName.endsWith('.') ? recordName : `${recordName}.`;
  const listed = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: hostedZoneId, StartRecordName: name, StartRecordType: 'CNAME', MaxItems: 1 }));
  const current = listed.ResourceRecordSets?.find((r) => r.Type === 'CNAME' && r.Name?.toLowerCase() === name.toLowerCase());
  return current?.ResourceRecords?.[0]?.Value;
}

/** The record's current value (null: none), then the UPSERT. */
async function cutover(input: CutoverInput): Promise<CutoverOutput> {
  // One run moves the record once: a client for this call only.
  const route53 = new Route53Client({});
  try {
    return await upsert(route53, input);
  } finally {
    route53.destroy();
  }
}

async function upsert(route53: Route53Client, input: CutoverInput): Promise<CutoverOutput> {
  const name = input.recordName.endsWith('.') ? input.recordName : `${input.recordName}.`;
  const oldTarget = await currentTarget(route53, input.hostedZoneId, name);
  const changed = await route53.send(new ChangeResourceRecordSetsCommand({
    HostedZoneId: input.hostedZoneId,
    ChangeBatch: {
      Comment: input.comment,
      Changes: [{
        Action: 'UPSERT',
        ResourceRecordSet: { Name: name, Type: 'CNAME', TTL: input.ttlSeconds, ResourceRecords: [{ Value: input.target }] },
      }],
    },
  }));
  // Step Functions' GetChange (the Java SDK) sends the Id as given: the bare id, without `/change/`.
  // A record that already points at the standby was moved by an earlier attempt of this step (retried
  // after a Lambda service error): what it pointed at before is not known any more, and is not
  // reported as the standby itself.
  return {
    changeId: changed.ChangeInfo!.Id!.replace(/^\/change\//, ''),
    oldTarget: oldTarget === undefined || sameName(oldTarget, input.target) ? null : oldTarget,
    newTarget: input.target,
    checks: 0,
  };
}

/** Whether two DNS names are the same (case and a final dot aside). */
function sameName(a: string, b: string): boolean {
  const canonical = (n: string) => n.toLowerCase().replace(/\.$/, '');
  return canonical(a) === canonical(b);
}

/**
 * Prints metrics in CloudWatch's embedded metric format: CloudWatch Logs turns the Lambda's log line
 * into metrics, with no PutMetricData call and no IAM grant (CloudWatch user guide, "Embedding
 * metrics within logs", specification).
 */
function emitMetrics(workflow: string, mode: string, values: Record<string, number>): void {
  console.log(JSON.stringify({
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [{
        Namespace: METRIC_NAMESPACE,
        Dimensions: [['Workflow', 'Mode']],
        Metrics: Object.keys(values).map((Name) => ({ Name, Unit: Name === METRICS.failures ? 'Count' : 'Seconds' })),
      }],
    },
    Workflow: workflow,
    Mode: mode,
    ...values,
  }));
}

async function record(input: RecordInput): Promise<RecordOutput> {
  const start = new Date(input.startTime).getTime();
  const now = new Date(input.now).getTime();
  const rpoSeconds = Math.max(0, Math.round((start - new Date(input.snapshotTime).getTime()) / 1000));
  const rtoSeconds = Math.max(0, Math.round((now - start) / 1000));
  emitMetrics(input.workflow, input.mode, { [METRICS.rpo]: rpoSeconds, [METRICS.rto]: rtoSeconds });
  return { rpoSeconds, rtoSeconds, recordedAt: new Date(now).toISOString() };
}

async function recordFailure(input: RecordFailureInput): Promise<{ recorded: true }> {
  const given = input.request?.mode;
  const mode = typeof given === 'string' && (RESTORE_MODES as string[]).includes(given) ? given : 'invalid';
  emitMetrics(input.workflow, mode, { [METRICS.failures]: 1 });
  return { recorded: true };
}
