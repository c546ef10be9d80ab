/**
 * EventBridge in the local provider (local/eventbridge.ts): schedule expressions as EventBridge
 * reads them, schedule rules deployed from a template firing their state machine on the simulated
 * clock (seen through the real Step Functions client), disabled and deleted rules firing nothing,
 * and a pattern rule delivering a failed execution's status change to an SNS topic.
 */
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { deployStack, destroyStack } from '../../local/deploy';
import { parseSchedule } from '../../local/eventbridge';
import { LocalProvider } from '../../local/provider';

jest.setTimeout(120_000);

const REGION = 'eu-west-1';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// Sunday 22 November 2026, 12:00 UTC.
const T0 = Date.UTC(2026, 10, 22, 12);
const iso = (ms: number) => new Date(ms).toISOString();

describe('schedule expressions', () => {
  test('cron: every night at 02:30 UTC, and Sundays at 06:00', () => {
    expect(parseSchedule('cron(30 2 * * ? *)').between(T0, T0 + 3 * DAY).map(iso))
      .toEqual(['2026-11-23T02:30:00.000Z', '2026-11-24T02:30:00.000Z', '2026-11-25T02:30:00.000Z']);
    expect(parseSchedule('cron(0 6 ? * SUN *)').between(T0, T0 + 15 * DAY).map(iso)).toEqual(['2026-11-29T06:00:00.000Z', '2026-12-06T06:00:00.000Z']);
    // The interval is (from, to]: an occurrence at `from` was fired by the previous call.
    const at = Date.UTC(2026, 10, 23, 2, 30);
    expect(parseSchedule('cron(30 2 * * ? *)').between(at, at + DAY).map(iso)).toEqual(['2026-11-24T02:30:00.000Z']);
    // Steps of the clock that end just before, exactly at, and just after the occurrence: it fires once.
    for (const cut of [at - 30_000, at, at + 1]) {
      const fired = [...parseSchedule('cron(30 2 * * ? *)').between(at - 10 * MINUTE, cut), ...parseSchedule('cron(30 2 * * ? *)').between(cut, at + 10 * MINUTE)];
      expect(fired.map(iso)).toEqual(['2026-11-23T02:30:00.000Z']);
    }
    expect(parseSchedule('cron(0/15 9-10 ? * MON-FRI 2026)').between(Date.UTC(2026, 10, 23), Date.UTC(2026, 10, 23, 23)).length).toBe(8);
    expect(parseSchedule('cron(0 12 L * ? *)').between(T0, T0 + 40 * DAY).map(iso)).toEqual(['2026-11-30T12:00:00.000Z', '2026-12-31T12:00:00.000Z']);
  });

  test('rate: from the rule\'s creation, one period after it', () => {
    expect(parseSchedule('rate(6 hours)', T0).between(T0, T0 + DAY).map((t) => (t - T0) / HOUR)).toEqual([6, 12, 18, 24]);
    expect(parseSchedule('rate(1 day)', T0).between(T0 + DAY, T0 + 3 * DAY).map((t) => (t - T0) / DAY)).toEqual([2, 3]);
    expect(parseSchedule('rate(1 minute)', T0).between(T0 + 90_000, T0 + 5 * MINUTE).map((t) => (t - T0) / MINUTE)).toEqual([2, 3, 4, 5]);
  });

  test.each([
    ['cron(30 2 * * * *)', /one of Day-of-month and Day-of-week must be \?/],
    ['cron(30 2 ? * ? *)', /one of Day-of-month and Day-of-week must be \?/],
    ['cron(61 2 * * ? *)', /Minutes value 61 is not 0-59/],
    ['cron(0 24 * * ? *)', /Hours value 24 is not 0-23/],
    ['cron(0 12 * FOO ? *)', /Month value FOO is not 1-12 or JAN-DEC/],
    ['cron(0 12 ? * MON#6 *)', /the # occurrence must be 1-5/],
    ['cron(0 12 * * ?)', /cron takes 6 fields .* got 5/],
    ['cron(0/0 12 * * ? *)', /increment \/0 is not a positive whole number/],
    ['rate(1 days)', /singular unit for 1/],
    ['rate(5 minute)', /singular unit for 1 and the plural one/],
    ['rate(0 minutes)', /positive whole value/],
    ['rate(1.5 hours)', /positive whole value/],
    ['every night', /a schedule is rate\(value unit\) or cron\(/],
  ])('%s is refused with the rule', (expression, message) => {
    expect(() => parseSchedule(expression)).toThrow(message);
    expect(() => parseSchedule(expression)).toThrow(/^Parameter ScheduleExpression is not valid/);
  });
});

describe('rules deployed from a template', () => {
  let provider: LocalProvider;
  let sfn: SFNClient;

  beforeAll(async () => {
    provider = await LocalProvider.start({ speed: 600, startTime: T0 });
    sfn = new SFNClient({ region: REGION, endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' }, maxAttempts: 1 });
  });

  afterAll(async () => {
    sfn?.destroy();
    await provider?.stop();
  });

  const machine = (definition: object) => ({
    Type: 'AWS::StepFunctions::StateMachine',
    Properties: { RoleArn: { 'Fn::GetAtt': ['Role', 'Arn'] }, DefinitionString: JSON.stringify(definition) },
  });

  function template(state = 'ENABLED') {
    return {
      Resources: {
        Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
        Nightly: machine({ StartAt: 'Work', States: { Work: { Type: 'Pass', Result: { ok: true }, End: true } } }),
        Fragile: machine({ StartAt: 'Break', States: { Break: { Type: 'Fail', Error: 'Broken', Cause: 'on purpose' } } }),
        Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
        Schedule: {
          Type: 'AWS::Events::Rule',
          Properties: {
            ScheduleExpression: 'cron(30 2 * * ? *)',
            State: state,
            Targets: [{ Arn: { Ref: 'Nightly' }, Id: 'Target0', RoleArn: { 'Fn::GetAtt': ['Role', 'Arn'] }, Input: '{"mode":"nightly"}' }],
          },
        },
        Weekly: {
          Type: 'AWS::Events::Rule',
          Properties: { ScheduleExpression: 'cron(0 6 ? * SUN *)', State: state, Targets: [{ Arn: { Ref: 'Fragile' }, Id: 'Target0' }] },
        },
        // As ScheduledSnapshotExport writes it: failed runs of a machine, published with an InputTransformer.
        Failures: {
          Type: 'AWS::Events::Rule',
          Properties: {
            EventPattern: { 'source': ['aws.states'], 'detail-type': ['Step Functions Execution Status Change'], 'detail': { status: ['FAILED'], stateMachineArn: [{ Ref: 'Fragile' }] } },
            State: 'ENABLED',
            Targets: [{
              Arn: { Ref: 'Topic' },
              Id: 'Target0',
              InputTransformer: { InputPathsMap: { 'detail-status': '$.detail.status', 'detail-executionArn': '$.detail.executionArn' }, InputTemplate: '{"run":<detail-executionArn>,"status":<detail-status>}' },
            }],
          },
        },
      },
    };
  }

  async function executions(arn: string) {
    return (await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn }))).executions ?? [];
  }

  test('a nightly rule starts its state machine at 02:30 each simulated night; a weekly one on Sunday; failures reach the topic', async () => {
    const d = await deployStack(provider, template(), { stackName: 'rules', region: REGION });
    const nightly = d.refs.get('Nightly')!;
    const fragile = d.refs.get('Fragile')!;
    expect(provider.cloudformation(REGION).stack('rules').recorded().map((r) => r.type)).not.toContain('AWS::Events::Rule');
    expect(d.attrs.get('Schedule.Arn')).toBe(`arn:aws:events:${REGION}:000000000000:rule/${d.refs.get('Schedule')}`);

    // Three days in three jumps of a day, then let the runs end.
    for (let i = 0; i < 3; i++) await provider.clock.advance(DAY);
    await new Promise((r) => setTimeout(r, 300));
    const runs = await executions(nightly);
    expect(runs.map((e) => iso(e.startDate!.getTime())).sort()).toEqual(['2026-11-23T02:30:00.000Z', '2026-11-24T02:30:00.000Z', '2026-11-25T02:30:00.000Z']);
    expect(runs.every((e) => e.status === 'SUCCEEDED')).toBe(true);
    const fired = provider.eventBridge.invocations(REGION).filter((i) => i.rule === d.refs.get('Schedule'));
    expect(fired.map((i) => i.input)).toEqual([{ mode: 'nightly' }, { mode: 'nightly' }, { mode: 'nightly' }]);
    expect(fired.map((i) => i.result)).toEqual(runs.map((r) => r.executionArn).reverse());

    // Sunday 29 November 06:00: the weekly machine fails, and its status change is published.
    await provider.clock.advance(5 * DAY);
    await new Promise((r) => setTimeout(r, 300));
    const failed = await executions(fragile);
    expect(failed.map((e) => [iso(e.startDate!.getTime()), e.status])).toEqual([['2026-11-29T06:00:00.000Z', 'FAILED']]);
    const published = provider.sns.published(d.refs.get('Topic')!);
    expect(published.map((p) => JSON.parse(p.message))).toEqual([{ run: failed[0].executionArn, status: 'FAILED' }]);
    // Succeeded runs do not match the pattern.
    expect(published).toHaveLength(1);

    // Deleting the stack deletes its rules: nothing fires any more.
    await destroyStack(provider, 'rules', REGION);
    const before = provider.eventBridge.invocations(REGION).length;
    await provider.clock.advance(2 * DAY);
    expect(provider.eventBridge.invocations(REGION).length).toBe(before);
  });

  test('a disabled rule fires nothing; enabling it in place makes it fire', async () => {
    const d = await deployStack(provider, template('DISABLED'), { stackName: 'quiet', region: REGION });
    await provider.clock.advance(2 * DAY);
    expect(await executions(d.refs.get('Nightly')!)).toEqual([]);
    await deployStack(provider, template('ENABLED'), { stackName: 'quiet', region: REGION });
    expect(d.refs.get('Schedule')).toBe(provider.cloudformation(REGION).stack('quiet').resources.get('Schedule')!.physicalId);
    await provider.clock.advance(DAY);
    await new Promise((r) => setTimeout(r, 300));
    expect(await executions(d.refs.get('Nightly')!)).toHaveLength(1);
    await destroyStack(provider, 'quiet', REGION);
  });

  test('a rule with a bad schedule or an unsupported target fails its resource with the reason, and the stack rolls back', async () => {
    const bad = template();
    (bad.Resources.Schedule.Properties as any).ScheduleExpression = 'cron(30 2 * * * *)';
    await expect(deployStack(provider, bad, { stackName: 'bad-rule', region: REGION })).rejects.toThrow(/one of Day-of-month and Day-of-week must be \?/);
    const queue = template();
    (queue.Resources.Schedule.Properties as any).Targets = [{ Arn: 'arn:aws:sqs:eu-west-1:000000000000:q', Id: 'Q' }];
    await expect(deployStack(provider, queue, { stackName: 'queue-rule', region: REGION })).rejects.toThrow(/delivers to Step Functions state machines, Lambda functions and SNS topics only/);
    const retry = template();
    (retry.Resources.Schedule.Properties as any).Targets[0].RetryPolicy = { MaximumRetryAttempts: 2 };
    await expect(deployStack(provider, retry, { stackName: 'retry-rule', region: REGION })).rejects.toThrow(/does not apply RetryPolicy of the targets/);
  });
});
