import { Token } from 'aws-cdk-lib';
import { EngineVersion, resolveEngine, restoreEngineRule } from './engine';
import { isDataTiering } from './node-type';
import { ClusterMode } from '../../replication-group-base';
import { RestoreSource } from '../../restore';
import { checkSnapshotNameToRestore } from '../names';

/** `Redis OSS 7.1` or `Valkey 8.0`, for messages. */
export function engineLabel(engine: EngineVersion): string {
  return `${engine.engine === 'valkey' ? 'Valkey' : 'Redis OSS'} ${engine.version}`;
}

/** What a new group is seeded from: `SnapshotName` or `SnapshotArns`. */
export interface Seed {
  readonly snapshotName?: string;
  readonly rdbObjectArns?: string[];
}

const S3_OBJECT_ARN = /^arn:aws[a-z-]*:s3:::([^/]+)\/(.+)$/;
const BUCKET_NAME = /^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Seeding a new group (ElastiCache user guide, "Restoring from a backup into a new cache" and
 * "Seeding a new self-designed cluster with an externally created backup"): a data-tiering snapshot
 * restores only into data-tiering nodes; RDB files are S3 object ARNs in DNS-compliant buckets, with
 * no commas (SnapshotArns is a comma-separated list), one per shard; a snapshot whose source engine
 * is known restores only into the same engine at the same or a newer version (see restoreEngineRule).
 */
export function checkRestore(
  source: RestoreSource | undefined, nodeType: string, clusterMode: ClusterMode, shards: number, engine: EngineVersion,
): Seed | undefined {
  if (!source) {
    return undefined;
  }
  if (source.snapshotName !== undefined) {
    checkSnapshotNameToRestore('restoreFrom snapshot name', source.snapshotName);
    const from = source.sourceNodeType;
    if (from && !Token.isUnresolved(from) && !Token.isUnresolved(nodeType) && isDataTiering(from) && !isDataTiering(nodeType)) {
      throw new Error(`restoreFrom snapshot '${source.snapshotName}' was taken from data-tiering node type '${from}' but nodeType is '${nodeType}'; a data-tiering snapshot restores only into data-tiering (cache.r6gd.*) nodes`);
    }
    if (source.sourceEngine) {
      const rule = restoreEngineRule(resolveEngine(source.sourceEngine, undefined), engine);
      if (rule) {
        throw new Error(`restoreFrom snapshot '${source.snapshotName}' was taken from ${source.sourceEngine} but engine is ${engineLabel(engine)}; ${rule}`);
      }
    }
    return { snapshotName: source.snapshotName };
  }
  const arns = source.rdbObjectArns ?? [];
  if (arns.length === 0) {
    throw new Error('restoreFrom has no RDB object ARNs; give one per shard');
  }
  arns.forEach((arn, i) => {
    const prop = `restoreFrom RDB object ARN #${i + 1}`;
    // Checked before the token test: the literal parts of a token string (the key given to
    // RestoreSource.fromBucket) are plain text.
    if (arn.includes(',')) {
      throw new Error(`${prop} '${arn}' contains a comma; ElastiCache takes SnapshotArns as a comma-separated list, so an object ARN cannot contain one`);
    }
    if (Token.isUnresolved(arn)) {
      return;
    }
    const match = S3_OBJECT_ARN.exec(arn);
    if (!match) {
      throw new Error(`${prop} '${arn}' is not an S3 object ARN; ElastiCache expects arn:aws:s3:::bucket/key.rdb`);
    }
    if (!BUCKET_NAME.test(match[1]) || match[1].includes('..')) {
      throw new Error(`${prop} '${arn}' names bucket '${match[1]}', which is not a DNS-compliant bucket name (3 to 63 lower-case letters, digits, dots or hyphens)`);
    }
  });
  const expected = clusterMode === ClusterMode.ENABLED ? shards : 1;
  if (arns.length !== expected) {
    throw new Error(`restoreFrom has ${arns.length} RDB object ARNs but the group has ${expected} shard${expected === 1 ? '' : 's'}; ElastiCache seeds one shard from each RDB file`);
  }
  return { rdbObjectArns: arns };
}
