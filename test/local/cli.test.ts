/**
 * The package's command, `cdk-elasticache-backup serve`, run as a user runs it: the bin script over
 * the bundled lib/local/cli.js.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CreateReplicationGroupCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { alive, BIN, createGroupOfTwo, gone, redisChildren, requireBuiltCli, runCli, startServe, terminate } from './serve';
import { localCa } from '../../local/tls';
import { groupAvailable } from '../../local/waiters';

jest.setTimeout(60_000);

beforeAll(requireBuiltCli);

test('serve prints the variables SDK clients need, serves them, and stops everything on SIGTERM', async () => {
  const serve = await startServe(['--speed', '6000']);
  const env = serve.env;
  expect(Object.keys(env)).toEqual([
    'AWS_ENDPOINT_URL_ELASTICACHE', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_ROUTE_53', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL_EC2', 'AWS_ENDPOINT_URL_SSM',
    'AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_ENDPOINT_URL_SNS', 'AWS_ENDPOINT_URL_CLOUDWATCH', 'AWS_ENDPOINT_URL_LAMBDA', 'AWS_ENDPOINT_URL_SFN',
    'AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION', 'CDK_DISABLE_CLI_TELEMETRY',
    'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_DEFAULT_REGION',
    'CDK_ELASTICACHE_BACKUP_DNS', 'NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS', 'CDK_ELASTICACHE_LOCAL_PID',
  ]);
  // This machine's local CA (local/tls.ts), which issues the TLS nodes' certificates.
  expect(env.NODE_EXTRA_CA_CERTS).toBe(localCa().caFile);
  expect(fs.readFileSync(env.NODE_EXTRA_CA_CERTS, 'utf-8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
  expect(env.AWS_ENDPOINT_URL_ELASTICACHE).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(Number(env.CDK_ELASTICACHE_LOCAL_PID)).toBe(serve.child.pid);

  await createGroupOfTwo(env.AWS_ENDPOINT_URL_ELASTICACHE, 'cli');
  const nodes = redisChildren(serve.child.pid!);
  expect(nodes).toHaveLength(2);
  expect(fs.existsSync(serve.dataDir)).toBe(true);

  expect(await terminate(serve)).toBe(0);
  expect(nodes.filter(alive)).toEqual([]);
  expect(fs.existsSync(serve.dataDir)).toBe(false);
});

test('serve --detach returns once ready, for export $(…), with its log file; the server stops on kill', async () => {
  const script = `export $(${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} serve --detach) && echo "$AWS_ENDPOINT_URL_S3 $CDK_ELASTICACHE_LOCAL_PID $CDK_ELASTICACHE_LOCAL_LOG"`;
  const out = await new Promise<string>((resolve, reject) => {
    execFile('bash', ['-c', script], { timeout: 30_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
  const [endpoint, pid, log] = out.trim().split(' ');
  expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(alive(Number(pid))).toBe(true);
  expect(fs.readFileSync(log, 'utf-8')).toMatch(/^local provider ready at /);
  process.kill(Number(pid), 'SIGTERM');
  expect(await gone([Number(pid)], 5_000, alive)).toEqual([]);
  // A clean stop removes the temporary data folder, log included.
  expect(fs.existsSync(path.dirname(log))).toBe(false);
});

test('a Node app started with the variables serve prints reaches a group with in-transit encryption over verified TLS', async () => {
  const serve = await startServe(['--speed', '6000']);
  try {
    const ec = new ElastiCacheClient({ region: 'eu-west-1', endpoint: serve.env.AWS_ENDPOINT_URL_ELASTICACHE, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
    await ec.send(new CreateReplicationGroupCommand({
      ReplicationGroupId: 'tls', ReplicationGroupDescription: 'tls', CacheNodeType: 'cache.r7g.large', NumCacheClusters: 1, TransitEncryptionEnabled: true,
    }));
    const endpoint = (await groupAvailable(ec, 'tls')).NodeGroups![0].PrimaryEndpoint!;
    ec.destroy();
    // The app knows nothing of the provider: `tls: {}` verifies against Node's CAs.
    const app = 'const Redis = require("ioredis"); const r = new Redis({ host: process.argv[1], port: Number(process.argv[2]), tls: {}, '
      + 'maxRetriesPerRequest: 0, retryStrategy: () => null }); r.on("error", (e) => { console.log(e.message); process.exit(1); }); '
      + 'r.set("k", "v").then(() => r.get("k")).then((v) => { console.log(v); r.disconnect(); });';
    const runApp = (env: NodeJS.ProcessEnv) => new Promise<string>((resolve) => {
      execFile(process.execPath, ['-e', app, endpoint.Address!, String(endpoint.Port)], { env, timeout: 10_000 }, (_, stdout) => resolve(stdout.trim()));
    });
    const { NODE_EXTRA_CA_CERTS: _inherited, NODE_OPTIONS: _options, ...parent } = process.env;
    expect(await runApp({ ...parent, ...serve.env })).toBe('v');
    // Without the CA, the node is not trusted ...
    const { NODE_EXTRA_CA_CERTS: _ca, ...withoutCa } = serve.env;
    expect(await runApp({ ...parent, ...withoutCa })).toMatch(/self[- ]signed certificate in certificate chain/);
    // ... and without the preload, the endpoint's name is not resolved (the system's resolver knows nothing of it).
    const { NODE_OPTIONS: _preload, ...withoutPreload } = serve.env;
    expect(await runApp({ ...parent, ...withoutPreload })).toMatch(/ENOTFOUND/);
  } finally {
    await terminate(serve);
  }
});

test('bad input is named', async () => {
  expect(await runCli(['serve', '--speed', 'fast'])).toMatchObject({ code: 1, stderr: 'cdk-elasticache-backup serve: --speed must be a positive number, got fast\n' });
  expect((await runCli(['deploy'])).stderr).toMatch(/^cdk-elasticache-backup: unknown command 'deploy'/);
});
