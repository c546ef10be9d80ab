/**
 * The real AWS CDK CLI (node_modules/aws-cdk, run as a child process, unchanged) against the local
 * provider, with only the environment the provider's `env()` gives: `cdk bootstrap` of two regions,
 * `cdk deploy --all` of a small app (an S3 bucket, replication groups, types the provider records
 * only), a second deploy that updates one group in place and replaces the other (the old one
 * deleted after the new one exists, with a final snapshot from UpdateReplacePolicy Snapshot), a
 * deploy without changes, then `cdk destroy --all --force`; checked through the SDK and the
 * stacks' events.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CloudFormationClient, DescribeStacksCommand, StackEvent } from '@aws-sdk/client-cloudformation';
import { DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { GetBucketVersioningCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { App, CfnDeletionPolicy, CfnOutput, Stack } from 'aws-cdk-lib';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { CliRun, runCdk, stackEvents } from '../../local/integ-deploy';
import { LocalProvider } from '../../local/provider';

jest.setTimeout(600_000);

const ACCOUNT = '000000000000';
const A = 'eu-west-1';
const B = 'us-west-2';
const CLI = path.join(__dirname, '..', '..', 'node_modules', 'aws-cdk', 'bin', 'cdk');

let provider: LocalProvider;
let work: string;
const timings: Record<string, number> = {};
const clients: Array<{ destroy(): void }> = [];

function client<T extends { destroy(): void }>(c: T): T {
  clients.push(c);
  return c;
}

const config = (region: string) => ({ region, endpoint: provider.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
let cfnA: CloudFormationClient;
let cfnB: CloudFormationClient;
let ecA: ElastiCacheClient;
let s3A: S3Client;

/** The app, version 1 or 2: v2 keeps group Steady's id and changes its retention (in place), and renames group Moving (replacement). */
function synth(version: 1 | 2): string {
  const outdir = path.join(work, `cdk.out.v${version}`);
  // With analytics reporting, each stack has AWS::CDK::Metadata under the CDKMetadataAvailable condition (Fn::Or of Fn::Equals).
  const app = new App({ outdir, analyticsReporting: true });
  const primary = new Stack(app, 'CliPrimary', { env: { account: ACCOUNT, region: A } });
  const bucket = new s3.CfnBucket(primary, 'Data', { versioningConfiguration: { status: 'Enabled' } });
  const group = (id: string, groupId: string, retention: number) => {
    const g = new elasticache.CfnReplicationGroup(primary, id, {
      replicationGroupId: groupId,
      replicationGroupDescription: `cdk cli test ${id}`,
      cacheNodeType: 'cache.t4g.micro',
      engine: 'redis',
      numCacheClusters: 1,
      snapshotRetentionLimit: retention,
      snapshotWindow: '03:00-04:00',
    });
    g.cfnOptions.updateReplacePolicy = CfnDeletionPolicy.SNAPSHOT;
    return g;
  };
  const steady = group('Steady', 'cli-steady', version === 1 ? 1 : 3);
  group('Moving', version === 1 ? 'cli-moving-1' : 'cli-moving-2', 1);
  // Types the local provider records only.
  new iam.CfnRole(primary, 'Role', { assumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] } });
  new sns.CfnTopic(primary, 'Topic', {});
  new CfnOutput(primary, 'BucketName', { value: bucket.ref, exportName: 'CliPrimaryBucket' });
  new CfnOutput(primary, 'SteadyEndpoint', { value: steady.attrPrimaryEndPointAddress });
  const recovery = new Stack(app, 'CliRecovery', { env: { account: ACCOUNT, region: B } });
  new s3.CfnBucket(recovery, 'Replica', { versioningConfiguration: { status: 'Enabled' } });
  new ssm.CfnParameter(recovery, 'Marker', { type: 'String', value: `v${version}` });
  app.synth();
  return outdir;
}

/** Runs the CDK CLI with the provider's environment (and its own CDK_HOME: the account cache is per home). */
function cdk(args: string[]): Promise<CliRun> {
  return runCdk(CLI, args, { cwd: work, env: { ...provider.env(), CDK_HOME: path.join(work, 'cdk-home') }, timeoutMs: 300_000 });
}

async function timed(name: string, args: string[]): Promise<CliRun> {
  const start = Date.now();
  const run = await cdk(args);
  timings[name] = Date.now() - start;
  if (run.code !== 0 || process.env.CDK_CLI_TEST_OUTPUT) process.stderr.write(`cdk ${args.join(' ')} (exit ${run.code}):\n${run.output}\n`);
  return run;
}

const events = stackEvents;

async function groupIds(): Promise<string[]> {
  return ((await ecA.send(new DescribeReplicationGroupsCommand({}))).ReplicationGroups ?? []).map((g) => g.ReplicationGroupId!).sort();
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-cli-'));
  provider = await LocalProvider.start({ speed: 600 });
  cfnA = client(new CloudFormationClient(config(A)));
  cfnB = client(new CloudFormationClient(config(B)));
  ecA = client(new ElastiCacheClient(config(A)));
  s3A = client(new S3Client({ ...config(A), forcePathStyle: true }));
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await provider?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
  process.stdout.write(`cdk CLI against the local provider, wall time (ms): ${JSON.stringify(timings)}\n`);
});

let stackId: string;

test('an app with an explicit account and region and a VPC synthesizes: the CLI looks up its availability zones in the provider\'s EC2', async () => {
  const dir = fs.mkdtempSync(path.join(work, 'lookup-'));
  // Run by the CLI as an app command (lookups happen only then), with aws-cdk-lib from this checkout.
  fs.writeFileSync(path.join(dir, 'app.js'), [
    `const { App, Stack } = require(${JSON.stringify(require.resolve('aws-cdk-lib'))});`,
    `const ec2 = require(${JSON.stringify(require.resolve('aws-cdk-lib/aws-ec2'))});`,
    'const app = new App();',
    `const stack = new Stack(app, 'Lookup', { env: { account: '${ACCOUNT}', region: '${A}' } });`,
    "new ec2.Vpc(stack, 'Vpc', { maxAzs: 3, natGateways: 0 });",
    'app.synth();',
  ].join('\n'));
  const run = await timed('synth with AZ lookup', ['synth', '--app', `node ${path.join(dir, 'app.js')}`, '--output', path.join(dir, 'cdk.out'), '--quiet']);
  expect(run.code).toBe(0);
  const context = JSON.parse(fs.readFileSync(path.join(work, 'cdk.context.json'), 'utf-8'));
  expect(context[`availability-zones:account=${ACCOUNT}:region=${A}`]).toEqual([`${A}a`, `${A}b`, `${A}c`]);
  const template = JSON.parse(fs.readFileSync(path.join(dir, 'cdk.out', 'Lookup.template.json'), 'utf-8'));
  const zones = Object.values<any>(template.Resources).filter((r) => r.Type === 'AWS::EC2::Subnet').map((r) => r.Properties.AvailabilityZone);
  expect(new Set(zones)).toEqual(new Set([`${A}a`, `${A}b`, `${A}c`]));
});

test('cdk bootstrap of two regions creates the CDK toolkit stacks, their staging buckets and version parameters', async () => {
  const run = await timed('bootstrap', ['bootstrap', `aws://${ACCOUNT}/${A}`, `aws://${ACCOUNT}/${B}`]);
  expect(run.code).toBe(0);
  for (const [region, cfn] of [[A, cfnA], [B, cfnB]] as const) {
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'CDKToolkit' }))).Stacks![0];
    expect(stack.StackStatus).toBe('CREATE_COMPLETE');
    expect(stack.Outputs?.find((o) => o.OutputKey === 'BucketName')?.OutputValue).toBe(`cdk-hnb659fds-assets-${ACCOUNT}-${region}`);
    const version = stack.Outputs?.find((o) => o.OutputKey === 'BootstrapVersion')?.OutputValue;
    expect(Number(version)).toBeGreaterThanOrEqual(6);
    await client(new S3Client({ ...config(region), forcePathStyle: true })).send(new HeadBucketCommand({ Bucket: `cdk-hnb659fds-assets-${ACCOUNT}-${region}` }));
    // The roles and the ECR repository are recorded, and say so.
    const recorded = provider.cloudformation(region).stack('CDKToolkit').recorded().map((r) => r.type);
    expect(recorded).toEqual(expect.arrayContaining(['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::ECR::Repository']));
    expect(recorded).not.toContain('AWS::S3::Bucket');
  }

  // Again: the CLI finds the same template (GetTemplate answers the body verbatim) and changes nothing.
  const again = await timed('bootstrap-again', ['bootstrap', `aws://${ACCOUNT}/${A}`]);
  expect(again.code).toBe(0);
  expect(again.output).toMatch(/no changes/i);
});

test('cdk deploy --all publishes the templates and creates both stacks; unemulated types are recorded and listed', async () => {
  const run = await timed('deploy', ['deploy', '--all', '--require-approval', 'never', '--app', synth(1)]);
  expect(run.code).toBe(0);
  const stack = (await cfnA.send(new DescribeStacksCommand({ StackName: 'CliPrimary' }))).Stacks![0];
  stackId = stack.StackId!;
  expect(stack.StackStatus).toBe('CREATE_COMPLETE');
  // The SSM-typed BootstrapVersion parameter was resolved from the provider's Parameter Store.
  expect(stack.Parameters).toEqual([expect.objectContaining({ ParameterKey: 'BootstrapVersion', ParameterValue: '/cdk-bootstrap/hnb659fds/version', ResolvedValue: expect.stringMatching(/^\d+$/) })]);
  const bucket = stack.Outputs!.find((o) => o.OutputKey === 'BucketName')!;
  expect(bucket.ExportName).toBe('CliPrimaryBucket');
  expect((await s3A.send(new GetBucketVersioningCommand({ Bucket: bucket.OutputValue }))).Status).toBe('Enabled');
  expect(await groupIds()).toEqual(['cli-moving-1', 'cli-steady']);
  const steady = (await ecA.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'cli-steady' }))).ReplicationGroups![0];
  expect(stack.Outputs!.find((o) => o.OutputKey === 'SteadyEndpoint')!.OutputValue).toBe(steady.NodeGroups![0].PrimaryEndpoint!.Address);
  expect(steady.SnapshotRetentionLimit).toBe(1);
  expect((await cfnB.send(new DescribeStacksCommand({ StackName: 'CliRecovery' }))).Stacks![0].StackStatus).toBe('CREATE_COMPLETE');

  const all = await events(cfnA, stackId);
  const root = all.filter((e) => e.ResourceType === 'AWS::CloudFormation::Stack');
  expect(root.map((e) => e.ResourceStatus)).toEqual(['REVIEW_IN_PROGRESS', 'CREATE_IN_PROGRESS', 'CREATE_COMPLETE']);
  expect(root.every((e) => e.PhysicalResourceId === stackId && e.LogicalResourceId === 'CliPrimary')).toBe(true);
  const role = all.filter((e) => e.LogicalResourceId === 'Role');
  expect(role.map((e) => e.ResourceStatus)).toEqual(['CREATE_IN_PROGRESS', 'CREATE_COMPLETE']);
  expect(role[1].ResourceStatusReason).toBe('recorded only: the local provider does not emulate AWS::IAM::Role');
  expect(provider.cloudformation(A).stack('CliPrimary').recorded().map((r) => r.type).sort())
    .toEqual(['AWS::CDK::Metadata', 'AWS::IAM::Role']);
  // Events are newest first on the wire, each later than the one before.
  const times = all.map((e) => e.Timestamp!.getTime());
  expect([...times].sort((x, y) => x - y)).toEqual(times);
  expect(new Set(all.map((e) => e.EventId)).size).toBe(all.length);
});

test('a second deploy updates one group in place and replaces the other: new group first, old one deleted in cleanup with a final snapshot', async () => {
  const run = await timed('deploy-update', ['deploy', '--all', '--require-approval', 'never', '--app', synth(2)]);
  expect(run.code).toBe(0);
  expect((await cfnA.send(new DescribeStacksCommand({ StackName: 'CliPrimary' }))).Stacks![0].StackStatus).toBe('UPDATE_COMPLETE');
  expect(await groupIds()).toEqual(['cli-moving-2', 'cli-steady']);
  const steady = (await ecA.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'cli-steady' }))).ReplicationGroups![0];
  expect(steady.SnapshotRetentionLimit).toBe(3);
  const finals = ((await ecA.send(new DescribeSnapshotsCommand({ SnapshotSource: 'user' }))).Snapshots ?? []).filter((s) => s.SnapshotName!.startsWith('cli-moving-1-final-'));
  expect(finals).toHaveLength(1);
  expect(finals[0].SnapshotStatus).toBe('available');

  const all = await events(cfnA, stackId);
  const update = all.slice(all.findIndex((e) => e.ResourceType === 'AWS::CloudFormation::Stack' && e.ResourceStatus === 'UPDATE_IN_PROGRESS'));
  const line = (e: StackEvent) => `${e.LogicalResourceId} ${e.ResourceStatus} ${e.PhysicalResourceId === stackId ? '' : e.PhysicalResourceId}`.trim();
  const moving = update.filter((e) => e.LogicalResourceId === 'Moving' || e.ResourceType === 'AWS::CloudFormation::Stack').map(line);
  expect(moving).toEqual([
    'CliPrimary UPDATE_IN_PROGRESS',
    'Moving UPDATE_IN_PROGRESS cli-moving-1',
    'Moving UPDATE_IN_PROGRESS cli-moving-2',
    'Moving UPDATE_COMPLETE cli-moving-2',
    'CliPrimary UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
    'Moving DELETE_IN_PROGRESS cli-moving-1',
    'Moving DELETE_COMPLETE cli-moving-1',
    'CliPrimary UPDATE_COMPLETE',
  ]);
  expect(update.find((e) => e.LogicalResourceId === 'Moving')!.ResourceStatusReason)
    .toBe('Requested update requires the creation of a new physical resource; hence creating one.');
  expect(update.filter((e) => e.LogicalResourceId === 'Steady').map(line)).toEqual(['Steady UPDATE_IN_PROGRESS cli-steady', 'Steady UPDATE_COMPLETE cli-steady']);
  // Unchanged resources are not touched.
  expect(update.filter((e) => e.LogicalResourceId === 'Data')).toEqual([]);

  // The same app again: the change set holds no changes, and the CLI says so.
  const same = await timed('deploy-unchanged', ['deploy', 'CliPrimary', '--require-approval', 'never', '--app', synth(2)]);
  expect(same.code).toBe(0);
  expect(same.output).toMatch(/no changes/i);
  expect((await events(cfnA, stackId)).length).toBe(all.length);
});

test('cdk destroy --all --force deletes both stacks and what they created; the toolkit stacks stay', async () => {
  const bucket = provider.cloudformation(A).stack('CliPrimary').resources.get('Data')!.physicalId;
  const run = await timed('destroy', ['destroy', '--all', '--force', '--app', synth(2)]);
  expect(run.code).toBe(0);
  const gone = (await cfnA.send(new DescribeStacksCommand({ StackName: stackId }))).Stacks![0];
  expect(gone.StackStatus).toBe('DELETE_COMPLETE');
  await expect(cfnA.send(new DescribeStacksCommand({ StackName: 'CliPrimary' }))).rejects.toThrow('Stack with id CliPrimary does not exist');
  await expect(cfnB.send(new DescribeStacksCommand({ StackName: 'CliRecovery' }))).rejects.toThrow('Stack with id CliRecovery does not exist');
  expect(await groupIds()).toEqual([]);
  await expect(s3A.send(new HeadBucketCommand({ Bucket: bucket }))).rejects.toThrow();
  const last = (await events(cfnA, stackId)).pop()!;
  expect([last.LogicalResourceId, last.ResourceStatus, last.PhysicalResourceId]).toEqual(['CliPrimary', 'DELETE_COMPLETE', stackId]);
  expect((await cfnA.send(new DescribeStacksCommand({ StackName: 'CDKToolkit' }))).Stacks![0].StackStatus).toBe('CREATE_COMPLETE');
});
