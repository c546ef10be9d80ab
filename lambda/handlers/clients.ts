/**
 * The AWS SDK clients the handlers share: plain clients (region and endpoint from the environment,
 * as in Lambda; the local provider's endpoint variables point them at it), made once per container
 * and reused across invocations.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  DeleteSnapshotCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient, ReplicationGroup,
  ReplicationGroupNotFoundFault, Snapshot, SnapshotNotFoundFault,
} from '@aws-sdk/client-elasticache';
import { S3Client } from '@aws-sdk/client-s3';

/**
 * One client per service and region, the region being the one asked for or the function's own
 * (`AWS_REGION`, read at each call: in Lambda it never changes; the local deployer runs the
 * handlers of stacks in several regions in one process).
 */
function cached<T>(clients: Map<string, T>, make: (region: string | undefined) => T, region?: string): T {
  const effective = region ?? process.env.AWS_REGION;
  // The endpoint variables a client reads when it is made are part of the key too: in Lambda they
  // never change either; a test process that starts a second local provider gets clients for it.
  const endpoints = Object.keys(process.env).filter((k) => k.startsWith('AWS_ENDPOINT_URL')).sort().map((k) => `${k}=${process.env[k]}`);
  const key = [effective ?? '', ...endpoints].join('|');
  let c = clients.get(key);
  if (!c) {
    c = make(effective);
    clients.set(key, c);
  }
  return c;
}

const ecClients = new Map<string, ElastiCacheClient>();
/** The ElastiCache client of the function's own region. */
export function elasticache(): ElastiCacheClient {
  return cached(ecClients, (region) => new ElastiCacheClient(region ? { region } : {}));
}

const s3Clients = new Map<string, S3Client>();
/** The S3 client of `region`, or of the function's own region when none is given. */
export function s3(region?: string): S3Client {
  return cached(s3Clients, (r) => new S3Client(r ? { region: r } : {}), region);
}

const cfnClients = new Map<string, CloudFormationClient>();
/** The CloudFormation client of the function's own region (its stack's). */
export function cloudformation(): CloudFormationClient {
  return cached(cfnClients, (region) => new CloudFormationClient(region ? { region } : {}));
}

/** Deletes a snapshot; one that is already gone is fine. */
export async function deleteSnapshotIfPresent(name: string): Promise<void> {
  await elasticache().send(new DeleteSnapshotCommand({ SnapshotName: name })).catch((e) => {
    if (!(e instanceof SnapshotNotFoundFault)) throw e;
  });
}

/** A snapshot by name, or undefined when there is none. */
export async function describeSnapshot(name: string): Promise<Snapshot | undefined> {
  try {
    return (await elasticache().send(new DescribeSnapshotsCommand({ SnapshotName: name }))).Snapshots?.[0];
  } catch (e) {
    if (e instanceof SnapshotNotFoundFault) return undefined;
    throw e;
  }
}

/** A replication group by id, or undefined when there is none. */
export async function describeGroup(id: string): Promise<ReplicationGroup | undefined> {
  try {
    return (await elasticache().send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }))).ReplicationGroups?.[0];
  } catch (e) {
    if (e instanceof ReplicationGroupNotFoundFault) return undefined;
    throw e;
  }
}
