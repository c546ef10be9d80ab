/**
 * The AWS SDK clients the handlers share: plain clients (region and endpoint from the environment,
 * as in Lambda; the local provider's endpoint variables point them at it), made once per container
 * and reused across invocations.
 */
import { DeleteSnapshotCommand, ElastiCacheClient, SnapshotNotFoundFault } from '@aws-sdk/client-elasticache';
import { S3Client } from '@aws-sdk/client-s3';

let ec: ElastiCacheClient | undefined;
export function elasticache(): ElastiCacheClient {
  ec ??= new ElastiCacheClient({});
  return ec;
}

const s3Clients = new Map<string, S3Client>();
/** The S3 client of `region`, or of the function's own region when none is given. */
export function s3(region?: string): S3Client {
  const key = region ?? '';
  let c = s3Clients.get(key);
  if (!c) {
    c = new S3Client(region ? { region } : {});
    s3Clients.set(key, c);
  }
  return c;
}

/** Deletes a snapshot; one that is already gone is fine. */
export async function deleteSnapshotIfPresent(name: string): Promise<void> {
  await elasticache().send(new DeleteSnapshotCommand({ SnapshotName: name })).catch((e) => {
    if (!(e instanceof SnapshotNotFoundFault)) throw e;
  });
}
