/**
 * The emulated S3 of the local provider: buckets (one namespace, each in a region), objects kept as
 * files, the bucket settings ElastiCache exports and seeds depend on (ACLs, policy, object
 * ownership, default encryption, versioning), and asynchronous cross-region replication with
 * per-object replication status.
 */
import { createHash, randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Clock } from '../clock';
import { linkOrCopy } from '../files';

/** An S3 error: its code, HTTP status and message, as S3 writes them. */
export class S3Error extends Error {
  constructor(public readonly code: string, message: string, public readonly status: number, public readonly extra: Record<string, string> = {}) {
    super(message);
  }
}

export type Permission = 'FULL_CONTROL' | 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP';

export interface Grant {
  /** Canonical user id, for a CanonicalUser grantee. */
  readonly id?: string;
  /** Group URI, for a Group grantee. */
  readonly uri?: string;
  readonly permission: Permission;
}

export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';
export type ReplicationStatus = 'PENDING' | 'COMPLETED' | 'FAILED' | 'REPLICA';

export interface S3Object {
  readonly key: string;
  readonly file: string;
  readonly size: number;
  readonly etag: string;
  readonly lastModified: Date;
  readonly contentType: string;
  readonly sse: 'AES256' | 'aws:kms';
  readonly kmsKeyId?: string;
  readonly versionId?: string;
  replicationStatus?: ReplicationStatus;
  acl: Grant[];
}

export interface ReplicationRule {
  readonly id: string;
  readonly status: 'Enabled' | 'Disabled';
  readonly priority: number;
  readonly prefix: string;
  /** The destination bucket's name (from its ARN). */
  readonly destination: string;
}

export interface ReplicationConfiguration {
  readonly role: string;
  readonly rules: ReplicationRule[];
}

interface Upload {
  readonly key: string;
  readonly parts: Map<number, { file: string; etag: string; size: number }>;
  readonly contentType: string;
}

export interface Bucket {
  readonly name: string;
  readonly region: string;
  readonly createdAt: Date;
  readonly objects: Map<string, S3Object>;
  readonly uploads: Map<string, Upload>;
  acl: Grant[];
  ownership: ObjectOwnership;
  policy?: string;
  encryption: { algorithm: 'AES256' | 'aws:kms'; kmsKeyId?: string };
  versioning?: 'Enabled' | 'Suspended';
  replication?: ReplicationConfiguration;
  publicAccessBlock?: string;
  /**
   * The lifecycle configuration as given (PutBucketLifecycleConfiguration's body), kept and answered
   * back; its rules are NOT applied (no object expires or transitions in the local provider).
   */
  lifecycle?: string;
}

interface PendingReplication {
  readonly source: Bucket;
  readonly key: string;
  readonly etag: string;
  readonly rule: ReplicationRule;
  readonly dueAt: number;
}

/**
 * How long S3 takes to replicate an object to another bucket, in simulated ms: `delay`, plus
 * `perGiB` for each GiB of the object. S3 gives no rate: "the majority of objects replicate within
 * 15 minutes, but they can sometimes take a couple of hours" (S3 user guide, "Troubleshooting
 * replication"), and with S3 Replication Time Control 99.99% replicate within 15 minutes.
 */
export interface ReplicationTiming {
  readonly delay: number;
  readonly perGiB: number;
}

/** Faults a test can inject into S3. */
export interface S3Faults {
  /** While true, replication makes no progress: objects stay PENDING. */
  stallReplication: boolean;
  /** The next N replications end FAILED. */
  failReplications: number;
}

const BUCKET_NAME = /^(?!\d+\.\d+\.\d+\.\d+$)(?!xn--)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The canonical user id of the local account (the owner of every bucket). */
export const OWNER_ID = '7d1f0c0b3b6f4f0e9a1b2c3d4e5f60718293a4b5c6d7e8f90123456789abcdef';

export class S3Store {
  public readonly faults: S3Faults = { stallReplication: false, failReplications: 0 };
  private readonly buckets = new Map<string, Bucket>();
  private readonly pending: PendingReplication[] = [];
  /** Regions in a regional outage (see `regionDown`). */
  private readonly regionsDown = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private readonly replication: ReplicationTiming;

  /**
   * @param replication the time replication takes: a fixed delay (ms), or a delay and a time per GiB
   * @param onBackgroundError told of a failure in background work (replication), which marks what
   * failed and goes on; the provider logs it. @default writes it to stderr
   */
  constructor(
    private readonly dataDir: string,
    private readonly clock: Clock,
    replication: number | ReplicationTiming,
    private readonly onBackgroundError: (what: string, error: unknown) => void = (what, error) => {
      process.stderr.write(`local provider: ${what}: ${(error as Error)?.message ?? error}\n`);
    },
  ) {
    this.replication = typeof replication === 'number' ? { delay: replication, perGiB: 0 } : replication;
    fs.mkdirSync(dataDir, { recursive: true });
    // Replication runs in the background, as in S3; the clock's jumps run what fell due too.
    this.timer = setInterval(() => void this.pump().catch((e) => this.onBackgroundError('S3 background work failed', e)), 20);
    this.timer.unref();
    clock.onAdvance(async () => this.pump());
  }

  public stop(): void {
    clearInterval(this.timer);
  }

  // ---- buckets -----------------------------------------------------------------------------

  public createBucket(name: string, region: string): Bucket {
    if (!BUCKET_NAME.test(name) || name.includes('..')) {
      throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', 400, { BucketName: name });
    }
    if (this.buckets.has(name)) {
      throw new S3Error('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409, { BucketName: name });
    }
    const bucket: Bucket = {
      name,
      region,
      createdAt: this.clock.date(),
      objects: new Map(),
      uploads: new Map(),
      acl: [{ id: OWNER_ID, permission: 'FULL_CONTROL' }],
      // New buckets have ACLs disabled and SSE-S3 default encryption, as in S3 since 2023.
      ownership: 'BucketOwnerEnforced',
      encryption: { algorithm: 'AES256' },
    };
    fs.mkdirSync(this.bucketDir(name), { recursive: true });
    this.buckets.set(name, bucket);
    return bucket;
  }

  /** The bucket, checked to be addressed in its own region (S3 redirects otherwise). */
  public bucket(name: string, region?: string): Bucket {
    const bucket = this.buckets.get(name);
    if (!bucket) {
      throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: name });
    }
    if (region && bucket.region !== region) {
      throw new S3Error('PermanentRedirect', 'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.', 301,
        { BucketName: name, Endpoint: `s3.${bucket.region}.amazonaws.com`, BucketRegion: bucket.region });
    }
    return bucket;
  }

  public tryBucket(name: string): Bucket | undefined {
    return this.buckets.get(name);
  }

  public listBuckets(): Bucket[] {
    return [...this.buckets.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  public deleteBucket(name: string, region: string): void {
    const bucket = this.bucket(name, region);
    if (bucket.objects.size > 0) {
      throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, { BucketName: name });
    }
    this.buckets.delete(name);
    fs.rmSync(this.bucketDir(name), { recursive: true, force: true });
  }

  public setAcl(bucket: Bucket, grants: Grant[]): void {
    const onlyOwner = grants.every((g) => g.id === OWNER_ID && g.permission === 'FULL_CONTROL');
    if (bucket.ownership === 'BucketOwnerEnforced' && !onlyOwner) {
      throw new S3Error('AccessControlListNotSupported', 'The bucket does not allow ACLs', 400, { BucketName: bucket.name });
    }
    bucket.acl = grants;
  }

  public setVersioning(bucket: Bucket, status: 'Enabled' | 'Suspended'): void {
    if (status === 'Suspended' && bucket.replication) {
      throw new S3Error('InvalidBucketState', 'Replication configuration cannot be applied to an unversioned bucket. Suspending versioning is not allowed while replication is configured.', 409);
    }
    bucket.versioning = status;
  }

  public setReplication(bucket: Bucket, config: ReplicationConfiguration): void {
    if (bucket.versioning !== 'Enabled') {
      throw new S3Error('InvalidRequest', 'Versioning must be \'Enabled\' on the bucket to apply a replication configuration', 400, { BucketName: bucket.name });
    }
    if (!config.role) {
      throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema', 400);
    }
    for (const rule of config.rules) {
      const dest = this.buckets.get(rule.destination);
      if (!dest) {
        throw new S3Error('InvalidRequest', `Destination bucket must exist: ${rule.destination}`, 400);
      }
      if (dest.versioning !== 'Enabled') {
        throw new S3Error('InvalidRequest', 'Destination bucket must have versioning enabled.', 400);
      }
    }
    bucket.replication = config;
  }

  // ---- objects -----------------------------------------------------------------------------

  private bucketDir(name: string): string {
    return path.join(this.dataDir, name);
  }

  /**
   * A new path for a body being received: outside every bucket's folder (bucket names cannot start
   * with a dot), on the same filesystem, so that a finished upload is moved into place, not copied.
   */
  public incomingFile(): string {
    const dir = path.join(this.dataDir, '.incoming');
    fs.mkdirSync(dir, { recursive: true });
    return path.join(dir, randomUUID());
  }

  /**
   * Stores `data`, the file at `from` (shared, see linkOrCopy) or the file at `move` (taken over)
   * as `key`, applying encryption, versioning and replication.
   */
  public putObject(bucket: Bucket, key: string, body: { data?: Buffer; from?: string; move?: string }, options: {
    contentType?: string;
    sse?: 'AES256' | 'aws:kms';
    kmsKeyId?: string;
    acl?: Grant[];
    replica?: boolean;
    /** The content's ETag when the caller knows it (a replica of an object): saves hashing it again. */
    etag?: string;
  } = {}): S3Object {
    if (key.length === 0 || Buffer.byteLength(key) > 1024) {
      throw new S3Error('KeyTooLongError', 'Your key is too long', 400);
    }
    if (options.acl && bucket.ownership === 'BucketOwnerEnforced') {
      throw new S3Error('AccessControlListNotSupported', 'The bucket does not allow ACLs', 400, { BucketName: bucket.name });
    }
    const file = path.join(this.bucketDir(bucket.name), `${randomUUID()}.obj`);
    if (body.move) {
      fs.renameSync(body.move, file);
    } else if (body.from) {
      linkOrCopy(body.from, file);
    } else {
      fs.writeFileSync(file, body.data ?? Buffer.alloc(0));
    }
    const previous = bucket.objects.get(key);
    const object: S3Object = {
      key,
      file,
      size: fs.statSync(file).size,
      // S3's ETag of a single-part upload is the MD5 of the content.
      etag: options.etag ?? `"${md5File(file)}"`,
      lastModified: this.clock.date(),
      contentType: options.contentType ?? 'binary/octet-stream',
      sse: options.sse ?? bucket.encryption.algorithm,
      kmsKeyId: options.sse === 'aws:kms' ? options.kmsKeyId : bucket.encryption.kmsKeyId,
      versionId: bucket.versioning === 'Enabled' ? randomUUID().replace(/-/g, '') : undefined,
      replicationStatus: options.replica ? 'REPLICA' : undefined,
      acl: options.acl ?? [{ id: OWNER_ID, permission: 'FULL_CONTROL' }],
    };
    bucket.objects.set(key, object);
    if (previous && previous.file !== file) {
      fs.rmSync(previous.file, { force: true });
    }
    if (!options.replica) {
      this.scheduleReplication(bucket, object);
    }
    return object;
  }

  public getObject(bucket: Bucket, key: string): S3Object {
    const object = bucket.objects.get(key);
    if (!object) {
      throw new S3Error('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
    }
    return object;
  }

  public deleteObject(bucket: Bucket, key: string): void {
    const object = bucket.objects.get(key);
    if (object) {
      bucket.objects.delete(key);
      fs.rmSync(object.file, { force: true });
    }
  }

  public listObjects(bucket: Bucket, prefix = '', startAfter = '', maxKeys = 1000): { objects: S3Object[]; truncated: boolean } {
    const keys = [...bucket.objects.keys()].filter((k) => k.startsWith(prefix) && k > startAfter).sort();
    const page = keys.slice(0, maxKeys).map((k) => bucket.objects.get(k)!);
    return { objects: page, truncated: keys.length > maxKeys };
  }

  // ---- multipart ---------------------------------------------------------------------------

  public createUpload(bucket: Bucket, key: string, contentType?: string): string {
    const id = randomUUID().replace(/-/g, '');
    bucket.uploads.set(id, { key, parts: new Map(), contentType: contentType ?? 'binary/octet-stream' });
    return id;
  }

  private upload(bucket: Bucket, uploadId: string): Upload {
    const upload = bucket.uploads.get(uploadId);
    if (!upload) {
      throw new S3Error('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', 404, { UploadId: uploadId });
    }
    return upload;
  }

  /** Stores a part: `data`, or the file at `move` (taken over). */
  public uploadPart(bucket: Bucket, uploadId: string, partNumber: number, body: { data?: Buffer; move?: string }): string {
    const upload = this.upload(bucket, uploadId);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10000) {
      throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', 400);
    }
    const file = path.join(this.bucketDir(bucket.name), `${uploadId}.${partNumber}.part`);
    if (body.move) {
      fs.renameSync(body.move, file);
    } else {
      fs.writeFileSync(file, body.data ?? Buffer.alloc(0));
    }
    const etag = `"${md5File(file)}"`;
    upload.parts.set(partNumber, { file, etag, size: fs.statSync(file).size });
    return etag;
  }

  public completeUpload(bucket: Bucket, uploadId: string, parts: Array<{ partNumber: number; etag: string }>): S3Object {
    const upload = this.upload(bucket, uploadId);
    const files: string[] = [];
    let last = 0;
    for (const part of parts) {
      const stored = upload.parts.get(part.partNumber);
      if (!stored || stored.etag !== part.etag) {
        throw new S3Error('InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.', 400);
      }
      if (part.partNumber <= last) {
        throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', 400);
      }
      last = part.partNumber;
      files.push(stored.file);
    }
    // Parts are joined on disk, a buffer at a time: an object may be far larger than memory.
    const joined = this.incomingFile();
    let object: S3Object;
    try {
      concatFiles(files, joined);
      object = this.putObject(bucket, upload.key, { move: joined }, { contentType: upload.contentType });
    } finally {
      fs.rmSync(joined, { force: true });
    }
    this.abortUpload(bucket, uploadId);
    return object;
  }

  public abortUpload(bucket: Bucket, uploadId: string): void {
    const upload = this.upload(bucket, uploadId);
    for (const part of upload.parts.values()) fs.rmSync(part.file, { force: true });
    bucket.uploads.delete(uploadId);
  }

  // ---- replication -------------------------------------------------------------------------

  private scheduleReplication(bucket: Bucket, object: S3Object): void {
    const rule = bucket.replication?.rules
      .filter((r) => r.status === 'Enabled' && object.key.startsWith(r.prefix))
      .sort((a, b) => b.priority - a.priority)[0];
    if (!rule) return;
    object.replicationStatus = 'PENDING';
    const transfer = Math.round((object.size / 1024 ** 3) * this.replication.perGiB);
    this.pending.push({ source: bucket, key: object.key, etag: object.etag, rule, dueAt: this.clock.now() + this.replication.delay + transfer });
  }

  // ---- regional outage ---------------------------------------------------------------------
  //
  // S3 documents no behaviour for a regional outage. The emulator takes the case a DR drill plans
  // for (ASSUMPTION): the region's S3 stops answering (the provider answers 503 ServiceUnavailable),
  // replication FROM the region stops and what it had not delivered is never delivered (the
  // objects show FAILED once the region is back, as S3 shows a replication it did not complete),
  // and replication TO the region is held (PENDING) and delivered once the region is back.

  /** Starts a regional outage of S3 in `region` (see above). A second call does nothing. */
  public regionDown(region: string): void {
    if (this.regionsDown.has(region)) return;
    this.regionsDown.add(region);
    for (const job of [...this.pending]) {
      if (job.source.region !== region) continue;
      this.pending.splice(this.pending.indexOf(job), 1);
      const object = job.source.objects.get(job.key);
      if (object && object.etag === job.etag) object.replicationStatus = 'FAILED';
    }
  }

  /** Ends the regional outage of `region`: held replications to it are delivered when due. */
  public regionUp(region: string): void {
    this.regionsDown.delete(region);
  }

  /** Whether `region` is in a regional outage. */
  public isDown(region: string): boolean {
    return this.regionsDown.has(region);
  }

  /** Refuses a request that needs `bucket` while its region is down, as its unreachable endpoint would fail it. */
  public requireUp(bucket: Bucket): Bucket {
    if (this.regionsDown.has(bucket.region)) throw serviceUnavailable();
    return bucket;
  }

  /**
   * Replicates the objects whose delay has passed. Runs in the background: it never throws. A
   * replication that fails (the destination's disk full, an I/O error) marks its object FAILED,
   * as S3 shows a replication it could not complete, and the provider goes on.
   */
  public async pump(): Promise<void> {
    if (this.faults.stallReplication) return;
    const now = this.clock.now();
    for (const job of [...this.pending]) {
      if (job.dueAt > now) continue;
      // Held while the destination's region is down (delivered once it is back).
      const destRegion = this.buckets.get(job.rule.destination)?.region;
      if (destRegion !== undefined && this.regionsDown.has(destRegion)) continue;
      this.pending.splice(this.pending.indexOf(job), 1);
      const object = job.source.objects.get(job.key);
      if (!object || object.etag !== job.etag) continue; // replaced or deleted since
      const dest = this.buckets.get(job.rule.destination);
      if (this.faults.failReplications > 0 || !dest || dest.versioning !== 'Enabled') {
        if (this.faults.failReplications > 0) this.faults.failReplications--;
        object.replicationStatus = 'FAILED';
        continue;
      }
      try {
        this.putObject(dest, object.key, { from: object.file }, {
          contentType: object.contentType, sse: object.sse, kmsKeyId: object.kmsKeyId, replica: true, etag: object.etag,
        });
        object.replicationStatus = 'COMPLETED';
      } catch (e) {
        object.replicationStatus = 'FAILED';
        this.onBackgroundError(`replication of s3://${job.source.name}/${job.key} to ${job.rule.destination} failed`, e);
      }
    }
  }

}

/**
 * S3's answer when it cannot serve a request: `ServiceUnavailable`, HTTP 503 ("Service is unable to
 * handle request", S3 API reference, "Error responses", list of error codes).
 */
export function serviceUnavailable(): S3Error {
  return new S3Error('ServiceUnavailable', 'Service is unable to handle request.', 503);
}

/** The MD5 of a file's content, in hex, read a buffer at a time. */
export function md5File(file: string): string {
  const hash = createHash('md5');
  eachBlock(file, (block) => hash.update(block));
  return hash.digest('hex');
}

/** Writes the concatenation of `files` to `to`, a buffer at a time. */
function concatFiles(files: string[], to: string): void {
  const out = fs.openSync(to, 'w');
  try {
    for (const file of files) eachBlock(file, (block) => writeAll(out, block));
  } finally {
    fs.closeSync(out);
  }
}

/** Writes all of `data` to the file descriptor (a write may take only part of it). */
export function writeAll(fd: number, data: Buffer): void {
  for (let off = 0; off < data.length;) off += fs.writeSync(fd, data, off);
}

function eachBlock(file: string, fn: (block: Buffer) => void): void {
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.alloc(1024 * 1024);
  try {
    for (let n; (n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0;) fn(buffer.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
}
