/**
 * Custom resources through their real Lambda code (local/cfn/resources/custom.ts): an app with a
 * CDK Provider framework custom resource (onEvent and isComplete handlers) deployed by the real CDK
 * CLI. CloudFormation's request goes to the framework's own onEvent function from its deployed
 * asset, which invokes the user's handler, starts the framework's waiter state machine in the
 * provider's Step Functions, whose isComplete polls until done; the framework answers at the
 * ResponseURL. Create, Update and Delete; a FAILED answer rolls the stack back with the handler's
 * message; a function that never answers times out after ServiceTimeout; a wrong response URL is refused.
 */
import * as fs from 'fs';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { App, CfnOutput, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import { CfnCustomResource } from 'aws-cdk-lib/aws-cloudformation';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { RESPONSE_HOST } from '../../local/cfn/responses';
import { IntegDeployment, stackEvents } from '../../local/integ-deploy';
import { LocalProvider } from '../../local/provider';
import { localCa } from '../../local/tls';

jest.setTimeout(600_000);

const ACCOUNT = '000000000000';
const REGION = 'eu-west-1';
let provider: LocalProvider;
let work: string;
let cfn: CloudFormationClient;

const ON_EVENT = `
exports.handler = async (event) => {
  console.log('onEvent', event.RequestType, JSON.stringify(event.ResourceProperties));
  const name = event.ResourceProperties.Name;
  if (event.ResourceProperties.Fail === 'yes') throw new Error('asked to fail for ' + name);
  if (event.RequestType === 'Delete') {
    require('fs').writeFileSync('/tmp/cr-test-deleted-' + name + '-' + event.PhysicalResourceId, 'deleted');
    return {};
  }
  return { PhysicalResourceId: 'thing-' + name, Data: { Greeting: 'hello ' + name } };
};`;

// Complete on the second poll: the waiter state machine retries isComplete until then.
const IS_COMPLETE = `
const fs = require('fs');
exports.handler = async (event) => {
  const file = '/tmp/cr-test-' + event.RequestId;
  const polls = (fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf-8')) : 0) + 1;
  fs.writeFileSync(file, String(polls));
  return polls >= 2 ? { IsComplete: true, Data: { Polls: String(polls) } } : { IsComplete: false };
};`;

function synth(name: string, props: Record<string, string>, extra?: (stack: Stack) => void): string {
  const outdir = path.join(work, name);
  const app = new App({ outdir });
  const stack = new Stack(app, 'Things', { env: { account: ACCOUNT, region: REGION } });
  const fn = (id: string, code: string) => new lambda.Function(stack, id, { runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.handler', code: lambda.Code.fromInline(code) });
  const framework = new cr.Provider(stack, 'Provider', {
    onEventHandler: fn('OnEvent', ON_EVENT),
    isCompleteHandler: fn('IsComplete', IS_COMPLETE),
    queryInterval: Duration.seconds(30),
    totalTimeout: Duration.minutes(10),
  });
  const thing = new CustomResource(stack, 'Thing', { serviceToken: framework.serviceToken, properties: props, resourceType: 'Custom::Thing' });
  new CfnOutput(stack, 'Greeting', { value: thing.getAttString('Greeting') });
  new CfnOutput(stack, 'Polls', { value: thing.getAttString('Polls') });
  new CfnOutput(stack, 'ThingId', { value: thing.ref });
  extra?.(stack);
  app.synth();
  return outdir;
}

async function outputs(): Promise<Record<string, string>> {
  const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'Things' }))).Stacks![0];
  return Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!]));
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'custom-resources-'));
  provider = await LocalProvider.start({ speed: 600 });
  cfn = new CloudFormationClient({ region: REGION, endpoint: provider.endpoint, credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
});

afterAll(async () => {
  cfn?.destroy();
  await provider?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('create, update and delete go through the Provider framework\'s own functions, its waiter state machine polling isComplete', async () => {
  const d = new IntegDeployment({ env: provider.env(), app: synth('v1', { Name: 'world' }), workDir: path.join(work, 'cli') });
  try {
    await d.bootstrap();
    await d.deploy();
    expect(await outputs()).toMatchObject({ Greeting: 'hello world', Polls: '2', ThingId: 'thing-world' });
    // The framework's onEvent function ran, and started its waiter state machine in Step Functions.
    const frameworkFn = provider.lambda.listFunctions(REGION).map((f) => String(f.FunctionName)).find((n) => /ProviderframeworkonEvent/.test(n))!;
    expect(provider.lambda.logs(REGION, frameworkFn).join('\n')).toMatch(/START RequestId/);
    expect(d.report().realTypes).toEqual(expect.arrayContaining(['Custom::Thing', 'AWS::Lambda::Function', 'AWS::StepFunctions::StateMachine']));

    await d.deploy(synth('v2', { Name: 'there' }), 'update');
    expect(await outputs()).toMatchObject({ Greeting: 'hello there', ThingId: 'thing-there' });
    const onEventFn = provider.lambda.listFunctions(REGION).map((f) => String(f.FunctionName)).find((n) => /OnEvent/.test(n) && !/framework/.test(n))!;
    const said = provider.lambda.logs(REGION, onEventFn).join('\n');
    expect(said).toMatch(/onEvent Create \{"ServiceToken":"arn:aws:lambda:[^"]+","Name":"world"\}/);
    expect(said).toMatch(/onEvent Update .*"Name":"there"/);
    // A new physical id on update: CloudFormation deletes the old one in cleanup.
    expect(said).toMatch(/onEvent Delete .*"Name":"world"/);

    const marker = '/tmp/cr-test-deleted-there-thing-there';
    fs.rmSync(marker, { force: true });
    await d.destroy(synth('v2b', { Name: 'there' }));
    // The function is gone with the stack; its Delete left this behind.
    expect(fs.readFileSync(marker, 'utf-8')).toBe('deleted');
    fs.rmSync(marker, { force: true });
  } finally {
    d.cleanup();
  }
});

test('a FAILED answer fails the resource with the handler\'s message and rolls the stack back', async () => {
  const d = new IntegDeployment({ env: provider.env(), app: synth('failing', { Name: 'nobody', Fail: 'yes' }), workDir: path.join(work, 'cli-fail') });
  try {
    await expect(d.deploy()).rejects.toThrow(/asked to fail for nobody/);
    const failed = (await stackEvents(cfn, 'Things')).find((e) => e.LogicalResourceId?.startsWith('Thing') && e.ResourceStatus === 'CREATE_FAILED');
    expect(failed?.ResourceStatusReason).toMatch(/^Received response status \[FAILED\] from custom resource\. Message returned: .*asked to fail for nobody/);
    expect((await cfn.send(new DescribeStacksCommand({ StackName: 'Things' }))).Stacks![0].StackStatus).toBe('ROLLBACK_COMPLETE');
    await d.destroy();
  } finally {
    d.cleanup();
  }
});

test('a function that never answers times out after ServiceTimeout; a wrong response URL is refused', async () => {
  const app = synth('silent', { Name: 'quiet' }, (stack) => {
    const silent = new lambda.Function(stack, 'Silent', { runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({});') });
    new CfnCustomResource(stack, 'Mute', { serviceToken: silent.functionArn, serviceTimeout: 5 });
  });
  const d = new IntegDeployment({ env: provider.env(), app, workDir: path.join(work, 'cli-silent') });
  try {
    await expect(d.deploy()).rejects.toThrow(/CloudFormation did not receive a response from your Custom Resource within 5 seconds/);
    await d.destroy();
  } finally {
    d.cleanup();
  }

  const slot = await provider.cfnResponses.open();
  expect(slot.url).toMatch(new RegExp(`^https://${RESPONSE_HOST.replace(/\./g, '\\.')}/cloudformation-response/[0-9a-f]{48}$`));
  const [address, port] = provider.cfnResponses.address.split(':');
  const status = await new Promise<number>((resolve, reject) => {
    const req = https.request({
      host: address, port: Number(port), servername: RESPONSE_HOST, method: 'PUT', path: `/cloudformation-response/${'0'.repeat(48)}`, ca: fs.readFileSync(localCa().caFile),
    }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end('{"Status":"SUCCESS"}');
  });
  expect(status).toBe(403);
  slot.close();
});
