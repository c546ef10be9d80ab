/**
 * S3's REST-XML protocol (path-style addressing) over the S3 store: what the AWS SDK and CLI send
 * for buckets, objects, multipart uploads and the bucket settings exports depend on.
 */
import { createHash, randomUUID } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import { AwsChunkedDecoder, incompleteBody } from './chunked';
import { Bucket, Grant, OWNER_ID, Permission, ReplicationConfiguration, S3Error, S3Object, S3Store, writeAll } from './store';
import { consume } from '../request';
import { MalformedXml, parseStrictXml } from '../strict-xml';

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export interface S3Response {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: Buffer | string;
  /** A file to send as the body (an object's content), streamed rather than read into memory. */
  readonly file?: string;
  /** The bytes of `file` to send (inclusive), for a ranged GET. */
  readonly range?: { readonly start: number; readonly end: number };
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function xml(root: string, inner: string): S3Response {
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NS}">${inner}</${root}>` };
}

function el(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `<${name}>${escape(String(value))}</${name}>`;
}

export function s3ErrorResponse(error: S3Error, method: string): S3Response {
  const headers: Record<string, string> = { 'content-type': 'application/xml' };
  if (error.extra.BucketRegion) headers['x-amz-bucket-region'] = error.extra.BucketRegion;
  if (method === 'HEAD') {
    return { status: error.status, headers };
  }
  const extra = Object.entries(error.extra).filter(([k]) => k !== 'BucketRegion').map(([k, v]) => el(k, v)).join('');
  return {
    status: error.status,
    headers,
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escape(error.code)}</Code><Message>${escape(error.message)}</Message>${extra}<RequestId>${randomUUID()}</RequestId></Error>`,
  };
}

/** S3's limit on a single PUT (and on a part): 5 GiB. Bodies this large are streamed to disk, never held in memory. */
export const MAX_OBJECT_SIZE = 5 * 1024 ** 3;
/**
 * The most the provider holds in memory for any other S3 request body (XML settings, a policy).
 * S3 publishes no single limit: its largest such body, a CompleteMultipartUpload of 10,000 parts,
 * is about 1 MB. Beyond this S3's `MaxMessageLengthExceeded` is answered.
 */
export const MAX_S3_XML_BODY = 2 * 1024 * 1024;

const MALFORMED_XML = 'The XML you provided was not well-formed or did not validate against our published schema';

function malformedXml(): S3Error {
  return new S3Error('MalformedXML', MALFORMED_XML, 400);
}

/** A request body as the S3 handlers get it: in memory, or (an object or part upload) received into a file. */
export type S3Body = { readonly data: Buffer } | { readonly file: string; readonly size: number; readonly md5: string };

function isAwsChunked(req: http.IncomingMessage): boolean {
  const encoding = String(req.headers['content-encoding'] ?? '');
  const sha = String(req.headers['x-amz-content-sha256'] ?? '');
  return encoding.split(',').some((e) => e.trim() === 'aws-chunked') || sha.startsWith('STREAMING-');
}

/** The announced size of the content (before aws-chunked framing), when the client announced it. */
function announcedSize(req: http.IncomingMessage): number | undefined {
  const header = isAwsChunked(req) ? req.headers['x-amz-decoded-content-length'] : req.headers['content-length'];
  if (typeof header !== 'string') return undefined;
  if (!/^\d{1,20}$/.test(header)) throw new S3Error('InvalidArgument', `Invalid ${isAwsChunked(req) ? 'x-amz-decoded-content-length' : 'content-length'}: ${header}`, 400);
  return Number(header);
}

function entityTooLarge(size: number): S3Error {
  return new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.', 400,
    { ProposedSize: String(size), MaxSizeAllowed: String(MAX_OBJECT_SIZE) });
}

/** Whether the request uploads object content (PutObject, UploadPart): its body goes to disk as it arrives. */
function isUpload(req: http.IncomingMessage): boolean {
  if (req.method !== 'PUT' || typeof req.headers['x-amz-copy-source'] === 'string') return false;
  const url = new URL(`http://localhost${req.url?.startsWith('/') ? req.url : '/'}`);
  const [, bucket, ...key] = url.pathname.split('/');
  return Boolean(bucket) && key.join('/') !== '' && !['acl', 'tagging', 'retention', 'legal-hold'].some((q) => url.searchParams.has(q));
}

/**
 * Receives the body of an S3 request, decoding `aws-chunked` framing strictly: an object or part
 * upload into a file under the store (up to S3's 5 GiB, hashed as it arrives), anything else into
 * memory (up to MAX_S3_XML_BODY). A body that is aborted, malformed or too large leaves no file.
 */
export async function receiveS3Body(store: S3Store, req: http.IncomingMessage): Promise<S3Body> {
  const chunked = isAwsChunked(req);
  const announced = announcedSize(req);
  const upload = isUpload(req);
  const limit = upload ? MAX_OBJECT_SIZE : MAX_S3_XML_BODY;
  const tooLarge = (size: number) => (upload ? entityTooLarge(size) : new S3Error('MaxMessageLengthExceeded', 'Your request was too big.', 400));
  if (announced !== undefined && announced > limit) throw tooLarge(announced);

  const hash = createHash('md5');
  const memory: Buffer[] = [];
  const file = upload ? store.incomingFile() : undefined;
  const fd = file ? fs.openSync(file, 'w') : undefined;
  let size = 0;
  const take = (data: Buffer) => {
    size += data.length;
    if (size > limit) throw tooLarge(size);
    if (fd === undefined) {
      memory.push(Buffer.from(data));
    } else {
      hash.update(data);
      writeAll(fd, data);
    }
  };
  try {
    const decoder = chunked ? new AwsChunkedDecoder(take) : undefined;
    await consume(req, (chunk) => (decoder ? decoder.push(chunk) : take(chunk)));
    decoder?.end();
    if (chunked && announced !== undefined && announced !== size) throw incompleteBody();
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    if (file) fs.rmSync(file, { force: true });
    throw e;
  }
  if (fd === undefined) return { data: Buffer.concat(memory) };
  fs.closeSync(fd);
  return { file: file!, size, md5: hash.digest('hex') };
}

function bodyData(body: S3Body): Buffer {
  if ('data' in body) return body.data;
  throw new S3Error('InvalidRequest', 'This request does not take object content', 400);
}

/** Parses an S3 XML body strictly, with S3's error for one that is malformed. */
function s3Xml(body: S3Body, root: string, arrays: string[] = [], error: () => S3Error = malformedXml): Record<string, any> {
  try {
    return parseStrictXml(bodyData(body).toString('utf-8'), root, arrays);
  } catch (e) {
    if (e instanceof MalformedXml) throw error();
    throw e;
  }
}

/** A value that must be one of `allowed`, or the body is malformed. */
function oneOf<T extends string>(value: unknown, allowed: readonly T[], error: () => S3Error = malformedXml): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw error();
  return value as T;
}

/** A path segment, %-decoded; S3's InvalidURI when its escapes are malformed. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new S3Error('InvalidURI', 'Couldn\'t parse the specified URI.', 400);
  }
}

/** Grants from `x-amz-grant-*` headers: `id="…"`, `uri="…"`, comma-separated. */
function grantsFromHeaders(req: http.IncomingMessage): Grant[] | undefined {
  const map: Record<string, Permission> = {
    'x-amz-grant-full-control': 'FULL_CONTROL',
    'x-amz-grant-read': 'READ',
    'x-amz-grant-write': 'WRITE',
    'x-amz-grant-read-acp': 'READ_ACP',
    'x-amz-grant-write-acp': 'WRITE_ACP',
  };
  const grants: Grant[] = [];
  for (const [header, permission] of Object.entries(map)) {
    const value = req.headers[header];
    if (typeof value !== 'string') continue;
    for (const part of value.split(',')) {
      const m = /^\s*(id|uri|emailAddress)\s*=\s*"?([^"]+)"?\s*$/.exec(part);
      if (!m) throw new S3Error('InvalidArgument', `Invalid grant header value: ${part}`, 400);
      grants.push(m[1] === 'uri' ? { uri: m[2], permission } : { id: m[2], permission });
    }
  }
  const canned = req.headers['x-amz-acl'];
  if (typeof canned === 'string' && canned !== 'private') {
    if (canned === 'bucket-owner-full-control') return [{ id: OWNER_ID, permission: 'FULL_CONTROL' }];
    throw new S3Error('NotImplemented', `Canned ACL ${canned} is not emulated`, 501);
  }
  return grants.length > 0 ? [{ id: OWNER_ID, permission: 'FULL_CONTROL' }, ...grants] : undefined;
}

const PERMISSIONS: readonly Permission[] = ['FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'];

/** The grants of an AccessControlPolicy body; S3's MalformedACLError when it is not one. */
function grantsFromXml(body: S3Body): Grant[] {
  const malformed = () => new S3Error('MalformedACLError', 'The XML you provided was not well-formed or did not validate against our published schema', 400);
  const doc = s3Xml(body, 'AccessControlPolicy', ['Grant'], malformed);
  const list = doc.AccessControlList;
  if (list === undefined) throw malformed();
  const grants: any[] = typeof list === 'object' ? list.Grant ?? [] : [];
  return grants.map((g) => {
    const id = typeof g?.Grantee?.ID === 'string' ? g.Grantee.ID : undefined;
    const uri = typeof g?.Grantee?.URI === 'string' ? g.Grantee.URI : undefined;
    if ((id === undefined) === (uri === undefined)) throw malformed();
    return { id, uri, permission: oneOf(g.Permission, PERMISSIONS, malformed) };
  });
}

function aclXml(grants: Grant[]): S3Response {
  const list = grants.map((g) => g.uri
    ? `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">${el('URI', g.uri)}</Grantee>${el('Permission', g.permission)}</Grant>`
    : `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">${el('ID', g.id)}</Grantee>${el('Permission', g.permission)}</Grant>`).join('');
  return xml('AccessControlPolicy', `<Owner>${el('ID', OWNER_ID)}</Owner><AccessControlList>${list}</AccessControlList>`);
}

function objectHeaders(o: S3Object): Record<string, string> {
  const h: Record<string, string> = {
    'etag': o.etag,
    'last-modified': o.lastModified.toUTCString(),
    'content-type': o.contentType,
    'content-length': String(o.size),
    'x-amz-server-side-encryption': o.sse,
    'accept-ranges': 'bytes',
  };
  if (o.kmsKeyId) h['x-amz-server-side-encryption-aws-kms-key-id'] = o.kmsKeyId;
  if (o.versionId) h['x-amz-version-id'] = o.versionId;
  if (o.replicationStatus) h['x-amz-replication-status'] = o.replicationStatus;
  return h;
}

const ok = (headers: Record<string, string> = {}, status = 200): S3Response => ({ status, headers });

/** Answers one S3 request for `region`. */
export function handleS3(store: S3Store, region: string, req: http.IncomingMessage, raw: S3Body): S3Response {
  if (!req.url?.startsWith('/')) throw new S3Error('InvalidURI', 'Couldn\'t parse the specified URI.', 400);
  const url = new URL(`http://localhost${req.url}`);
  const q = url.searchParams;
  const segments = url.pathname.split('/');
  const bucketName = decodeSegment(segments[1] ?? '');
  const key = segments.slice(2).map(decodeSegment).join('/');
  const method = req.method ?? 'GET';

  if (!bucketName) {
    if (method === 'GET') {
      const list = store.listBuckets().map((b) => `<Bucket>${el('Name', b.name)}${el('CreationDate', b.createdAt.toISOString())}${el('BucketRegion', b.region)}</Bucket>`).join('');
      return xml('ListAllMyBucketsResult', `<Owner>${el('ID', OWNER_ID)}</Owner><Buckets>${list}</Buckets>`);
    }
    throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', 405);
  }

  if (!key) {
    return bucketRequest(store, region, bucketName, method, q, req, raw);
  }
  return objectRequest(store, store.bucket(bucketName, region), key, method, q, req, raw);
}

function bucketRequest(
  store: S3Store, region: string, name: string, method: string, q: URLSearchParams, req: http.IncomingMessage, raw: S3Body,
): S3Response {
  const text = bodyData(raw).toString('utf-8');
  if (method === 'PUT' && [...q.keys()].length === 0) {
    const constraint = text ? s3Xml(raw, 'CreateBucketConfiguration').LocationConstraint : undefined;
    if (constraint !== undefined && typeof constraint !== 'string') throw malformedXml();
    const bucketRegion = constraint || 'us-east-1';
    if (bucketRegion !== region) {
      throw new S3Error('IllegalLocationConstraintException', `The ${bucketRegion} location constraint is incompatible for the region specific endpoint this request was sent to.`, 400);
    }
    store.createBucket(name, bucketRegion);
    return ok({ location: `/${name}` });
  }
  // GetBucketLocation answers from any region.
  if (method === 'GET' && q.has('location')) {
    const b = store.bucket(name);
    return xml('LocationConstraint', b.region === 'us-east-1' ? '' : escape(b.region));
  }
  const bucket = store.bucket(name, region);
  if (method === 'HEAD') return ok({ 'x-amz-bucket-region': bucket.region });
  if (method === 'DELETE' && [...q.keys()].length === 0) {
    store.deleteBucket(name, region);
    return ok({}, 204);
  }
  if (q.has('acl')) {
    if (method === 'GET') return aclXml(bucket.acl);
    store.setAcl(bucket, grantsFromHeaders(req) ?? grantsFromXml(raw));
    return ok();
  }
  if (q.has('policy')) {
    if (method === 'GET') {
      if (!bucket.policy) throw new S3Error('NoSuchBucketPolicy', 'The bucket policy does not exist', 404, { BucketName: name });
      return { status: 200, headers: { 'content-type': 'application/json' }, body: bucket.policy };
    }
    if (method === 'DELETE') {
      bucket.policy = undefined;
      return ok({}, 204);
    }
    try {
      JSON.parse(text);
    } catch {
      throw new S3Error('MalformedPolicy', 'Policies must be valid JSON and the first byte must be \'{\'', 400);
    }
    bucket.policy = text;
    return ok({}, 204);
  }
  if (q.has('ownershipControls')) {
    if (method === 'GET') return xml('OwnershipControls', `<Rule>${el('ObjectOwnership', bucket.ownership)}</Rule>`);
    if (method === 'DELETE') {
      bucket.ownership = 'ObjectWriter';
      return ok({}, 204);
    }
    const rules = s3Xml(raw, 'OwnershipControls', ['Rule']).Rule ?? [];
    if (rules.length !== 1) throw malformedXml();
    bucket.ownership = oneOf(rules[0]?.ObjectOwnership, ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'] as const);
    return ok();
  }
  if (q.has('encryption')) {
    if (method === 'GET') {
      return xml('ServerSideEncryptionConfiguration',
        `<Rule><ApplyServerSideEncryptionByDefault>${el('SSEAlgorithm', bucket.encryption.algorithm)}${el('KMSMasterKeyID', bucket.encryption.kmsKeyId)}</ApplyServerSideEncryptionByDefault></Rule>`);
    }
    bucket.encryption = encryptionFromXml(raw);
    return ok();
  }
  if (q.has('versioning')) {
    if (method === 'GET') return xml('VersioningConfiguration', el('Status', bucket.versioning));
    const doc = s3Xml(raw, 'VersioningConfiguration');
    if (doc.MfaDelete !== undefined) oneOf(doc.MfaDelete, ['Enabled', 'Disabled'] as const);
    // Status is optional in S3's schema: a configuration without it changes nothing.
    if (doc.Status !== undefined) store.setVersioning(bucket, oneOf(doc.Status, ['Enabled', 'Suspended'] as const));
    return ok();
  }
  if (q.has('replication')) {
    if (method === 'GET') {
      if (!bucket.replication) throw new S3Error('ReplicationConfigurationNotFoundError', 'The replication configuration was not found', 404, { BucketName: name });
      const rules = bucket.replication.rules.map((r) => `<Rule>${el('ID', r.id)}${el('Priority', r.priority)}${el('Status', r.status)}<Filter>${el('Prefix', r.prefix)}</Filter>`
        + `<Destination>${el('Bucket', `arn:aws:s3:::${r.destination}`)}</Destination><DeleteMarkerReplication><Status>Disabled</Status></DeleteMarkerReplication></Rule>`).join('');
      return xml('ReplicationConfiguration', `${el('Role', bucket.replication.role)}${rules}`);
    }
    if (method === 'DELETE') {
      bucket.replication = undefined;
      return ok({}, 204);
    }
    store.setReplication(bucket, replicationFromXml(raw));
    return ok();
  }
  if (q.has('publicAccessBlock')) {
    if (method === 'GET') return { status: 200, headers: { 'content-type': 'application/xml' }, body: bucket.publicAccessBlock ?? '' };
    if (method === 'DELETE') {
      bucket.publicAccessBlock = undefined;
      return ok({}, 204);
    }
    bucket.publicAccessBlock = publicAccessBlockFromXml(raw);
    return ok();
  }
  if (q.has('lifecycle')) {
    // Kept and answered back, not applied (see Bucket.lifecycle).
    if (method === 'GET') {
      if (!bucket.lifecycle) throw new S3Error('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', 404, { BucketName: name });
      return { status: 200, headers: { 'content-type': 'application/xml' }, body: bucket.lifecycle };
    }
    if (method === 'DELETE') {
      bucket.lifecycle = undefined;
      return ok({}, 204);
    }
    const rules = s3Xml(raw, 'LifecycleConfiguration', ['Rule']).Rule ?? [];
    if (rules.length === 0 || rules.length > 1000) throw malformedXml();
    for (const rule of rules) oneOf(rule?.Status, ['Enabled', 'Disabled'] as const);
    bucket.lifecycle = text;
    return ok();
  }
  if (q.has('uploads') && method === 'GET') {
    const uploads = [...bucket.uploads.entries()].map(([id, u]) => `<Upload>${el('Key', u.key)}${el('UploadId', id)}</Upload>`).join('');
    return xml('ListMultipartUploadsResult', `${el('Bucket', name)}${uploads}`);
  }
  if (method === 'GET') {
    // ListObjectsV2 (list-type=2); the continuation token is the last key returned.
    const prefix = q.get('prefix') ?? '';
    const token = q.get('continuation-token');
    const startAfter = token ? Buffer.from(token, 'base64').toString('utf-8') : (q.get('start-after') ?? '');
    const maxKeys = q.get('max-keys') ?? '1000';
    if (!/^\d{1,10}$/.test(maxKeys) || Number(maxKeys) > 2 ** 31 - 1) {
      throw new S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', 400, { ArgumentName: 'max-keys', ArgumentValue: maxKeys });
    }
    // S3 returns at most 1,000 keys a page, whatever max-keys asks for.
    const max = Math.min(Number(maxKeys), 1000);
    const { objects, truncated } = store.listObjects(bucket, prefix, startAfter, max);
    const contents = objects.map((o) => `<Contents>${el('Key', o.key)}${el('LastModified', o.lastModified.toISOString())}${el('ETag', o.etag)}${el('Size', o.size)}<StorageClass>STANDARD</StorageClass></Contents>`).join('');
    const next = truncated && objects.length > 0 ? Buffer.from(objects[objects.length - 1].key).toString('base64') : undefined;
    return xml('ListBucketResult', `${el('Name', name)}${el('Prefix', prefix)}${el('KeyCount', objects.length)}${el('MaxKeys', max)}${el('IsTruncated', truncated)}${contents}${el('ContinuationToken', token ?? undefined)}${el('NextContinuationToken', next)}`);
  }
  throw new S3Error('NotImplemented', `The local provider does not emulate ${method} on a bucket with ${[...q.keys()].join(',') || 'no'} subresource`, 501);
}

function objectRequest(
  store: S3Store, bucket: Bucket, key: string, method: string, q: URLSearchParams, req: http.IncomingMessage, raw: S3Body,
): S3Response {
  const sse = req.headers['x-amz-server-side-encryption'] as 'AES256' | 'aws:kms' | undefined;
  const contentType = req.headers['content-type'] as string | undefined;
  if (q.has('acl')) {
    const object = store.getObject(bucket, key);
    if (method === 'GET') return aclXml(object.acl);
    if (bucket.ownership === 'BucketOwnerEnforced') {
      throw new S3Error('AccessControlListNotSupported', 'The bucket does not allow ACLs', 400, { BucketName: bucket.name });
    }
    object.acl = grantsFromHeaders(req) ?? grantsFromXml(raw);
    return ok();
  }
  if (method === 'POST' && q.has('uploads')) {
    const id = store.createUpload(bucket, key, contentType);
    return xml('InitiateMultipartUploadResult', `${el('Bucket', bucket.name)}${el('Key', key)}${el('UploadId', id)}`);
  }
  if (method === 'PUT' && q.has('uploadId')) {
    const etag = store.uploadPart(bucket, q.get('uploadId')!, Number(q.get('partNumber')), 'file' in raw ? { move: raw.file } : { data: raw.data });
    return ok({ etag });
  }
  if (method === 'POST' && q.has('uploadId')) {
    const doc = s3Xml(raw, 'CompleteMultipartUpload', ['Part']);
    const parts = (doc.Part ?? []).map((p: any) => {
      if (typeof p?.PartNumber !== 'string' || !/^\d{1,5}$/.test(p.PartNumber) || typeof p.ETag !== 'string') throw malformedXml();
      return { partNumber: Number(p.PartNumber), etag: p.ETag };
    });
    if (parts.length === 0) throw malformedXml();
    const object = store.completeUpload(bucket, q.get('uploadId')!, parts);
    return xml('CompleteMultipartUploadResult', `${el('Location', `/${bucket.name}/${key}`)}${el('Bucket', bucket.name)}${el('Key', key)}${el('ETag', object.etag)}`);
  }
  if (method === 'DELETE' && q.has('uploadId')) {
    store.abortUpload(bucket, q.get('uploadId')!);
    return ok({}, 204);
  }
  if (method === 'PUT') {
    const copySource = req.headers['x-amz-copy-source'];
    if (typeof copySource === 'string') {
      let source: string;
      try {
        source = decodeURIComponent(copySource.split('?')[0]);
      } catch {
        throw new S3Error('InvalidArgument', 'Invalid copy source encoding', 400, { ArgumentName: 'x-amz-copy-source', ArgumentValue: copySource });
      }
      const [srcBucket, ...rest] = source.replace(/^\//, '').split('/');
      // A source in a region that is down cannot be read (UNCONFIRMED: what S3 answers a cross-region
      // copy from a Region in an outage is not documented; its 503 is assumed).
      const original = store.getObject(store.requireUp(store.bucket(srcBucket)), rest.join('/'));
      const object = store.putObject(bucket, key, { from: original.file }, { contentType: original.contentType, sse });
      return xml('CopyObjectResult', `${el('ETag', object.etag)}${el('LastModified', object.lastModified.toISOString())}`);
    }
    const object = store.putObject(bucket, key, 'file' in raw ? { move: raw.file } : { data: raw.data }, {
      contentType,
      sse,
      kmsKeyId: req.headers['x-amz-server-side-encryption-aws-kms-key-id'] as string | undefined,
      acl: grantsFromHeaders(req),
      etag: 'file' in raw ? `"${raw.md5}"` : undefined,
    });
    const headers = objectHeaders(object);
    delete headers['content-length'];
    delete headers['content-type'];
    return ok(headers);
  }
  if (method === 'GET' || method === 'HEAD') {
    const object = store.getObject(bucket, key);
    const headers = objectHeaders(object);
    // The content is streamed from its file; its absence is the provider's fault (an InternalError).
    fs.statSync(object.file);
    const range = byteRange(req.headers.range, object.size);
    if (range && method === 'GET') {
      // One range, as S3 serves it (multiple ranges are not supported by S3 either: the whole object).
      headers['content-range'] = `bytes ${range.start}-${range.end}/${object.size}`;
      headers['content-length'] = String(range.end - range.start + 1);
      return { status: 206, headers, file: object.file, range };
    }
    return { status: 200, headers, file: method === 'GET' ? object.file : undefined };
  }
  if (method === 'DELETE') {
    store.deleteObject(bucket, key);
    return ok({}, 204);
  }
  throw new S3Error('NotImplemented', `The local provider does not emulate ${method} on an object`, 501);
}

const SSE_ALGORITHMS = ['AES256', 'aws:kms', 'aws:kms:dsse'] as const;

/** A ServerSideEncryptionConfiguration body. */
function encryptionFromXml(raw: S3Body): Bucket['encryption'] {
  const rules = s3Xml(raw, 'ServerSideEncryptionConfiguration', ['Rule']).Rule ?? [];
  if (rules.length !== 1) throw malformedXml();
  const rule = rules[0];
  if (rule?.BucketKeyEnabled !== undefined) oneOf(rule.BucketKeyEnabled, ['true', 'false'] as const);
  const byDefault = rule?.ApplyServerSideEncryptionByDefault;
  if (typeof byDefault !== 'object' || byDefault === null) throw malformedXml();
  const algorithm = oneOf(byDefault.SSEAlgorithm, SSE_ALGORITHMS);
  const kmsKeyId = byDefault.KMSMasterKeyID;
  if (kmsKeyId !== undefined && (typeof kmsKeyId !== 'string' || algorithm === 'AES256')) {
    throw new S3Error('InvalidArgument', 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse', 400,
      { ArgumentName: 'ApplyServerSideEncryptionByDefault' });
  }
  if (algorithm === 'aws:kms:dsse') throw new S3Error('NotImplemented', 'The local provider does not emulate aws:kms:dsse encryption', 501);
  return { algorithm, kmsKeyId };
}

/** A ReplicationConfiguration body. */
function replicationFromXml(raw: S3Body): ReplicationConfiguration {
  const doc = s3Xml(raw, 'ReplicationConfiguration', ['Rule']);
  if (doc.Role !== undefined && typeof doc.Role !== 'string') throw malformedXml();
  const rules: any[] = doc.Rule ?? [];
  if (rules.length === 0) throw malformedXml();
  return {
    role: doc.Role,
    rules: rules.map((r, i) => {
      if (typeof r !== 'object' || r === null) throw malformedXml();
      const destination = r.Destination?.Bucket;
      if (typeof destination !== 'string' || !/^arn:aws[a-z-]*:s3:::[^/]+$/.test(destination)) throw malformedXml();
      if (r.Priority !== undefined && (typeof r.Priority !== 'string' || !/^\d{1,10}$/.test(r.Priority))) throw malformedXml();
      const prefix = r.Filter?.Prefix ?? r.Prefix ?? r.Filter?.And?.Prefix ?? '';
      if (typeof prefix !== 'string' || (r.ID !== undefined && typeof r.ID !== 'string')) throw malformedXml();
      return {
        id: r.ID ?? `rule-${i + 1}`,
        status: oneOf(r.Status, ['Enabled', 'Disabled'] as const),
        priority: Number(r.Priority ?? 0),
        prefix,
        destination: destination.replace(/^arn:aws[a-z-]*:s3:::/, ''),
      };
    }),
  };
}

const PUBLIC_ACCESS_BLOCK_FIELDS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'];

/** A PublicAccessBlockConfiguration body, as the XML GetPublicAccessBlock answers (rebuilt, never the client's text). */
function publicAccessBlockFromXml(raw: S3Body): string {
  const doc = s3Xml(raw, 'PublicAccessBlockConfiguration');
  if (Object.keys(doc).some((k) => !PUBLIC_ACCESS_BLOCK_FIELDS.includes(k))) throw malformedXml();
  const fields = PUBLIC_ACCESS_BLOCK_FIELDS.map((k) => el(k, doc[k] === undefined ? 'false' : oneOf(doc[k], ['true', 'false'] as const))).join('');
  return xml('PublicAccessBlockConfiguration', fields).body as string;
}

/**
 * The byte range of a `Range` header (RFC 9110: `bytes=a-b`, `bytes=a-`, `bytes=-n`), or undefined
 * for none (or one S3 ignores: another unit, or several ranges, for which it sends the whole object).
 * A range that starts past the end is `InvalidRange` (416).
 */
function byteRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) {
    throw new S3Error('InvalidRange', 'The requested range is not satisfiable', 416, { RangeRequested: header!, ActualObjectSize: String(size) });
  }
  return { start, end };
}
