/**
 * S3's REST-XML protocol (path-style addressing) over the S3 store: what the AWS SDK and CLI send
 * for buckets, objects, multipart uploads and the bucket settings exports depend on.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import { XMLParser } from 'fast-xml-parser';
import { Bucket, Grant, OWNER_ID, Permission, S3Error, S3Object, S3Store } from './store';

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const parser = new XMLParser({ ignoreAttributes: false, removeNSPrefix: true, isArray: (name) => ['Rule', 'Part', 'Grant'].includes(name) });

export interface S3Response {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body?: Buffer | string;
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

/**
 * Decodes an `aws-chunked` body: `<hex size>[;chunk-signature=…]\r\n<data>\r\n` … `0\r\n<trailers>\r\n\r\n`.
 * The SDK sends these by default, with a trailing checksum.
 */
export function decodeAwsChunked(raw: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', pos);
    if (eol < 0) throw new S3Error('IncompleteBody', 'The request body terminated unexpectedly', 400);
    const size = parseInt(raw.subarray(pos, eol).toString('latin1').split(';')[0], 16);
    if (Number.isNaN(size)) throw new S3Error('InvalidChunkSizeError', 'Only the last chunk is allowed to have a size less than 8192 bytes', 400);
    pos = eol + 2;
    if (size === 0) break;
    out.push(raw.subarray(pos, pos + size));
    pos += size + 2;
  }
  return Buffer.concat(out);
}

function body(req: http.IncomingMessage, raw: Buffer): Buffer {
  const encoding = String(req.headers['content-encoding'] ?? '');
  const sha = String(req.headers['x-amz-content-sha256'] ?? '');
  if (encoding.includes('aws-chunked') || sha.startsWith('STREAMING-')) {
    return decodeAwsChunked(raw);
  }
  return raw;
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

function grantsFromXml(text: string): Grant[] {
  const doc = parser.parse(text);
  const grants = doc.AccessControlPolicy?.AccessControlList?.Grant ?? [];
  return grants.map((g: any) => ({
    id: g.Grantee?.ID,
    uri: g.Grantee?.URI,
    permission: g.Permission as Permission,
  }));
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
export function handleS3(store: S3Store, region: string, req: http.IncomingMessage, raw: Buffer): S3Response {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const q = url.searchParams;
  const segments = url.pathname.split('/');
  const bucketName = decodeURIComponent(segments[1] ?? '');
  const key = segments.slice(2).map(decodeURIComponent).join('/');
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
  store: S3Store, region: string, name: string, method: string, q: URLSearchParams, req: http.IncomingMessage, raw: Buffer,
): S3Response {
  const text = body(req, raw).toString('utf-8');
  if (method === 'PUT' && [...q.keys()].length === 0) {
    const constraint = text ? parser.parse(text).CreateBucketConfiguration?.LocationConstraint : undefined;
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
    store.setAcl(bucket, grantsFromHeaders(req) ?? grantsFromXml(text));
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
    const ownership = parser.parse(text).OwnershipControls?.Rule?.[0]?.ObjectOwnership;
    if (!['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'].includes(ownership)) {
      throw new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema', 400);
    }
    bucket.ownership = ownership;
    return ok();
  }
  if (q.has('encryption')) {
    if (method === 'GET') {
      return xml('ServerSideEncryptionConfiguration',
        `<Rule><ApplyServerSideEncryptionByDefault>${el('SSEAlgorithm', bucket.encryption.algorithm)}${el('KMSMasterKeyID', bucket.encryption.kmsKeyId)}</ApplyServerSideEncryptionByDefault></Rule>`);
    }
    const rule = parser.parse(text).ServerSideEncryptionConfiguration?.Rule?.[0]?.ApplyServerSideEncryptionByDefault;
    bucket.encryption = { algorithm: rule?.SSEAlgorithm === 'aws:kms' ? 'aws:kms' : 'AES256', kmsKeyId: rule?.KMSMasterKeyID };
    return ok();
  }
  if (q.has('versioning')) {
    if (method === 'GET') return xml('VersioningConfiguration', el('Status', bucket.versioning));
    store.setVersioning(bucket, parser.parse(text).VersioningConfiguration?.Status);
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
    const doc = parser.parse(text).ReplicationConfiguration ?? {};
    store.setReplication(bucket, {
      role: doc.Role,
      rules: (doc.Rule ?? []).map((r: any, i: number) => ({
        id: String(r.ID ?? `rule-${i + 1}`),
        status: r.Status,
        priority: Number(r.Priority ?? 0),
        prefix: String(r.Filter?.Prefix ?? r.Prefix ?? r.Filter?.And?.Prefix ?? ''),
        destination: String(r.Destination?.Bucket ?? '').replace(/^arn:aws[a-z-]*:s3:::/, ''),
      })),
    });
    return ok();
  }
  if (q.has('publicAccessBlock')) {
    if (method === 'GET') return { status: 200, headers: { 'content-type': 'application/xml' }, body: bucket.publicAccessBlock ?? '' };
    bucket.publicAccessBlock = text;
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
    const max = Number(q.get('max-keys') ?? 1000);
    const { objects, truncated } = store.listObjects(bucket, prefix, startAfter, max);
    const contents = objects.map((o) => `<Contents>${el('Key', o.key)}${el('LastModified', o.lastModified.toISOString())}${el('ETag', o.etag)}${el('Size', o.size)}<StorageClass>STANDARD</StorageClass></Contents>`).join('');
    const next = truncated && objects.length > 0 ? Buffer.from(objects[objects.length - 1].key).toString('base64') : undefined;
    return xml('ListBucketResult', `${el('Name', name)}${el('Prefix', prefix)}${el('KeyCount', objects.length)}${el('MaxKeys', max)}${el('IsTruncated', truncated)}${contents}${el('ContinuationToken', token ?? undefined)}${el('NextContinuationToken', next)}`);
  }
  throw new S3Error('NotImplemented', `The local provider does not emulate ${method} on a bucket with ${[...q.keys()].join(',') || 'no'} subresource`, 501);
}

function objectRequest(
  store: S3Store, bucket: Bucket, key: string, method: string, q: URLSearchParams, req: http.IncomingMessage, raw: Buffer,
): S3Response {
  const sse = req.headers['x-amz-server-side-encryption'] as 'AES256' | 'aws:kms' | undefined;
  const contentType = req.headers['content-type'] as string | undefined;
  if (q.has('acl')) {
    const object = store.getObject(bucket, key);
    if (method === 'GET') return aclXml(object.acl);
    if (bucket.ownership === 'BucketOwnerEnforced') {
      throw new S3Error('AccessControlListNotSupported', 'The bucket does not allow ACLs', 400, { BucketName: bucket.name });
    }
    object.acl = grantsFromHeaders(req) ?? grantsFromXml(body(req, raw).toString('utf-8'));
    return ok();
  }
  if (method === 'POST' && q.has('uploads')) {
    const id = store.createUpload(bucket, key, contentType);
    return xml('InitiateMultipartUploadResult', `${el('Bucket', bucket.name)}${el('Key', key)}${el('UploadId', id)}`);
  }
  if (method === 'PUT' && q.has('uploadId')) {
    const etag = store.uploadPart(bucket, q.get('uploadId')!, Number(q.get('partNumber')), body(req, raw));
    return ok({ etag });
  }
  if (method === 'POST' && q.has('uploadId')) {
    const doc = parser.parse(body(req, raw).toString('utf-8')).CompleteMultipartUpload ?? {};
    const parts = (doc.Part ?? []).map((p: any) => ({ partNumber: Number(p.PartNumber), etag: String(p.ETag) }));
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
      const [srcBucket, ...rest] = decodeURIComponent(copySource.split('?')[0]).replace(/^\//, '').split('/');
      const source = store.getObject(store.bucket(srcBucket), rest.join('/'));
      const object = store.putObject(bucket, key, { from: source.file }, { contentType: source.contentType, sse });
      return xml('CopyObjectResult', `${el('ETag', object.etag)}${el('LastModified', object.lastModified.toISOString())}`);
    }
    const object = store.putObject(bucket, key, { data: body(req, raw) }, {
      contentType, sse, kmsKeyId: req.headers['x-amz-server-side-encryption-aws-kms-key-id'] as string | undefined, acl: grantsFromHeaders(req),
    });
    const headers = objectHeaders(object);
    delete headers['content-length'];
    delete headers['content-type'];
    return ok(headers);
  }
  if (method === 'GET' || method === 'HEAD') {
    const object = store.getObject(bucket, key);
    const headers = objectHeaders(object);
    return { status: 200, headers, body: method === 'GET' ? fs.readFileSync(object.file) : undefined };
  }
  if (method === 'DELETE') {
    store.deleteObject(bucket, key);
    return ok({}, 204);
  }
  throw new S3Error('NotImplemented', `The local provider does not emulate ${method} on an object`, 501);
}
