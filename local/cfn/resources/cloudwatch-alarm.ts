/**
 * AWS::CloudWatch::Alarm, in the provider's CloudWatch (local/cloudwatch.ts): PutMetricAlarm with
 * the template's properties (the same names as the API's), DeleteAlarms on delete. Ref is the alarm
 * name; attribute Arn (resource reference, "Return values"). AlarmName requires replacement; every
 * other change is a PutMetricAlarm again (PutMetricAlarm replaces an alarm's configuration, API
 * reference). Alarms are recorded, not evaluated (local/cloudwatch.ts).
 */
import { ResourceContext, ResourceFailure, ResourceHandler } from './types';

const NO_EFFECT: Record<string, string> = {
  Tags: 'alarm tags are not stored',
};

const NUMBERS = ['EvaluationPeriods', 'DatapointsToAlarm', 'Period', 'Threshold'];

const APPLIED = ['AlarmName', 'AlarmDescription', 'ActionsEnabled', 'AlarmActions', 'OKActions', 'InsufficientDataActions',
  'ComparisonOperator', 'EvaluationPeriods', 'DatapointsToAlarm', 'MetricName', 'Namespace', 'Dimensions', 'Period', 'Statistic',
  'ExtendedStatistic', 'Threshold', 'ThresholdMetricId', 'TreatMissingData', 'EvaluateLowSampleCountPercentile', 'Unit', 'Metrics'];

/** The PutMetricAlarm input: numbers as numbers (a template may give "3"), Metrics' periods too. */
function input(name: string, props: Record<string, any>): Record<string, unknown> {
  const out: Record<string, any> = { AlarmName: name };
  for (const k of APPLIED) if (props[k] !== undefined && k !== 'AlarmName') out[k] = props[k];
  for (const k of NUMBERS) if (out[k] !== undefined) out[k] = Number(out[k]);
  if (out.ActionsEnabled !== undefined) out.ActionsEnabled = out.ActionsEnabled === true || out.ActionsEnabled === 'true';
  if (Array.isArray(out.Metrics)) {
    out.Metrics = out.Metrics.map((m: any) => ({
      ...m,
      ...(m.Period !== undefined ? { Period: Number(m.Period) } : {}),
      ...(m.MetricStat ? { MetricStat: { ...m.MetricStat, Period: Number(m.MetricStat.Period) } } : {}),
      ...(m.ReturnData !== undefined ? { ReturnData: m.ReturnData === true || m.ReturnData === 'true' } : {}),
    }));
  }
  return out;
}

function put(ctx: ResourceContext, name: string, props: Record<string, any>): string {
  try {
    return ctx.provider.cloudwatch.putMetricAlarm(ctx.region, input(name, props)).AlarmArn;
  } catch (e) {
    const err = e as { code?: string; message: string };
    throw new ResourceFailure(`${err.message} (Service: AmazonCloudWatch; Error Code: ${err.code ?? 'unknown'})`);
  }
}

function notes(props: Record<string, any>): string | undefined {
  const given = Object.keys(NO_EFFECT).filter((k) => props[k] !== undefined);
  return given.length ? given.map((k) => `${k} accepted without effect: ${NO_EFFECT[k]}`).join('; ') : undefined;
}

export const cloudWatchAlarm: ResourceHandler = {
  properties: [...APPLIED, ...Object.keys(NO_EFFECT)],
  replaceOn: ['AlarmName'],
  nameProperty: 'AlarmName',

  async create(ctx, props) {
    const name: string = props.AlarmName ?? ctx.generatedName(255);
    const arn = put(ctx, name, props);
    return { physicalId: name, attributes: { Arn: arn }, notes: notes(props) };
  },

  async update(ctx, current, _old, props) {
    const arn = put(ctx, current.physicalId, props);
    return { ...current, attributes: { Arn: arn }, notes: notes(props) };
  },

  async delete(ctx, current) {
    ctx.provider.cloudwatch.deleteAlarms(ctx.region, [current.physicalId]);
  },
};
