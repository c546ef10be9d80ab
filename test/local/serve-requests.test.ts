/**
 * Issue 13, the request layer of `cdk-elasticache-backup serve`, run as a process (the bin over
 * lib/local/cli.js, built by `npx projen compile` or `npx projen bundle:local`): aborted and
 * malformed requests fail only themselves, background failures mark what failed, bad XML gets the
 * service's 4xx and changes nothing, and browser pages are refused.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import {
  CreateBucketCommand, GetBucketAclCommand, GetBucketEncryptionCommand, GetBucketVersioningCommand, HeadObjectCommand,
  ListBucketsCommand, PutBucketEncryptionCommand, PutBucketReplicationCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import { alive, requireBuiltCli, Serve, startServe } from './serve';

jest.setTimeout(60_000);

const REGION = 'eu-west-1';
const SIGNATURE = 'a'.repeat(64);
const auth = (service: string, region = REGION) =>
  `AWS4-HMAC-SHA256 Credential=local/20260101/${region}/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=${SIGNATURE}`;

let serve: Serve;
let port: number;
let dataDir: string;
let s3: S3Client;
let r53: Route53Client;
let zoneId: string;

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly code?: string;
}

/** One raw request; resolves with the answer, or rejects when none comes within 5 s (a hang). */
function request(method: string, urlPath: string, headers: Record<string, string>, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers: { host: `127.0.0.1:${port}`, ...headers }, agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body: text, code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1] }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`no answer to ${method} ${urlPath} within 5 s`)));
    req.end(body);
  });
}

const s3Headers = (extra: Record<string, string> = {}) => ({ 'authorization': auth('s3'), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...extra });
const chunkedHeaders = (extra: Record<string, string> = {}) => s3Headers({ 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', ...extra });

/** Sends the head and part of a body on a raw socket, then drops the connection. */
async function abortAfter(head: string, partial: Buffer | string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(head);
      socket.write(partial, () => setTimeout(() => { socket.destroy(); resolve(); }, 100));
    });
    socket.on('error', reject);
  });
}

/** The provider still runs and answers, and its data folder is still there. */
async function expectServing(): Promise<void> {
  expect(alive(serve.child.pid!)).toBe(true);
  expect((await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name)).toContain('data');
  expect(fs.existsSync(path.join(dataDir, 's3', 'data'))).toBe(true);
}

/** Retries an expectation for up to a second (what serve writes to stderr arrives on its own time). */
async function eventually(check: () => void): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return check();
    } catch (e) {
      if (i >= 20) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Files left in the folder where uploads are received. */
function incoming(): string[] {
  const dir = path.join(dataDir, 's3', '.incoming');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

function peakRss(): number {
  const status = fs.readFileSync(`/proc/${serve.child.pid}/status`, 'utf-8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

beforeAll(async () => {
  requireBuiltCli();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-requests-'));
  serve = await startServe(['--speed', '6000', '--data-dir', dataDir]);
  const endpoint = serve.env.AWS_ENDPOINT_URL_S3;
  port = Number(new URL(endpoint).port);
  const credentials = { accessKeyId: 'a', secretAccessKey: 's' };
  s3 = new S3Client({ region: REGION, endpoint, forcePathStyle: true, credentials });
  r53 = new Route53Client({ region: 'us-east-1', endpoint, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: 'data', CreateBucketConfiguration: { LocationConstraint: REGION } }));
  zoneId = (await r53.send(new CreateHostedZoneCommand({ Name: 'cache.example.com', CallerReference: 'serve-requests' }))).HostedZone!.Id!;
});

afterAll(async () => {
  s3?.destroy();
  r53?.destroy();
  if (serve?.child.pid && alive(serve.child.pid)) {
    serve.child.kill('SIGTERM');
    const timer = setTimeout(() => serve.child.kill('SIGKILL'), 10_000);
    await serve.exited;
    clearTimeout(timer);
  }
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('item 1: a client that goes away mid-request fails that request only', () => {
  test.each([
    ['a PutObject cut off in its body', `PUT /data/cut HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth('s3')}\r\nContent-Length: 1000000\r\n\r\n`, 'x'.repeat(1000)],
    ['an aws-chunked PutObject cut off mid-chunk', `PUT /data/cut HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth('s3')}\r\nContent-Encoding: aws-chunked\r\n`
      + 'X-Amz-Content-Sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\nContent-Length: 100000\r\n\r\n', '10000\r\nxxxx'],
    ['an ElastiCache call cut off in its body', `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth('elasticache')}\r\nContent-Type: application/x-www-form-urlencoded\r\n`
      + 'Content-Length: 500\r\n\r\n', 'Action=DescribeReplicationGroups&Version=2015-02-02'],
    ['a Route 53 change cut off in its body', `POST /2013-04-01/hostedzone/ZX/rrset HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth('route53', 'us-east-1')}\r\n`
      + 'Content-Length: 500\r\n\r\n', '<ChangeResourceRecordSetsRequest>'],
  ])('%s', async (_name, head, partial) => {
    await abortAfter(head, partial);
    await new Promise((r) => setTimeout(r, 100));
    await expectServing();
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'cut' }))).rejects.toMatchObject({ name: 'NotFound' });
    expect(incoming()).toEqual([]);
  });
});

describe('item 2: aws-chunked bodies are parsed strictly', () => {
  const incomplete = { status: 400, code: 'IncompleteBody' };
  test.each([
    ['a negative chunk size', '-6\r\nabcdef\r\n0\r\n\r\n', {}, incomplete],
    ['a chunk size that is not hex', 'zz\r\nabc\r\n0\r\n\r\n', {}, incomplete],
    ['a chunk size of 17 hex digits', `${'1'.repeat(17)}\r\nabc\r\n0\r\n\r\n`, {}, incomplete],
    ['a size line without CRLF', '3\nabc\r\n0\r\n\r\n', {}, incomplete],
    ['a size line of 5000 bytes', `3;${'x'.repeat(5000)}\r\nabc\r\n0\r\n\r\n`, {}, incomplete],
    ['data longer than its size', '3\r\nabcdef\r\n0\r\n\r\n', {}, incomplete],
    ['a body that ends in a chunk', '6\r\nabc', {}, incomplete],
    ['a body without its final chunk', '3\r\nabc\r\n', {}, incomplete],
    ['bytes after the final CRLF', '3\r\nabc\r\n0\r\n\r\nextra', {}, incomplete],
    ['an empty body', '', {}, incomplete],
    ['a decoded length that does not match', '3\r\nabc\r\n0\r\n\r\n', { 'x-amz-decoded-content-length': '4' }, incomplete],
    ['a malformed trailer', '3\r\nabc\r\n0\r\nno colon here\r\n\r\n', {}, { status: 400, code: 'MalformedTrailerError' }],
  ])('%s is refused, at once', async (_name, body, headers, expected) => {
    const answer = await request('PUT', '/data/chunked', chunkedHeaders(headers), body);
    expect({ status: answer.status, code: answer.code }).toEqual(expected);
    await expect(s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'chunked' }))).rejects.toMatchObject({ name: 'NotFound' });
    expect(incoming()).toEqual([]);
    await expectServing();
  });

  test('a well-formed body (signed chunks, a trailer) is stored as its content', async () => {
    const sig = `;chunk-signature=${'b'.repeat(64)}`;
    const body = `3${sig}\r\nabc\r\n2${sig}\r\nde\r\n0${sig}\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n`;
    const answer = await request('PUT', '/data/chunked-ok', chunkedHeaders({ 'x-amz-decoded-content-length': '5' }), body);
    expect(answer.status).toBe(200);
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'chunked-ok' }))).ContentLength).toBe(5);
  });
});

describe('item 4: a background failure marks what failed and the provider goes on', () => {
  test('replication that cannot write the replica ends FAILED', async () => {
    for (const [bucket, region] of [['repl-src', REGION], ['repl-dst', 'us-west-2']]) {
      const client = new S3Client({ region, endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
      await client.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: region as any } }));
      await client.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
      client.destroy();
    }
    await s3.send(new PutBucketReplicationCommand({
      Bucket: 'repl-src',
      ReplicationConfiguration: {
        Role: 'arn:aws:iam::000000000000:role/r',
        Rules: [{ ID: 'all', Status: 'Enabled', Priority: 1, Filter: { Prefix: '' }, Destination: { Bucket: 'arn:aws:s3:::repl-dst' }, DeleteMarkerReplication: { Status: 'Disabled' } }],
      },
    }));
    // The replica's folder becomes a file: writing the replica fails as on a full or broken disk (ENOSPC, EIO).
    const replicaDir = path.join(dataDir, 's3', 'repl-dst');
    fs.rmSync(replicaDir, { recursive: true });
    fs.writeFileSync(replicaDir, 'not a folder');
    await s3.send(new PutObjectCommand({ Bucket: 'repl-src', Key: 'export.rdb', Body: 'rdb' }));
    let status: string | undefined;
    for (let i = 0; i < 100; i++) {
      status = (await s3.send(new HeadObjectCommand({ Bucket: 'repl-src', Key: 'export.rdb' }))).ReplicationStatus;
      if (status !== 'PENDING') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('FAILED');
    await expectServing();
    await eventually(() => expect(serve.stderr()).toContain('replication of s3://repl-src/export.rdb to repl-dst failed'));
  });
});

describe('bad XML gets the service\'s 4xx and changes nothing', () => {
  const xml = (root: string, inner: string) => `<${root} xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${inner}</${root}>`;
  const malformed = { status: 400, code: 'MalformedXML' };
  const malformedAcl = { status: 400, code: 'MalformedACLError' };

  beforeAll(async () => {
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'data', VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutBucketEncryptionCommand({
      Bucket: 'data',
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'arn:aws:kms:eu-west-1:000000000000:key/k' } }] },
    }));
  });

  async function settings() {
    return {
      acl: (await s3.send(new GetBucketAclCommand({ Bucket: 'data' }))).Grants,
      versioning: (await s3.send(new GetBucketVersioningCommand({ Bucket: 'data' }))).Status,
      encryption: (await s3.send(new GetBucketEncryptionCommand({ Bucket: 'data' }))).ServerSideEncryptionConfiguration,
    };
  }

  test.each([
    ['PutBucketAcl, not XML', '/data?acl', 'garbage', malformedAcl],
    ['PutBucketAcl, unclosed elements', '/data?acl', '<AccessControlPolicy><AccessControlList>', malformedAcl],
    ['PutBucketAcl, an unknown permission', '/data?acl', xml('AccessControlPolicy', '<AccessControlList><Grant><Grantee><ID>x</ID></Grantee><Permission>ALL</Permission></Grant></AccessControlList>'), malformedAcl],
    ['PutBucketAcl, another document', '/data?acl', xml('VersioningConfiguration', ''), malformedAcl],
    ['PutBucketVersioning, not XML', '/data?versioning', 'garbage', malformed],
    ['PutBucketVersioning, an unknown status', '/data?versioning', xml('VersioningConfiguration', '<Status>Sometimes</Status>'), malformed],
    ['PutBucketVersioning, a DTD', '/data?versioning', '<!DOCTYPE a [<!ENTITY s "Suspended">]><VersioningConfiguration><Status>&s;</Status></VersioningConfiguration>', malformed],
    ['PutBucketEncryption, not XML', '/data?encryption', 'garbage', malformed],
    ['PutBucketEncryption, an unknown algorithm', '/data?encryption', xml('ServerSideEncryptionConfiguration', '<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>rot13</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>'), malformed],
    ['PutBucketEncryption, no rule', '/data?encryption', xml('ServerSideEncryptionConfiguration', ''), malformed],
    ['PutBucketEncryption, a key for AES256', '/data?encryption', xml('ServerSideEncryptionConfiguration', '<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></Rule>'), { status: 400, code: 'InvalidArgument' }],
    ['PutBucketOwnershipControls, not XML', '/data?ownershipControls', 'garbage', malformed],
    ['PutBucketReplication, not XML', '/data?replication', '<ReplicationConfiguration><Role>r</Role><Rule>', malformed],
    ['PutBucketReplication, a destination that is not an ARN', '/data?replication', xml('ReplicationConfiguration', '<Role>r</Role><Rule><Status>Enabled</Status><Destination><Bucket>other</Bucket></Destination></Rule>'), malformed],
    ['PutPublicAccessBlock, not XML', '/data?publicAccessBlock', 'garbage', malformed],
    ['PutPublicAccessBlock, not a boolean', '/data?publicAccessBlock', xml('PublicAccessBlockConfiguration', '<BlockPublicAcls>maybe</BlockPublicAcls>'), malformed],
    ['CreateBucket, a malformed configuration', '/other-bucket', '<CreateBucketConfiguration><LocationConstraint>eu-west-1</CreateBucketConfiguration>', malformed],
  ])('%s', async (_name, urlPath, body, expected) => {
    const before = await settings();
    const answer = await request('PUT', urlPath, s3Headers(), body);
    expect({ status: answer.status, code: answer.code }).toEqual(expected);
    expect(await settings()).toEqual(before);
    expect((await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name)).not.toContain('other-bucket');
  });

  test('CompleteMultipartUpload, not XML', async () => {
    const init = await request('POST', '/data/multi?uploads', s3Headers());
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(init.body)![1];
    const answer = await request('POST', `/data/multi?uploadId=${uploadId}`, s3Headers(), 'garbage');
    expect({ status: answer.status, code: answer.code }).toEqual(malformed);
    expect((await request('GET', '/data?uploads', s3Headers())).body).toContain(uploadId);
  });

  const r53Change = (changes: string) => '<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/">'
    + `<ChangeBatch><Changes>${changes}</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`;
  const change = (action: string, type: string, ttl: string, value: string, name = 'app.cache.example.com') =>
    `<Change><Action>${action}</Action><ResourceRecordSet><Name>${name}</Name><Type>${type}</Type><TTL>${ttl}</TTL>`
    + `<ResourceRecords><ResourceRecord><Value>${value}</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>`;
  const invalidInput = (message: string) => ({ status: 400, code: 'InvalidInput', message });
  const invalidBatch = (message: string) => ({ status: 400, code: 'InvalidChangeBatch', message });

  test.each([
    ['Action=FROB', r53Change(change('FROB', 'CNAME', '60', 'g.example.com')),
      invalidInput('Invalid XML ; cvc-enumeration-valid: Value \'FROB\' is not facet-valid with respect to enumeration \'[CREATE, DELETE, UPSERT]\'. It must be a value from the enumeration.')],
    ['TTL NaN', r53Change(change('UPSERT', 'CNAME', 'NaN', 'g.example.com')),
      invalidInput('Invalid XML ; cvc-datatype-valid.1.2.1: \'NaN\' is not a valid value for \'integer\'.')],
    ['TTL -5', r53Change(change('UPSERT', 'CNAME', '-5', 'g.example.com')),
      invalidInput('Invalid XML ; cvc-minInclusive-valid: Value \'-5\' is not facet-valid with respect to minInclusive \'0\' for type \'TTL\'.')],
    ['type BOGUS', r53Change(change('UPSERT', 'BOGUS', '60', 'g.example.com')),
      invalidInput('Invalid XML ; cvc-enumeration-valid: Value \'BOGUS\' is not facet-valid with respect to enumeration \'[SOA, A, TXT, NS, CNAME, MX, NAPTR, PTR, SRV, SPF, AAAA, CAA, DS, TLSA, SSHFP, SVCB, HTTPS]\'. It must be a value from the enumeration.')],
    ['an A record \'not-an-ip\'', r53Change(change('UPSERT', 'A', '60', 'not-an-ip')),
      invalidBatch('[Invalid Resource Record: \'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with \'not-an-ip\'\']')],
    ['an AAAA record \'1.2.3.4\'', r53Change(change('UPSERT', 'AAAA', '60', '1.2.3.4')),
      invalidBatch('[Invalid Resource Record: \'FATAL problem: AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address) encountered with \'1.2.3.4\'\']')],
    ['1001 changes in one batch', r53Change(Array.from({ length: 1001 }, (_, i) => change('CREATE', 'A', '60', '10.0.0.1', `h${i}.cache.example.com`)).join('')),
      invalidBatch('Number of records limit of 1000 exceeded.')],
    ['not XML', 'garbage', invalidInput('Invalid XML ; char \'g\' is not expected.')],
    ['unclosed elements', r53Change(change('UPSERT', 'CNAME', '60', 'g.example.com')).replace('</Changes>', ''),
      invalidInput('Invalid XML ; Expected closing tag \'Changes\' (opened in line 1, col 139) instead of closing tag \'ChangeBatch\'.')],
  ])('Route 53 ChangeResourceRecordSets: %s', async (_name, body, expected) => {
    const before = (await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets;
    const answer = await request('POST', `/2013-04-01${zoneId}/rrset`, { authorization: auth('route53', 'us-east-1') }, body);
    expect({ status: answer.status, code: answer.code, message: /<Message>([^<]*)<\/Message>/.exec(answer.body)?.[1].replace(/&apos;/g, '\'') }).toEqual(expected);
    expect((await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets).toEqual(before);
  });

  test('a valid change still applies (the checks refuse only what is wrong)', async () => {
    await r53.send(new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: 'ip.cache.example.com', Type: 'A', TTL: 0, ResourceRecords: [{ Value: '10.0.0.1' }] } }] },
    }));
    const sets = (await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets!;
    expect(sets.find((r) => r.Name === 'ip.cache.example.com.')).toMatchObject({ Type: 'A', TTL: 0 });
  });
});

describe('client errors are 4xx; a 500 is the provider\'s own fault and shows no path', () => {
  test.each([
    ['a malformed %-escape in a key', 'GET', '/data/%E0%A4%A', {}, { status: 400, code: 'InvalidURI' }],
    ['a malformed %-escape in a bucket name', 'GET', '/%zz', {}, { status: 400, code: 'InvalidURI' }],
    ['a malformed %-escape in a copy source', 'PUT', '/data/copy', { 'x-amz-copy-source': '/data/%zz' }, { status: 400, code: 'InvalidArgument' }],
    ['max-keys that is not a number', 'GET', '/data?list-type=2&max-keys=lots', {}, { status: 400, code: 'InvalidArgument' }],
  ])('%s', async (_name, method, urlPath, headers, expected) => {
    const answer = await request(method, urlPath, s3Headers(headers));
    expect({ status: answer.status, code: answer.code }).toEqual(expected);
  });

  test('an object whose file vanished from disk: InternalError, without the path', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'vanishing', Body: 'content' }));
    for (const f of fs.readdirSync(path.join(dataDir, 's3', 'data'))) fs.rmSync(path.join(dataDir, 's3', 'data', f));
    const answer = await request('GET', '/data/vanishing', s3Headers());
    expect(answer.status).toBe(500);
    expect(answer.code).toBe('InternalError');
    expect(answer.body).not.toContain(dataDir);
    expect(answer.body).not.toMatch(/ENOENT|\/tmp\//);
    await eventually(() => expect(serve.stderr()).toContain('internal error answering GET /data/vanishing'));
    await expectServing();
  });
});

describe('limits protect the provider', () => {
  test.each([
    ['an ElastiCache body over 1 MiB', 'POST', '/', { 'authorization': auth('elasticache'), 'content-type': 'application/x-www-form-urlencoded' },
      `Action=DescribeReplicationGroups&Version=2015-02-02&x=${'a'.repeat(1024 * 1024)}`, { status: 413, code: 'RequestEntityTooLarge' }],
    ['a Route 53 body over 1 MiB', 'POST', '/2013-04-01/hostedzone', { authorization: auth('route53', 'us-east-1') },
      `<CreateHostedZoneRequest>${' '.repeat(1024 * 1024)}</CreateHostedZoneRequest>`, { status: 413, code: 'RequestEntityTooLarge' }],
    ['an S3 XML body over 2 MiB', 'PUT', '/data?versioning', s3Headers(), ' '.repeat(2 * 1024 * 1024 + 1), { status: 400, code: 'MaxMessageLengthExceeded' }],
    ['an object announced over 5 GiB', 'PUT', '/data/huge', chunkedHeaders({ 'x-amz-decoded-content-length': String(5 * 1024 ** 3 + 1) }), '0\r\n\r\n', { status: 400, code: 'EntityTooLarge' }],
  ])('%s is refused', async (_name, method, urlPath, headers, body, expected) => {
    const answer = await request(method, urlPath, headers, body);
    expect({ status: answer.status, code: answer.code }).toEqual(expected);
    await expectServing();
  });

  test('a refused body is read to its end before the connection closes: the client gets the answer, not a reset', async () => {
    // The client is answered as soon as the announced size is refused, and only then sends the body,
    // the order in which a loaded machine runs it. Closing at once would reset these writes (EPIPE).
    const size = 4 * 1024 * 1024;
    const outcome = await new Promise<{ answer: string; writeError?: string }>((resolve, reject) => {
      let answer = '';
      let writeError: string | undefined;
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(`PUT /data?versioning HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: ${auth('s3')}\r\n`
          + `x-amz-content-sha256: UNSIGNED-PAYLOAD\r\ncontent-length: ${size}\r\n\r\n`);
      });
      let sent = false;
      socket.on('data', (chunk) => {
        answer += chunk;
        if (sent || !answer.includes('</Error>')) return;
        sent = true;
        socket.write(Buffer.alloc(size, 32), (e) => { writeError = e?.message; });
      });
      socket.on('error', (e) => { writeError = e.message; });
      socket.on('close', () => resolve({ answer, writeError }));
      socket.setTimeout(10_000, () => reject(new Error('the connection was neither answered nor closed within 10 s')));
    });
    expect(outcome.answer).toMatch(/^HTTP\/1.1 400/);
    expect(outcome.answer).toContain('<Code>MaxMessageLengthExceeded</Code>');
    expect(outcome.writeError).toBeUndefined();
    await expectServing();
  });

  test('a 256 MiB PutObject is streamed to disk, not held in memory', async () => {
    const size = 256 * 1024 * 1024;
    const before = peakRss();
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: '/data/big', headers: { ...s3Headers(), 'content-length': String(size) } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      });
      req.on('error', reject);
      const block = Buffer.alloc(1024 * 1024, 7);
      let sent = 0;
      const write = () => {
        while (sent < size) {
          sent += block.length;
          if (!req.write(block)) return void req.once('drain', write);
        }
        req.end();
      };
      write();
    });
    expect((await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'big' }))).ContentLength).toBe(size);
    expect(peakRss() - before).toBeLessThan(64 * 1024 * 1024);
    expect(incoming()).toEqual([]);
  });
});

describe('requests from a browser page are refused', () => {
  const form = 'Action=DeleteCacheSubnetGroup&Version=2015-02-02&CacheSubnetGroupName=default';
  test.each([
    ['a cross-site form POST (no Authorization, an Origin)', { 'content-type': 'application/x-www-form-urlencoded', 'origin': 'https://evil.example' },
      { status: 403, code: 'AccessDenied' }],
    ['a signed-looking request from a page (an Origin)', { 'content-type': 'application/x-www-form-urlencoded', 'origin': 'https://evil.example', 'authorization': auth('elasticache') },
      { status: 403, code: 'AccessDenied' }],
    ['a DNS-rebound Host', { 'content-type': 'application/x-www-form-urlencoded', 'host': 'evil.example:80', 'authorization': auth('elasticache') },
      { status: 403, code: 'AccessDenied' }],
    ['no Authorization header', { 'content-type': 'application/x-www-form-urlencoded' }, { status: 403, code: 'MissingAuthenticationToken' }],
    ['an Authorization header that is not SigV4', { 'content-type': 'application/x-www-form-urlencoded', 'authorization': 'Bearer token' },
      { status: 400, code: 'IncompleteSignature' }],
  ])('%s', async (_name, headers, expected) => {
    const answer = await request('POST', '/', headers, form);
    expect({ status: answer.status, code: answer.code }).toEqual(expected);
  });

  test('S3: an unsigned GET is denied, a presigned-shaped GET is served', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'shared', Body: 'shared content' }));
    expect(await request('GET', '/data/shared', {})).toMatchObject({ status: 403, code: 'AccessDenied' });
    const query = new URLSearchParams({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `local/20260101/${REGION}/s3/aws4_request`,
      'X-Amz-Date': '20260101T000000Z',
      'X-Amz-Expires': '900',
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Signature': SIGNATURE,
    });
    expect(await request('GET', `/data/shared?${query}`, {})).toMatchObject({ status: 200, body: 'shared content' });
  });
});
