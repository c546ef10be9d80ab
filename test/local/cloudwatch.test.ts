/**
 * The local provider's CloudWatch, driven through the real @aws-sdk/client-cloudwatch (which sends
 * AWS JSON 1.0 with query-compatible errors); and `recordEmf`, fed a line the standby-restore
 * workflow's record step prints.
 */
import {
  CloudWatchClient, DeleteAlarmsCommand, DescribeAlarmsCommand, GetMetricStatisticsCommand, InvalidParameterCombinationException,
  InvalidParameterValueException, ListMetricsCommand, MissingRequiredParameterException, PutMetricAlarmCommand, PutMetricDataCommand,
  ResourceNotFound,
} from '@aws-sdk/client-cloudwatch';
import { LocalProvider } from '../../local/provider';

let provider: LocalProvider;
let cw: CloudWatchClient;
const REGION = 'eu-west-1';

beforeAll(async () => {
  provider = await LocalProvider.start({ speed: 600, startTime: Date.UTC(2026, 10, 21, 12, 0, 0) });
  cw = new CloudWatchClient({ region: REGION, endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' }, maxAttempts: 1 });
});

afterAll(async () => {
  cw?.destroy();
  await provider?.stop();
});

const T0 = Date.UTC(2026, 10, 21, 11, 0, 0);

test('PutMetricData, then ListMetrics and GetMetricStatistics over what was recorded', async () => {
  const dims = [{ Name: 'Workflow', Value: 'restore' }, { Name: 'Mode', Value: 'rehearsal' }];
  await cw.send(new PutMetricDataCommand({
    Namespace: 'Test/Restore',
    MetricData: [
      { MetricName: 'RecoveryTimeSeconds', Dimensions: dims, Timestamp: new Date(T0 + 10_000), Value: 300, Unit: 'Seconds' },
      { MetricName: 'RecoveryTimeSeconds', Dimensions: dims, Timestamp: new Date(T0 + 20_000), Value: 100, Unit: 'Seconds' },
      { MetricName: 'RecoveryTimeSeconds', Dimensions: dims, Timestamp: new Date(T0 + 70_000), Values: [10, 20], Counts: [1, 3], Unit: 'Seconds' },
      { MetricName: 'RecoveryTimeSeconds', Dimensions: [dims[0]], Timestamp: new Date(T0 + 10_000), Value: 999 },
      { MetricName: 'Other', Timestamp: new Date(T0), StatisticValues: { SampleCount: 2, Sum: 4, Minimum: 1, Maximum: 3 } },
    ],
  }));
  const listed = await cw.send(new ListMetricsCommand({ Namespace: 'Test/Restore', MetricName: 'RecoveryTimeSeconds' }));
  expect(listed.Metrics).toHaveLength(2);
  const filtered = await cw.send(new ListMetricsCommand({ Dimensions: [{ Name: 'Mode' }] }));
  expect(filtered.Metrics).toEqual([{ Namespace: 'Test/Restore', MetricName: 'RecoveryTimeSeconds', Dimensions: [dims[1], dims[0]] }]);

  // Dimensions in any order name the same metric; the one-dimension metric is another metric.
  const stats = await cw.send(new GetMetricStatisticsCommand({
    Namespace: 'Test/Restore',
    MetricName: 'RecoveryTimeSeconds',
    Dimensions: [dims[1], dims[0]],
    StartTime: new Date(T0),
    EndTime: new Date(T0 + 120_000),
    Period: 60,
    Statistics: ['SampleCount', 'Sum', 'Average', 'Minimum', 'Maximum'],
  }));
  expect(stats.Label).toBe('RecoveryTimeSeconds');
  expect(stats.Datapoints).toEqual([
    { Timestamp: new Date(T0), SampleCount: 2, Sum: 400, Average: 200, Minimum: 100, Maximum: 300, Unit: 'Seconds' },
    { Timestamp: new Date(T0 + 60_000), SampleCount: 4, Sum: 70, Average: 17.5, Minimum: 10, Maximum: 20, Unit: 'Seconds' },
  ]);
});

test('bad input is refused with CloudWatch\'s errors and records nothing', async () => {
  const count = provider.cloudwatch.datapoints(REGION).length;
  const put = (input: ConstructorParameters<typeof PutMetricDataCommand>[0]) => cw.send(new PutMetricDataCommand(input));
  await expect(put({ Namespace: 'AWS/ElastiCache', MetricData: [{ MetricName: 'x', Value: 1 }] })).rejects.toBeInstanceOf(InvalidParameterValueException);
  await expect(put({ Namespace: 'Test', MetricData: [{ MetricName: 'x', Value: 1 }, { MetricName: 'x', Value: 1, Values: [1] }] }))
    .rejects.toBeInstanceOf(InvalidParameterCombinationException);
  await expect(put({ Namespace: 'Test', MetricData: [{ MetricName: 'x', Value: 1, Timestamp: new Date(T0 - 15 * 86_400_000) }] }))
    .rejects.toBeInstanceOf(InvalidParameterValueException);
  await expect(put({ Namespace: 'Test', MetricData: [{ MetricName: 'x', Value: 1, Unit: 'Parsecs' as never }] })).rejects.toBeInstanceOf(InvalidParameterValueException);
  await expect(put({ Namespace: 'Test', MetricData: [] })).rejects.toBeInstanceOf(InvalidParameterValueException);
  await expect(put({ Namespace: undefined as never, MetricData: [{ MetricName: 'x', Value: 1 }] })).rejects.toBeInstanceOf(MissingRequiredParameterException);
  expect(provider.cloudwatch.datapoints(REGION)).toHaveLength(count);

  await expect(cw.send(new GetMetricStatisticsCommand({
    Namespace: 'Test', MetricName: 'x', StartTime: new Date(T0), EndTime: new Date(T0 + 86_400_000), Period: 1, Statistics: ['Sum'],
  }))).rejects.toBeInstanceOf(InvalidParameterCombinationException);
  await expect(cw.send(new GetMetricStatisticsCommand({
    Namespace: 'Test', MetricName: 'x', StartTime: new Date(T0), EndTime: new Date(T0 + 60_000), Period: 45, Statistics: ['Sum'],
  }))).rejects.toBeInstanceOf(InvalidParameterValueException);
});

test('alarms are recorded, described and deleted (not evaluated)', async () => {
  await cw.send(new PutMetricAlarmCommand({
    AlarmName: 'restore-failures',
    Namespace: 'Test/Restore',
    MetricName: 'FailedRuns',
    Statistic: 'Sum',
    Period: 300,
    EvaluationPeriods: 1,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: ['arn:aws:sns:eu-west-1:000000000000:alerts'],
    Dimensions: [{ Name: 'Workflow', Value: 'restore' }],
  }));
  const [alarm] = (await cw.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'restore-' }))).MetricAlarms!;
  expect(alarm).toMatchObject({
    AlarmName: 'restore-failures',
    AlarmArn: 'arn:aws:cloudwatch:eu-west-1:000000000000:alarm:restore-failures',
    StateValue: 'INSUFFICIENT_DATA',
    Threshold: 1,
    AlarmActions: ['arn:aws:sns:eu-west-1:000000000000:alerts'],
    ActionsEnabled: true,
  });
  await expect(cw.send(new PutMetricAlarmCommand({
    AlarmName: 'bad', Namespace: 'Test', MetricName: 'x', Statistic: 'Sum', Period: 300, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'Bigger' as never,
  }))).rejects.toBeInstanceOf(InvalidParameterValueException);
  await expect(cw.send(new DeleteAlarmsCommand({ AlarmNames: ['restore-failures', 'nope'] }))).rejects.toBeInstanceOf(ResourceNotFound);
  expect((await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms).toHaveLength(1);
  await cw.send(new DeleteAlarmsCommand({ AlarmNames: ['restore-failures'] }));
  expect((await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms).toEqual([]);
});

test('recordEmf turns an embedded-metric-format line into datapoints the API reads', async () => {
  // The line standby-restore's record step prints (lambda/handlers/standby-restore.ts emitMetrics).
  const line = JSON.stringify({
    _aws: {
      Timestamp: T0 + 30_000,
      CloudWatchMetrics: [{
        Namespace: 'CdkElastiCacheBackup/StandbyRestore',
        Dimensions: [['Workflow', 'Mode']],
        Metrics: [{ Name: 'RecoveryPointSeconds', Unit: 'Seconds' }, { Name: 'RecoveryTimeSeconds', Unit: 'Seconds' }],
      }],
    },
    Workflow: 'restore',
    Mode: 'failover',
    RecoveryPointSeconds: 3600,
    RecoveryTimeSeconds: 420,
  });
  expect(provider.cloudwatch.recordEmf(REGION, line)).toEqual({ recorded: 2 });
  const stats = await cw.send(new GetMetricStatisticsCommand({
    Namespace: 'CdkElastiCacheBackup/StandbyRestore',
    MetricName: 'RecoveryPointSeconds',
    Dimensions: [{ Name: 'Workflow', Value: 'restore' }, { Name: 'Mode', Value: 'failover' }],
    StartTime: new Date(T0),
    EndTime: new Date(T0 + 3_600_000),
    Period: 3600,
    Statistics: ['Maximum'],
  }));
  expect(stats.Datapoints).toEqual([{ Timestamp: new Date(T0), Maximum: 3600, Unit: 'Seconds' }]);

  expect(provider.cloudwatch.recordEmf(REGION, 'plain log line').recorded).toBe(0);
  expect(provider.cloudwatch.recordEmf(REGION, JSON.stringify({ _aws: { Timestamp: 1, CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [['Missing']], Metrics: [{ Name: 'v' }] }] }, v: 1 })))
    .toMatchObject({ recorded: 0, rejected: expect.stringContaining('Missing') });
});

test('a large PutMetricData, which the SDK gzips, is recorded whole', async () => {
  const before = provider.cloudwatch.datapoints(REGION, 'Bulk').length;
  await cw.send(new PutMetricDataCommand({
    Namespace: 'Test/Bulk',
    MetricData: Array.from({ length: 1000 }, (_, i) => ({ MetricName: 'Bulk', Dimensions: [{ Name: 'Shard', Value: `shard-${i}` }], Value: i })),
  }));
  expect(provider.cloudwatch.datapoints(REGION, 'Bulk')).toHaveLength(before + 1000);
  await expect(cw.send(new PutMetricDataCommand({ Namespace: 'Test/Bulk', MetricData: Array.from({ length: 1001 }, () => ({ MetricName: 'Bulk', Value: 1 })) })))
    .rejects.toBeInstanceOf(InvalidParameterValueException);
});
