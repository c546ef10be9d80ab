/**
 * The local provider's Lambda, driven through the real @aws-sdk/client-lambda: functions from a
 * .zip (in the request or in the provider's S3) and from a folder, invoked in child processes.
 * A tiny handler of the test's own shows results, errors, timeouts, crashes and warm reuse; the
 * library's standby-restore bundle (assets/standby-restore, built by `bundle:lambda`) runs as a
 * real function that reads the provider's S3 and prints embedded metrics that reach CloudWatch.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CreateReplicationGroupCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import {
  CreateFunctionCommand, DeleteFunctionCommand, GetFunctionCommand, InvalidParameterValueException, InvalidRequestContentException,
  InvokeCommand, LambdaClient, ListFunctionsCommand, ResourceConflictException, ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as yazl from 'yazl';
import { LocalProvider } from '../../local/provider';
import { groupAvailable } from '../../local/waiters';

jest.setTimeout(60_000);

const REGION = 'eu-west-1';
const credentials = { accessKeyId: 'a', secretAccessKey: 's' };
let provider: LocalProvider;
let lambda: LambdaClient;
let work: string;

const HANDLER = `
let invocations = 0;
class CustomError extends Error { constructor(m) { super(m); this.name = 'CustomError'; } }
exports.handler = async (event, context) => {
  invocations++;
  console.log('event ' + JSON.stringify(event));
  if (event.fail) throw new CustomError('asked to fail: ' + event.fail);
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  if (event.exit) process.exit(event.exit);
  return {
    invocations, functionName: context.functionName, requestId: context.awsRequestId, remaining: context.getRemainingTimeInMillis(),
    region: process.env.AWS_REGION, lambdaEndpoint: process.env.AWS_ENDPOINT_URL_LAMBDA, stage: process.env.STAGE, pid: process.pid,
  };
};
`;

function zip(files: Record<string, string>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, content] of Object.entries(files)) z.addBuffer(Buffer.from(content), name);
  z.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    z.outputStream.on('error', reject);
  });
}

async function invoke(name: string, event: unknown, extra: Partial<ConstructorParameters<typeof InvokeCommand>[0]> = {}) {
  const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)), ...extra }));
  return { ...out, body: out.Payload ? JSON.parse(Buffer.from(out.Payload).toString('utf-8')) : undefined };
}

/** PIDs of the runner processes started under `dir` (their command line names the runner there). */
function runnersIn(dir: string): number[] {
  return fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf-8').includes(path.join(dir, 'lambda', 'runner.js'));
    } catch {
      return false;
    }
  }).map(Number);
}

beforeAll(async () => {
  provider = await LocalProvider.start({ speed: 600 });
  lambda = new LambdaClient({ region: REGION, endpoint: provider.endpoint, credentials, maxAttempts: 1 });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-test-'));
  await lambda.send(new CreateFunctionCommand({
    FunctionName: 'tiny',
    Runtime: 'nodejs22.x',
    Role: 'arn:aws:iam::000000000000:role/tiny',
    Handler: 'src/app.handler',
    Code: { ZipFile: await zip({ 'src/app.js': HANDLER }) },
    Timeout: 2,
    Environment: { Variables: { STAGE: 'test' } },
  }));
});

afterAll(async () => {
  lambda?.destroy();
  await provider?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('a function from a .zip: its configuration, and invocations in a warm child with the runtime\'s environment', async () => {
  const got = await lambda.send(new GetFunctionCommand({ FunctionName: 'tiny' }));
  expect(got.Configuration).toMatchObject({
    FunctionName: 'tiny',
    FunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:tiny',
    Runtime: 'nodejs22.x',
    Handler: 'src/app.handler',
    Timeout: 2,
    MemorySize: 128,
    State: 'Active',
    Environment: { Variables: { STAGE: 'test' } },
    Version: '$LATEST',
  });
  expect(got.Configuration!.CodeSha256).toMatch(/^[A-Za-z0-9+/]{43}=$/);

  const first = await invoke('tiny', { hello: 'world' }, { LogType: 'Tail' });
  expect(first.StatusCode).toBe(200);
  expect(first.FunctionError).toBeUndefined();
  expect(first.body).toMatchObject({ invocations: 1, functionName: 'tiny', region: REGION, lambdaEndpoint: provider.endpoint, stage: 'test' });
  expect(first.body.remaining).toBeGreaterThan(1000);
  expect(first.body.remaining).toBeLessThanOrEqual(2000);
  const tail = Buffer.from(first.LogResult!, 'base64').toString('utf-8');
  expect(tail).toContain('event {"hello":"world"}');
  expect(tail).toContain(`END RequestId: ${first.body.requestId}`);

  // The same environment answers the next invocation: module state survives, as in Lambda.
  const second = await invoke('tiny', {}, { FunctionName: 'arn:aws:lambda:eu-west-1:000000000000:function:tiny' });
  expect(second.body).toMatchObject({ invocations: 2, pid: first.body.pid });
  expect(provider.lambda.logs(REGION, 'tiny').filter((l) => l.startsWith('event '))).toEqual(['event {"hello":"world"}', 'event {}']);
});

test('an error is answered as Lambda does: FunctionError Unhandled with errorType, errorMessage and trace', async () => {
  const out = await invoke('tiny', { fail: 'please' });
  expect(out.StatusCode).toBe(200);
  expect(out.FunctionError).toBe('Unhandled');
  expect(out.body.errorType).toBe('CustomError');
  expect(out.body.errorMessage).toBe('asked to fail: please');
  expect(out.body.trace[0]).toBe('CustomError: asked to fail: please');
  // A handled error keeps the environment.
  expect((await invoke('tiny', {})).body.invocations).toBeGreaterThan(2);
});

test('a timeout stops the child and answers Sandbox.Timedout; a crash answers Runtime.ExitError; the next invocation gets a new child', async () => {
  const { pid } = (await invoke('tiny', {})).body;
  const started = Date.now();
  const timedOut = await invoke('tiny', { sleepMs: 10_000 });
  expect(Date.now() - started).toBeLessThan(5000);
  expect(timedOut.FunctionError).toBe('Unhandled');
  expect(timedOut.body).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/^RequestId: \S+ Error: Task timed out after 2\.00 seconds$/) });
  await new Promise((r) => setTimeout(r, 100));
  expect(() => process.kill(pid, 0)).toThrow();

  const fresh = await invoke('tiny', {});
  expect(fresh.body).toMatchObject({ invocations: 1 });
  expect(fresh.body.pid).not.toBe(pid);
  const crashed = await invoke('tiny', { exit: 3 });
  expect(crashed.body).toEqual({ errorType: 'Runtime.ExitError', errorMessage: expect.stringMatching(/Runtime exited with error: exit status 3$/) });
  expect((await invoke('tiny', {})).body.invocations).toBe(1);
});

test('Event invocations are accepted (202) and run afterwards; DryRun only checks', async () => {
  const accepted = await lambda.send(new InvokeCommand({ FunctionName: 'tiny', InvocationType: 'Event', Payload: Buffer.from('{"async":true}') }));
  expect(accepted.StatusCode).toBe(202);
  const deadline = Date.now() + 10_000;
  while (!provider.lambda.logs(REGION, 'tiny').includes('event {"async":true}') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(provider.lambda.logs(REGION, 'tiny')).toContain('event {"async":true}');
  expect((await lambda.send(new InvokeCommand({ FunctionName: 'tiny', InvocationType: 'DryRun' }))).StatusCode).toBe(204);
});

test('bad requests get Lambda\'s errors and change nothing', async () => {
  const base = { Runtime: 'nodejs22.x' as const, Role: 'arn:aws:iam::000000000000:role/r', Handler: 'index.handler' };
  const code = { ZipFile: await zip({ 'index.js': HANDLER }) };
  await expect(lambda.send(new CreateFunctionCommand({ ...base, FunctionName: 'tiny', Code: code }))).rejects.toBeInstanceOf(ResourceConflictException);
  await expect(lambda.send(new CreateFunctionCommand({ ...base, FunctionName: 'env', Code: code, Environment: { Variables: { AWS_REGION: 'x' } } })))
    .rejects.toBeInstanceOf(InvalidParameterValueException);
  await expect(lambda.send(new CreateFunctionCommand({ ...base, FunctionName: 'corrupt', Code: { ZipFile: Buffer.from('not a zip file at all') } })))
    .rejects.toBeInstanceOf(InvalidParameterValueException);
  await expect(lambda.send(new CreateFunctionCommand({ ...base, FunctionName: 'slow', Code: code, Timeout: 901 }))).rejects.toBeInstanceOf(InvalidParameterValueException);
  await expect(lambda.send(new CreateFunctionCommand({ ...base, FunctionName: 'nos3', Code: { S3Bucket: 'nope', S3Key: 'k.zip' } })))
    .rejects.toBeInstanceOf(InvalidParameterValueException);
  await expect(lambda.send(new InvokeCommand({ FunctionName: 'tiny', Payload: Buffer.from('{not json') }))).rejects.toBeInstanceOf(InvalidRequestContentException);
  await expect(lambda.send(new InvokeCommand({ FunctionName: 'missing' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  expect((await lambda.send(new ListFunctionsCommand({}))).Functions!.map((f) => f.FunctionName)).toEqual(['tiny']);
});

test('a function from the provider\'s S3, listed and deleted (its warm child stopped)', async () => {
  const s3 = new S3Client({ region: REGION, endpoint: provider.endpoint, forcePathStyle: true, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: 'code', CreateBucketConfiguration: { LocationConstraint: REGION } }));
  await s3.send(new PutObjectCommand({ Bucket: 'code', Key: 'fn.zip', Body: await zip({ 'index.js': HANDLER }) }));
  s3.destroy();
  await lambda.send(new CreateFunctionCommand({
    FunctionName: 'from-s3', Runtime: 'nodejs22.x', Role: 'arn:aws:iam::000000000000:role/r', Handler: 'index.handler', Code: { S3Bucket: 'code', S3Key: 'fn.zip' },
  }));
  expect((await lambda.send(new ListFunctionsCommand({}))).Functions!.map((f) => f.FunctionName)).toEqual(['from-s3', 'tiny']);
  const { pid } = (await invoke('from-s3', {})).body;
  await lambda.send(new DeleteFunctionCommand({ FunctionName: 'from-s3' }));
  await new Promise((r) => setTimeout(r, 100));
  expect(() => process.kill(pid, 0)).toThrow();
  await expect(lambda.send(new GetFunctionCommand({ FunctionName: 'from-s3' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
});

test('the library\'s standby-restore bundle runs as a function: it reads the provider\'s S3, and its embedded metrics reach CloudWatch', async () => {
  const codeDir = path.join(__dirname, '..', '..', 'assets', 'standby-restore');
  expect(fs.existsSync(path.join(codeDir, 'index.js'))).toBe(true);
  await provider.lambda.createFunction({ region: REGION, name: 'standby-restore', handler: 'index.handler', runtime: 'nodejs22.x', codeDir, timeoutSeconds: 30, memorySize: 256 });
  const s3 = new S3Client({ region: REGION, endpoint: provider.endpoint, forcePathStyle: true, credentials });
  await s3.send(new CreateBucketCommand({ Bucket: 'replica', CreateBucketConfiguration: { LocationConstraint: REGION } }));
  s3.destroy();

  const found = await invoke('standby-restore', {
    step: 'findExport',
    request: { mode: 'rehearsal' },
    record: { hostedZoneId: 'Z1', recordName: 'redis.example.com' },
    bucket: 'replica',
    exportPrefix: 'nightly',
    standbyPrefix: 'standby',
    startTime: '2026-11-21T10:00:00Z',
  });
  expect(found.FunctionError).toBe('Unhandled');
  expect(found.body.errorType).toBe('NoCompleteExport');
  expect(found.body.errorMessage).toContain('s3://replica');

  const recorded = await invoke('standby-restore', {
    step: 'record',
    workflow: 'restore',
    mode: 'rehearsal',
    startTime: '2026-11-21T10:00:00Z',
    now: '2026-11-21T10:07:00Z',
    snapshotTime: '2026-11-21T09:00:00Z',
    runName: 'nightly-20261121-090000',
    standbyId: 'standby-261121-100000',
  });
  expect(recorded.FunctionError).toBeUndefined();
  expect(recorded.body).toMatchObject({ rpoSeconds: 3600, rtoSeconds: 420 });
  const points = provider.cloudwatch.datapoints(REGION).filter((d) => d.namespace === 'CdkElastiCacheBackup/StandbyRestore');
  expect(points.map((p) => [p.metricName, p.sum])).toEqual(expect.arrayContaining([['RecoveryPointSeconds', 3600], ['RecoveryTimeSeconds', 420]]));
  expect(points[0].dimensions).toEqual([{ Name: 'Mode', Value: 'rehearsal' }, { Name: 'Workflow', Value: 'restore' }]);
});

test('a function resolves the endpoint names through the provider\'s DNS server and trusts its TLS nodes, as in a VPC', async () => {
  const ec = new ElastiCacheClient({ region: REGION, endpoint: provider.endpoint, credentials });
  await ec.send(new CreateReplicationGroupCommand({
    ReplicationGroupId: 'vpc-check', ReplicationGroupDescription: 'x', CacheNodeType: 'cache.t4g.small', NumCacheClusters: 1, TransitEncryptionEnabled: true,
  }));
  const endpoint = (await groupAvailable(ec, 'vpc-check')).NodeGroups![0].PrimaryEndpoint!;
  ec.destroy();
  const dir = fs.mkdtempSync(path.join(work, 'code-'));
  // A plain TLS client of Node's own: it resolves the name and verifies the node's certificate for it.
  fs.writeFileSync(path.join(dir, 'index.js'), `
const tls = require('tls');
const dns = require('dns');
exports.handler = async (event) => {
  const address = await new Promise((resolve, reject) => dns.lookup(event.host, (e, a) => (e ? reject(e) : resolve(a))));
  const pong = await new Promise((resolve, reject) => {
    const socket = tls.connect({ host: event.host, port: event.port }, () => socket.write('PING\\r\\n'));
    socket.once('data', (d) => { resolve(String(d).trim()); socket.end(); });
    socket.once('error', reject);
  });
  return { address, pong };
};
`);
  await provider.lambda.createFunction({ region: REGION, name: 'in-vpc', handler: 'index.handler', codeDir: dir, timeoutSeconds: 10 });
  const out = await invoke('in-vpc', { host: endpoint.Address, port: endpoint.Port });
  expect(out.FunctionError).toBeUndefined();
  expect(out.body).toEqual({ address: expect.stringMatching(/^127\.1\d\d\./), pong: '+PONG' });
});

test('stopping the provider leaves no child behind', async () => {
  const own = await LocalProvider.start({ speed: 600 });
  const dir = fs.mkdtempSync(path.join(work, 'code-'));
  fs.writeFileSync(path.join(dir, 'index.js'), HANDLER);
  await own.lambda.createFunction({ region: REGION, name: 'f', handler: 'index.handler', codeDir: dir, timeoutSeconds: 30 });
  const running = own.lambda.invoke(REGION, 'f', '{"sleepMs": 20000}');
  await own.lambda.invoke(REGION, 'f', '{}');
  expect(runnersIn(own.dataDir)).toHaveLength(2);
  const dataDir = own.dataDir;
  await own.stop();
  expect((await running).payload).toContain('Runtime exited with signal: SIGKILL');
  await new Promise((r) => setTimeout(r, 100));
  expect(runnersIn(dataDir)).toEqual([]);
});
