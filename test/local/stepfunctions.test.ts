/**
 * The local provider's Step Functions, driven through the real @aws-sdk/client-sfn: state machines
 * created through the API and through the CloudFormation engine, executions run asynchronously on
 * the provider (a Lambda task in a child process, a Choice, a Wait on the simulated clock, an
 * aws-sdk integration and an SNS publish), their status, output, failures and history, and the
 * errors of bad requests.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CreateStateMachineCommand, DeleteStateMachineCommand, DescribeExecutionCommand, DescribeExecutionCommandOutput, DescribeStateMachineCommand,
  GetExecutionHistoryCommand, ListExecutionsCommand, ListStateMachinesCommand, SFNClient, StartExecutionCommand, StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { deployStack } from '../../local/deploy';
import { LocalProvider } from '../../local/provider';

jest.setTimeout(60_000);

const REGION = 'eu-west-1';
const ROLE = 'arn:aws:iam::000000000000:role/sfn-test';
let provider: LocalProvider;
let sfn: SFNClient;
let work: string;
let functionArn: string;
let topicArn: string;

const HANDLER = `
class CustomError extends Error { constructor(m) { super(m); this.name = 'CustomError'; } }
exports.handler = async (event) => {
  if (event.fail) throw new CustomError('asked to fail: ' + event.fail);
  if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
  return { doubled: event.n * 2 };
};
`;

beforeAll(async () => {
  provider = await LocalProvider.start({ speed: 600 });
  sfn = new SFNClient({ region: REGION, endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' }, maxAttempts: 1 });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'sfn-test-'));
  fs.writeFileSync(path.join(work, 'index.js'), HANDLER);
  const fn = await provider.lambda.createFunction({ region: REGION, name: 'doubler', handler: 'index.handler', codeDir: work, timeoutSeconds: 1 });
  functionArn = String(fn.FunctionArn);
  topicArn = provider.sns.createTopic(REGION, 'sfn-results');
});

afterAll(async () => {
  sfn?.destroy();
  await provider?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** Double the input's n in Lambda; over 10 wait 10 simulated minutes, list buckets and publish; else say small. */
function definition(fn: string): object {
  return {
    StartAt: 'Double',
    States: {
      'Double': {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { 'FunctionName': fn, 'Payload.$': '$' },
        ResultSelector: { 'value.$': '$.Payload.doubled', 'status.$': '$.StatusCode' },
        Next: 'Big?',
      },
      'Big?': { Type: 'Choice', Choices: [{ Variable: '$.value', NumericGreaterThan: 10, Next: 'Pause' }], Default: 'Small' },
      'Pause': { Type: 'Wait', Seconds: 600, Next: 'Buckets' },
      'Buckets': { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:s3:listBuckets', Parameters: {}, ResultPath: '$.buckets', Next: 'Publish' },
      'Publish': {
        Type: 'Task',
        Resource: 'arn:aws:states:::sns:publish',
        Parameters: { 'TopicArn': topicArn, 'Message.$': '$' },
        ResultPath: null,
        Next: 'Big',
      },
      'Big': { Type: 'Pass', Parameters: { 'size': 'big', 'value.$': '$.value' }, End: true },
      'Small': { Type: 'Pass', Parameters: { 'size': 'small', 'value.$': '$.value' }, End: true },
    },
  };
}

async function finished(executionArn: string): Promise<DescribeExecutionCommandOutput> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (d.status !== 'RUNNING') return d;
    if (Date.now() > deadline) throw new Error(`execution ${executionArn} still RUNNING`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let machineArn: string;

test('a state machine runs a Lambda task, a Choice, a Wait on the simulated clock, an SDK task and an SNS publish', async () => {
  const created = await sfn.send(new CreateStateMachineCommand({ name: 'doubling', definition: JSON.stringify(definition(functionArn)), roleArn: ROLE }));
  machineArn = created.stateMachineArn!;
  expect(machineArn).toBe(`arn:aws:states:${REGION}:000000000000:stateMachine:doubling`);
  expect(created.creationDate).toBeInstanceOf(Date);
  const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: machineArn }));
  expect(described).toMatchObject({ name: 'doubling', status: 'ACTIVE', roleArn: ROLE, type: 'STANDARD' });
  expect(JSON.parse(described.definition!)).toEqual(definition(functionArn));
  const listed = await sfn.send(new ListStateMachinesCommand({}));
  expect(listed.stateMachines?.map((m) => m.name)).toEqual(['doubling']);

  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: 'big-one', input: JSON.stringify({ n: 7 }) }));
  expect(started.executionArn).toBe(`arn:aws:states:${REGION}:000000000000:execution:doubling:big-one`);
  const big = await finished(started.executionArn!);
  expect(big.status).toBe('SUCCEEDED');
  expect(JSON.parse(big.output!)).toEqual({ size: 'big', value: 14 });
  // The Wait of 600 simulated seconds passed on the provider's clock.
  expect(big.stopDate!.getTime() - big.startDate!.getTime()).toBeGreaterThanOrEqual(600_000);
  const published = provider.sns.published(topicArn);
  expect(published).toHaveLength(1);
  expect(JSON.parse(published[0].message)).toMatchObject({ value: 14, status: 200, buckets: { Buckets: [] } });

  const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn }));
  const types = history.events!.map((e) => e.type);
  expect(types[0]).toBe('ExecutionStarted');
  expect(types[types.length - 1]).toBe('ExecutionSucceeded');
  expect(types).toEqual(expect.arrayContaining(['TaskStateEntered', 'TaskStateExited', 'ChoiceStateEntered', 'WaitStateEntered', 'PassStateExited']));
  expect(history.events!.map((e) => e.id)).toEqual(types.map((_, i) => i + 1));
  expect(history.events![0].executionStartedEventDetails).toEqual({ input: JSON.stringify({ n: 7 }), roleArn: ROLE });
  const entered = history.events!.filter((e) => e.stateEnteredEventDetails).map((e) => e.stateEnteredEventDetails!.name);
  expect(entered).toEqual(['Double', 'Big?', 'Pause', 'Buckets', 'Publish', 'Big']);
  // Each Task attempt: scheduled, started, succeeded, named by its integration.
  const scheduled = history.events!.filter((e) => e.type === 'TaskScheduled')
    .map((e) => `${e.taskScheduledEventDetails!.resourceType} ${e.taskScheduledEventDetails!.resource} ${e.taskScheduledEventDetails!.region}`);
  expect(scheduled).toEqual([`lambda invoke ${REGION}`, `aws-sdk:s3 listBuckets ${REGION}`, `sns publish ${REGION}`]);
  expect(types.slice(0, 6)).toEqual(['ExecutionStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited']);
  expect(JSON.parse(history.events![4].taskSucceededEventDetails!.output!)).toMatchObject({ Payload: { doubled: 14 }, StatusCode: 200 });

  // No name: one is generated; the small branch skips the Wait.
  const small = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, input: JSON.stringify({ n: 2 }) }));
  const done = await finished(small.executionArn!);
  expect(done).toMatchObject({ status: 'SUCCEEDED', output: JSON.stringify({ size: 'small', value: 4 }) });
  expect(done.name).toMatch(/^[0-9a-f-]{36}$/);

  const executions = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn }));
  expect(executions.executions?.map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  const failedOnly = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn, statusFilter: 'FAILED' }));
  expect(failedOnly.executions).toEqual([]);
});

test('a failing Lambda function fails the execution with its error type and the error as the cause', async () => {
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, input: JSON.stringify({ fail: 'on purpose' }) }));
  const failed = await finished(started.executionArn!);
  expect(failed.status).toBe('FAILED');
  expect(failed.error).toBe('CustomError');
  expect(JSON.parse(failed.cause!)).toMatchObject({ errorType: 'CustomError', errorMessage: 'asked to fail: on purpose' });
  const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn, reverseOrder: true }));
  expect(history.events![0]).toMatchObject({ type: 'ExecutionFailed', executionFailedEventDetails: { error: 'CustomError' } });
  expect(history.events!.find((e) => e.type === 'TaskFailed')?.taskFailedEventDetails).toMatchObject({
    resourceType: 'lambda', resource: 'invoke', error: 'CustomError',
  });
});

test('a retried task: each failed attempt is a TaskFailed with its error, and the next one is scheduled again', async () => {
  const retried = { ...definition(functionArn) as any };
  retried.States = { ...retried.States, Double: { ...retried.States.Double, Retry: [{ ErrorEquals: ['CustomError'], IntervalSeconds: 1, MaxAttempts: 2 }] } };
  const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({ name: 'retrying', definition: JSON.stringify(retried), roleArn: ROLE }));
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ fail: 'every time' }) }));
  expect(await finished(started.executionArn!)).toMatchObject({ status: 'FAILED', error: 'CustomError' });
  const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn }));
  const tasks = history.events!.filter((e) => e.type?.startsWith('Task') && !e.type.startsWith('TaskState'));
  expect(tasks.map((e) => e.type)).toEqual(['TaskScheduled', 'TaskStarted', 'TaskFailed', 'TaskScheduled', 'TaskStarted', 'TaskFailed', 'TaskScheduled', 'TaskStarted', 'TaskFailed']);
  for (const e of tasks.filter((t) => t.type === 'TaskFailed')) {
    expect(e.taskFailedEventDetails).toMatchObject({ resourceType: 'lambda', resource: 'invoke', error: 'CustomError' });
  }
  // One state entered, two retries: what Step Functions bills as transitions for it.
  expect(history.events!.filter((e) => e.type === 'TaskStateEntered')).toHaveLength(1);
});

test('a function that times out fails the task with Lambda.Unknown', async () => {
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, input: JSON.stringify({ n: 1, sleepMs: 2000 }) }));
  const failed = await finished(started.executionArn!);
  expect(failed).toMatchObject({ status: 'FAILED', error: 'Lambda.Unknown' });
  expect(failed.cause).toContain('Task timed out after 1.00 seconds');
});

test('a task on a function that does not exist fails with Lambda.ResourceNotFoundException', async () => {
  const { stateMachineArn } = await sfn.send(new CreateStateMachineCommand({
    name: 'missing-function', definition: JSON.stringify(definition('no-such-function')), roleArn: ROLE,
  }));
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{"n":1}' }));
  expect(await finished(started.executionArn!)).toMatchObject({ status: 'FAILED', error: 'Lambda.ResourceNotFoundException' });
});

test('StopExecution aborts a running execution', async () => {
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: 'stopped', input: '{"n":100}' }));
  // Same name and input while it runs: the same execution (StartExecution is idempotent).
  const again = await sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: 'stopped', input: '{"n":100}' }));
  expect(again.executionArn).toBe(started.executionArn);
  const stopped = await sfn.send(new StopExecutionCommand({ executionArn: started.executionArn, error: 'Manual', cause: 'test' }));
  expect(stopped.stopDate).toBeInstanceOf(Date);
  const d = await finished(started.executionArn!);
  expect(d).toMatchObject({ status: 'ABORTED' });
  await provider.stepFunctions.waitFor(started.executionArn!);
  const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: started.executionArn }));
  expect(history.events!.map((e) => e.type)).toContain('ExecutionAborted');
  expect(history.events!.map((e) => e.type)).not.toContain('ExecutionSucceeded');
  await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: 'stopped', input: '{"n":100}' })))
    .rejects.toMatchObject({ name: 'ExecutionAlreadyExists', $metadata: { httpStatusCode: 400 } });
});

test('bad requests get Step Functions errors', async () => {
  const rejects = (p: Promise<unknown>, name: string) => expect(p).rejects.toMatchObject({ name, $metadata: { httpStatusCode: 400 } });
  await rejects(sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, input: '{not json' })), 'InvalidExecutionInput');
  await rejects(sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: 'has space' })), 'InvalidName');
  await rejects(sfn.send(new StartExecutionCommand({ stateMachineArn: `${machineArn}-nope` })), 'StateMachineDoesNotExist');
  await rejects(sfn.send(new StartExecutionCommand({ stateMachineArn: 'not-an-arn' })), 'InvalidArn');
  await rejects(sfn.send(new DescribeExecutionCommand({ executionArn: 'arn:aws:states:eu-west-1:000000000000:execution:doubling:nope' })), 'ExecutionDoesNotExist');
  await rejects(sfn.send(new DescribeExecutionCommand({ executionArn: 'nope' })), 'InvalidArn');
  await rejects(sfn.send(new CreateStateMachineCommand({ name: 'bad', definition: '{"StartAt":"Nowhere","States":{}}', roleArn: ROLE })), 'InvalidDefinition');
  await rejects(sfn.send(new CreateStateMachineCommand({ name: 'bad', definition: 'not json', roleArn: ROLE })), 'InvalidDefinition');
  await rejects(sfn.send(new CreateStateMachineCommand({ name: 'bad', definition: '{}', roleArn: 'role' })), 'InvalidArn');
  await rejects(sfn.send(new CreateStateMachineCommand({
    name: 'doubling', definition: JSON.stringify(definition('other')), roleArn: ROLE,
  })), 'StateMachineAlreadyExists');
  await rejects(sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn, maxResults: 5000 })), 'ValidationException');
  // Bodies no SDK sends, answered in the JSON 1.0 error shape.
  const raw = (target: string | undefined, body: string) => {
    const answer = provider.stepFunctions.handle(REGION, target, body);
    return { status: answer.status, type: JSON.parse(answer.body).__type };
  };
  expect(raw('AWSStepFunctions.StartExecution', '{not json')).toEqual({ status: 400, type: 'SerializationException' });
  expect(raw('AWSStepFunctions.StartExecution', 'null')).toEqual({ status: 400, type: 'SerializationException' });
  expect(raw('AWSStepFunctions.StartExecution', '{"stateMachineArn":42}')).toEqual({ status: 400, type: 'InvalidArn' });
  expect(raw('AWSStepFunctions.StartExecution', `{"stateMachineArn":"${machineArn}","input":{}}`)).toEqual({ status: 400, type: 'InvalidExecutionInput' });
  expect(raw('AWSStepFunctions.CreateStateMachine', '{"name":"x","roleArn":"arn:aws:iam::000000000000:role/r"}')).toEqual({ status: 400, type: 'InvalidDefinition' });
  expect(raw('AWSStepFunctions.ListExecutions', `{"stateMachineArn":"${machineArn}","nextToken":"zz"}`)).toEqual({ status: 400, type: 'InvalidToken' });
  expect(raw('AWSStepFunctions.Nope', '{}')).toEqual({ status: 400, type: 'UnknownOperationException' });
  expect(raw(undefined, '{}')).toEqual({ status: 400, type: 'UnknownOperationException' });
});

test('a state machine deployed through the CloudFormation engine runs its inline Lambda function', async () => {
  const template = {
    Resources: {
      Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
          Code: { ZipFile: 'exports.handler = async (e) => ({ greeting: "hello " + e.who });' },
        },
      },
      Machine: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          RoleArn: { 'Fn::GetAtt': ['Role', 'Arn'] },
          // As CDK writes it: the definition text joined around the function's ARN.
          DefinitionString: {
            'Fn::Join': ['', [
              '{"StartAt":"Greet","States":{"Greet":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","OutputPath":"$.Payload",',
              '"Parameters":{"FunctionName":"', { 'Fn::GetAtt': ['Fn', 'Arn'] }, '","Payload.$":"$"},"End":true}}}',
            ]],
          },
          TracingConfiguration: { Enabled: false },
        },
      },
    },
    Outputs: { Name: { Value: { 'Fn::GetAtt': ['Machine', 'Name'] } } },
  };
  const deployment = await deployStack(provider, template, { stackName: 'sfn-stack', region: REGION, functions: 'create' });
  const arn = deployment.refs.get('Machine')!;
  expect(arn).toMatch(new RegExp(`^arn:aws:states:${REGION}:000000000000:stateMachine:`));
  expect(deployment.attrs.get('Machine.Arn')).toBe(arn);
  expect(arn.endsWith(`:${deployment.attrs.get('Machine.Name')}`)).toBe(true);
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: '{"who":"world"}' }));
  expect(await finished(started.executionArn!)).toMatchObject({ status: 'SUCCEEDED', output: '{"greeting":"hello world"}' });

  await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: machineArn }));
  await expect(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: machineArn }))).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
});

test('with functions recorded, a state machine still deploys; its execution fails on the missing function', async () => {
  const template = {
    Resources: {
      Fn: { Type: 'AWS::Lambda::Function', Properties: { Runtime: 'nodejs22.x', Handler: 'index.handler', Role: ROLE, Code: { S3Bucket: 'never', S3Key: 'uploaded.zip' } } },
      Machine: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: { RoleArn: ROLE, StateMachineName: 'recorded-fn', Definition: definition('${Fn}'), DefinitionSubstitutions: { Fn: { 'Fn::GetAtt': ['Fn', 'Arn'] } } },
      },
    },
  };
  const deployment = await deployStack(provider, template, { stackName: 'sfn-recorded', region: REGION });
  expect(deployment.recorded.has('Fn')).toBe(true);
  expect(deployment.recorded.has('Machine')).toBe(false);
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: deployment.refs.get('Machine'), input: '{"n":1}' }));
  expect(await finished(started.executionArn!)).toMatchObject({ status: 'FAILED', error: 'Lambda.ResourceNotFoundException' });
});
