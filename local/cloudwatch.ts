/**
 * CloudWatch metrics and alarms, as the workflows use them: PutMetricData, ListMetrics,
 * GetMetricStatistics over the recorded datapoints; PutMetricAlarm, DescribeAlarms, DeleteAlarms
 * recorded (alarms are never evaluated: they stay INSUFFICIENT_DATA); and `recordEmf`, which turns a
 * log line in the embedded metric format into datapoints as CloudWatch Logs does.
 *
 * The protocol is the one @aws-sdk/client-cloudwatch 3.1162 sends: AWS JSON 1.0
 * (`X-Amz-Target: GraniteServiceVersion20100801.<Operation>`) with `awsQueryCompatible`: errors
 * carry the Query error code in the `x-amzn-query-error` header (`InvalidParameterValue;Sender`)
 * and the shape name in `__type`. The Query protocol (`Action=PutMetricData&Version=2010-08-01`,
 * which older SDKs and the AWS CLI v1 send) is NOT emulated.
 * Facts are from the CloudWatch API reference, per operation, unless marked otherwise.
 */
import { gunzipSync } from 'zlib';
import { jsonRequest } from './json-protocol';
import { LOCAL_ACCOUNT } from './sts';

/** The error shapes: the JSON `__type` (Smithy shape name) and the Query code the header carries. */
const ERRORS: Record<string, string> = {
  InvalidParameterValue: 'InvalidParameterValueException',
  MissingParameter: 'MissingRequiredParameterException',
  InvalidParameterCombination: 'InvalidParameterCombinationException',
  ResourceNotFound: 'ResourceNotFound',
  InvalidNextToken: 'InvalidNextToken',
  InvalidAction: 'InvalidAction',
};

export class CloudWatchError extends Error {
  /** @param code the Query error code (`InvalidParameterValue`) */
  constructor(public readonly code: string, message: string, public readonly status = 400) {
    super(message);
  }

  /** The JSON 1.0 body and headers of this error. */
  public answer(): { status: number; headers: Record<string, string>; body: string } {
    return {
      status: this.status,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${this.code};Sender` },
      body: JSON.stringify({ __type: `com.amazonaws.cloudwatch#${ERRORS[this.code] ?? this.code}`, message: this.message }),
    };
  }
}

const STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'];
const UNITS = ['Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits',
  'Kilobits', 'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second',
  'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second',
  'Terabits/Second', 'Count/Second', 'None'];
const COMPARISONS = ['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold',
  'LessThanLowerOrGreaterThanUpperThreshold', 'LessThanLowerThreshold', 'GreaterThanUpperThreshold'];
/** At most 30 dimensions per metric (API reference, MetricDatum `Dimensions`). */
const MAX_DIMENSIONS = 30;
/** At most 1,000 metrics per PutMetricData (API reference). */
const MAX_DATA = 1000;
/** GetMetricStatistics answers at most 1,440 datapoints (API reference). */
const MAX_POINTS = 1440;
/** ListMetrics returns up to 500 metrics per page (API reference). */
const PAGE = 500;
const HOUR = 3_600_000;

export interface Dimension { readonly Name: string; readonly Value: string }

/** One recorded datapoint: a statistic set (a single value is a set of one). */
export interface Datapoint {
  readonly namespace: string;
  readonly metricName: string;
  /** Sorted by name: a metric is its namespace, name and dimensions. */
  readonly dimensions: Dimension[];
  /** ms since the epoch. */
  readonly timestamp: number;
  readonly unit?: string;
  readonly sampleCount: number;
  readonly sum: number;
  readonly minimum: number;
  readonly maximum: number;
}

export interface Alarm extends Record<string, unknown> {
  readonly AlarmName: string;
  readonly AlarmArn: string;
}

type Input = Record<string, unknown>;

function invalid(message: string): CloudWatchError {
  return new CloudWatchError('InvalidParameterValue', message);
}

function missing(name: string): CloudWatchError {
  return new CloudWatchError('MissingParameter', `The parameter ${name} is required.`);
}

function str(input: Input, name: string, required: true, max?: number): string;
function str(input: Input, name: string, required?: boolean, max?: number): string | undefined;
function str(input: Input, name: string, required = false, max = 255): string | undefined {
  const v = input[name];
  if (v === undefined || v === null) {
    if (required) throw missing(name);
    return undefined;
  }
  if (typeof v !== 'string' || v.length < 1 || v.length > max) throw invalid(`The value for parameter ${name} must be a string of 1 to ${max} characters.`);
  return v;
}

function num(input: Input, name: string, required = false): number | undefined {
  const v = input[name];
  if (v === undefined || v === null) {
    if (required) throw missing(name);
    return undefined;
  }
  // JSON cannot carry NaN or Infinity; CloudWatch refuses them (and values beyond 2^360) anyway.
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > 2 ** 360) throw invalid(`The value ${String(v)} for parameter ${name} is invalid.`);
  return v;
}

/** A JSON 1.0 timestamp: epoch seconds (a number); ms since the epoch. */
function time(input: Input, name: string, required = false): number | undefined {
  const v = num(input, name, required);
  return v === undefined ? undefined : v * 1000;
}

function dimensions(value: unknown, name = 'Dimensions', valueRequired = true): Dimension[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_DIMENSIONS) throw invalid(`The collection ${name} must have at most ${MAX_DIMENSIONS} items.`);
  const seen = new Set<string>();
  const dims = value.map((d: Input) => {
    const n = str(d ?? {}, 'Name', true);
    const v = valueRequired ? str(d, 'Value', true, 1024) : str(d, 'Value', false, 1024);
    if (seen.has(n)) throw new CloudWatchError('InvalidParameterCombination', `No Metric may specify the same dimension name twice: ${n}.`);
    seen.add(n);
    return { Name: n, Value: v as string };
  });
  return dims.sort((a, b) => a.Name.localeCompare(b.Name));
}

function sameDimensions(a: Dimension[], b: Dimension[]): boolean {
  return a.length === b.length && a.every((d, i) => d.Name === b[i].Name && d.Value === b[i].Value);
}

function metricKey(namespace: string, name: string, dims: Dimension[]): string {
  return JSON.stringify([namespace, name, dims]);
}

function namespaceOf(input: Input, reservedAllowed = false): string {
  const ns = str(input, 'Namespace', true);
  // Namespaces starting with AWS/ are reserved for AWS services (API reference, PutMetricData `Namespace`);
  // an alarm may watch them (AWS/ElastiCache, ...).
  if (!/^[^:].*$/.test(ns) || (ns.startsWith('AWS/') && !reservedAllowed)) throw invalid(`The value ${ns} for parameter Namespace is invalid.`);
  return ns;
}

/**
 * The request body as text. The SDK gzips PutMetricData bodies of 10 KiB or more
 * (`Content-Encoding: gzip`; the operation's `requestCompression` trait, @aws-sdk/client-cloudwatch);
 * what it unpacks to is held to `limit` bytes, as an uncompressed body is.
 */
export function cloudWatchBody(body: Buffer, encoding: string | undefined, limit: number): string {
  if (encoding === undefined || encoding === 'identity') return body.toString('utf-8');
  if (encoding !== 'gzip') throw new CloudWatchError('InvalidParameterValue', `Content-Encoding ${encoding} is not supported.`);
  try {
    return gunzipSync(body, { maxOutputLength: limit }).toString('utf-8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new CloudWatchError('RequestEntityTooLarge', `The request body exceeds the local provider's limit of ${limit} bytes.`, 413);
    }
    throw new CloudWatchError('InvalidParameterValue', 'The request body is not valid gzip.');
  }
}

export class LocalCloudWatch {
  /** Datapoints by region. */
  private readonly data = new Map<string, Datapoint[]>();
  /** Alarms by region, then name. */
  private readonly alarms = new Map<string, Map<string, Alarm>>();

  constructor(private readonly now: () => number) {}

  /** The datapoints recorded in a region (a copy), optionally of one metric name. */
  public datapoints(region: string, metricName?: string): Datapoint[] {
    return (this.data.get(region) ?? []).filter((d) => metricName === undefined || d.metricName === metricName);
  }

  /** Records an alarm for the deployer (AWS::CloudWatch::Alarm): the PutMetricAlarm input. */
  public putMetricAlarm(region: string, input: Input): Alarm {
    const name = str(input, 'AlarmName', true);
    const comparison = str(input, 'ComparisonOperator', true);
    if (!COMPARISONS.includes(comparison)) throw invalid(`The value ${comparison} for parameter ComparisonOperator is invalid.`);
    const periods = num(input, 'EvaluationPeriods', true)!;
    if (!Number.isInteger(periods) || periods < 1) throw invalid('The value for parameter EvaluationPeriods must be an integer of at least 1.');
    const statistic = str(input, 'Statistic');
    if (statistic !== undefined && !STATISTICS.includes(statistic)) throw invalid(`The value ${statistic} for parameter Statistic is invalid.`);
    const metrics = input.Metrics;
    if (metrics === undefined) {
      // A single-metric alarm needs its metric, period, threshold and one statistic (API reference, PutMetricAlarm).
      str(input, 'MetricName', true);
      namespaceOf(input, true);
      this.period(num(input, 'Period', true)!);
      if (statistic === undefined && input.ExtendedStatistic === undefined) throw missing('Statistic');
      if (input.ThresholdMetricId === undefined) num(input, 'Threshold', true);
    } else if (!Array.isArray(metrics) || metrics.length === 0 || input.MetricName !== undefined) {
      throw new CloudWatchError('InvalidParameterCombination', 'Metrics list must not be empty and cannot be combined with MetricName.');
    }
    dimensions(input.Dimensions);
    const unit = str(input, 'Unit');
    if (unit !== undefined && !UNITS.includes(unit)) throw invalid(`The value ${unit} for parameter Unit is invalid.`);
    const existing = this.alarmsOf(region).get(name);
    const now = new Date(this.now()).toISOString();
    const alarm: Alarm = {
      ...input,
      AlarmName: name,
      AlarmArn: `arn:aws:cloudwatch:${region}:${LOCAL_ACCOUNT}:alarm:${name}`,
      ActionsEnabled: input.ActionsEnabled ?? true,
      AlarmConfigurationUpdatedTimestamp: this.now() / 1000,
      StateValue: (existing?.StateValue as string | undefined) ?? 'INSUFFICIENT_DATA',
      StateReason: (existing?.StateReason as string | undefined) ?? 'Unchecked: Initial alarm creation',
      StateUpdatedTimestamp: (existing?.StateUpdatedTimestamp as number | undefined) ?? this.now() / 1000,
      StateTransitionedTimestamp: (existing?.StateTransitionedTimestamp as number | undefined) ?? this.now() / 1000,
      // Not evaluated: the alarm says so in its reason data (local provider only).
      StateReasonData: existing?.StateReasonData ?? JSON.stringify({ version: '1.0', queryDate: now, localProvider: 'alarms are not evaluated' }),
    };
    delete (alarm as Input).Tags;
    this.alarmsOf(region).set(name, alarm);
    return alarm;
  }

  /** Deletes alarms for the deployer; names that do not exist are ignored here (the API refuses them). */
  public deleteAlarms(region: string, names: string[]): void {
    for (const n of names) this.alarmsOf(region).delete(n);
  }

  /**
   * Records the metrics of one log line in CloudWatch's embedded metric format (CloudWatch user
   * guide, "Specification: Embedded metric format"): for each directive in `_aws.CloudWatchMetrics`,
   * each dimension set and each metric, a datapoint (or one per value of an array, up to 100) at
   * `_aws.Timestamp`. A line that is not valid EMF is only a log line in CloudWatch Logs; here it
   * records nothing and the reason is returned.
   * @returns how many datapoints were recorded, or why none were
   */
  public recordEmf(region: string, line: string): { recorded: number; rejected?: string } {
    let doc: any;
    try {
      doc = JSON.parse(line);
    } catch {
      return { recorded: 0, rejected: 'not JSON' };
    }
    const aws = doc?._aws;
    if (typeof aws !== 'object' || aws === null || !Array.isArray(aws.CloudWatchMetrics) || typeof aws.Timestamp !== 'number') {
      return { recorded: 0, rejected: 'no _aws object with a Timestamp and CloudWatchMetrics' };
    }
    const points: Datapoint[] = [];
    for (const directive of aws.CloudWatchMetrics) {
      const ns = directive?.Namespace;
      if (typeof ns !== 'string' || ns.length < 1 || ns.length > 255 || !Array.isArray(directive.Dimensions) || !Array.isArray(directive.Metrics)) {
        return { recorded: 0, rejected: 'a directive without Namespace, Dimensions or Metrics' };
      }
      // A directive with no dimension set records the metric without dimensions (specification: "Dimensions ... MAY be empty").
      const sets: string[][] = directive.Dimensions.length > 0 ? directive.Dimensions : [[]];
      for (const set of sets) {
        if (!Array.isArray(set) || set.length > MAX_DIMENSIONS || !set.every((k) => typeof k === 'string' && typeof doc[k] === 'string')) {
          return { recorded: 0, rejected: `dimension set ${JSON.stringify(set)} names a member that is not a string` };
        }
        const dims = set.map((k) => ({ Name: k, Value: doc[k] as string })).sort((a, b) => a.Name.localeCompare(b.Name));
        for (const metric of directive.Metrics) {
          const name = metric?.Name;
          const raw = doc[name];
          const values: unknown[] = Array.isArray(raw) ? raw : [raw];
          if (typeof name !== 'string' || values.length === 0 || values.length > 100 || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
            return { recorded: 0, rejected: `metric ${String(name)} has no numeric value` };
          }
          const unit = metric.Unit === undefined || UNITS.includes(metric.Unit) ? metric.Unit : undefined;
          for (const v of values as number[]) {
            points.push({
              namespace: ns, metricName: name, dimensions: dims, timestamp: aws.Timestamp, unit, sampleCount: 1, sum: v, minimum: v, maximum: v,
            });
          }
        }
      }
    }
    this.dataOf(region).push(...points);
    return { recorded: points.length };
  }

  /** Answers one JSON 1.0 request: the operation from `X-Amz-Target`, the JSON body. */
  public handle(region: string, target: string | undefined, raw: Buffer, encoding?: string, limit = 1024 * 1024): {
    status: number; headers: Record<string, string>; body: string;
  } {
    try {
      const body = cloudWatchBody(raw, encoding, limit);
      const { operation, input } = jsonRequest('GraniteServiceVersion20100801', target, body, (code, message) => new CloudWatchError(code, message));
      const result = this.operation(region, operation ?? target ?? '(none)', input);
      return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: JSON.stringify(result) };
    } catch (e) {
      if (!(e instanceof CloudWatchError)) throw e;
      return e.answer();
    }
  }

  private operation(region: string, operation: string, input: Input): Input {
    switch (operation) {
      case 'PutMetricData': return this.putMetricData(region, input);
      case 'ListMetrics': return this.listMetrics(region, input);
      case 'GetMetricStatistics': return this.getMetricStatistics(region, input);
      case 'PutMetricAlarm': {
        this.putMetricAlarm(region, input);
        return {};
      }
      case 'DescribeAlarms': return this.describeAlarms(region, input);
      case 'DeleteAlarms': {
        const names = input.AlarmNames;
        if (!Array.isArray(names) || names.length > 100 || !names.every((n) => typeof n === 'string')) throw missing('AlarmNames');
        // "If you specify an incorrect alarm name or make any other error in the operation, no alarms are deleted" (API reference, DeleteAlarms).
        const unknown = names.filter((n) => !this.alarmsOf(region).has(n));
        if (unknown.length > 0) throw new CloudWatchError('ResourceNotFound', `The following alarms were not found: ${unknown.join(', ')}`, 404);
        this.deleteAlarms(region, names);
        return {};
      }
      default:
        throw new CloudWatchError('InvalidAction', `The local provider does not emulate CloudWatch operation ${operation}.`);
    }
  }

  private putMetricData(region: string, input: Input): Input {
    const ns = namespaceOf(input);
    const data = input.MetricData;
    if (data === undefined) throw missing('MetricData');
    if (!Array.isArray(data) || data.length < 1 || data.length > MAX_DATA) throw invalid(`The collection MetricData must have 1 to ${MAX_DATA} items.`);
    const now = this.now();
    // Everything is checked before anything is recorded: a refused request records nothing.
    const points = data.flatMap((d: Input) => this.datum(ns, d ?? {}, now));
    this.dataOf(region).push(...points);
    return {};
  }

  private datum(ns: string, d: Input, now: number): Datapoint[] {
    const metricName = str(d, 'MetricName', true);
    const dims = dimensions(d.Dimensions);
    const timestamp = time(d, 'Timestamp') ?? now;
    // Timestamps from two weeks before to two hours after now (API reference, MetricDatum `Timestamp`).
    if (timestamp < now - 14 * 24 * HOUR || timestamp > now + 2 * HOUR) {
      throw invalid('The parameter MetricData.member.Timestamp must specify a time no more than two weeks in the past or two hours in the future.');
    }
    const unit = str(d, 'Unit');
    if (unit !== undefined && !UNITS.includes(unit)) throw invalid(`The value ${unit} for parameter MetricData.member.Unit is invalid.`);
    const resolution = num(d, 'StorageResolution');
    if (resolution !== undefined && resolution !== 1 && resolution !== 60) throw invalid('StorageResolution must be 1 or 60.');
    const base = { namespace: ns, metricName, dimensions: dims, timestamp, unit };
    const given = ['Value', 'Values', 'StatisticValues'].filter((k) => d[k] !== undefined);
    if (given.length !== 1) {
      throw new CloudWatchError('InvalidParameterCombination', 'The parameters MetricData.member.Value, MetricData.member.Values and '
        + 'MetricData.member.StatisticValues are mutually exclusive and one of them must be given.');
    }
    if (d.Value !== undefined) {
      const v = num(d, 'Value')!;
      return [{ ...base, sampleCount: 1, sum: v, minimum: v, maximum: v }];
    }
    if (d.StatisticValues !== undefined) {
      const s = (d.StatisticValues ?? {}) as Input;
      const [count, sum, min, max] = ['SampleCount', 'Sum', 'Minimum', 'Maximum'].map((k) => num(s, k, true)!);
      if (count <= 0 || min > max) throw invalid('The StatisticValues are inconsistent: SampleCount must be positive and Minimum at most Maximum.');
      return [{ ...base, sampleCount: count, sum, minimum: min, maximum: max }];
    }
    const values = d.Values;
    const counts = d.Counts ?? [];
    const countsMatch = Array.isArray(counts) && (counts.length === 0 || (Array.isArray(values) && counts.length === values.length));
    if (!Array.isArray(values) || values.length < 1 || values.length > 150 || !countsMatch) {
      throw invalid('Values must have 1 to 150 items, and Counts as many items as Values when given.');
    }
    return values.map((_, i) => {
      const v = num(values as unknown as Input, String(i))!;
      const c = counts.length > 0 ? num(counts as unknown as Input, String(i))! : 1;
      return { ...base, sampleCount: c, sum: v * c, minimum: v, maximum: v };
    });
  }

  private listMetrics(region: string, input: Input): Input {
    const ns = str(input, 'Namespace');
    const name = str(input, 'MetricName');
    const filter = dimensions(input.Dimensions, 'Dimensions', false);
    const recent = input.RecentlyActive;
    if (recent !== undefined && recent !== 'PT3H') throw invalid(`The value ${String(recent)} for parameter RecentlyActive is invalid.`);
    const since = recent === 'PT3H' ? this.now() - 3 * HOUR : -Infinity;
    const metrics = new Map<string, Input>();
    for (const d of this.dataOf(region)) {
      if ((ns !== undefined && d.namespace !== ns) || (name !== undefined && d.metricName !== name) || d.timestamp < since) continue;
      if (!filter.every((f) => d.dimensions.some((x) => x.Name === f.Name && (f.Value === undefined || x.Value === f.Value)))) continue;
      metrics.set(metricKey(d.namespace, d.metricName, d.dimensions), { Namespace: d.namespace, MetricName: d.metricName, Dimensions: d.dimensions });
    }
    const all = [...metrics.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, m]) => m);
    const start = input.NextToken === undefined ? 0 : Number(input.NextToken);
    if (!Number.isInteger(start) || start < 0 || start > all.length) throw new CloudWatchError('InvalidNextToken', 'The NextToken is invalid.');
    return { Metrics: all.slice(start, start + PAGE), NextToken: start + PAGE < all.length ? String(start + PAGE) : undefined };
  }

  private period(period: number): number {
    // 1, 5, 10, 30 or a multiple of 60 seconds (API reference, GetMetricStatistics `Period`).
    if (!Number.isInteger(period) || period < 1 || (period % 60 !== 0 && ![1, 5, 10, 30].includes(period))) {
      throw invalid(`The parameter Period must be 1, 5, 10, 30 or a multiple of 60, not ${period}.`);
    }
    return period;
  }

  private getMetricStatistics(region: string, input: Input): Input {
    const ns = namespaceOf(input);
    const name = str(input, 'MetricName', true);
    const dims = dimensions(input.Dimensions);
    const start = time(input, 'StartTime', true)!;
    const end = time(input, 'EndTime', true)!;
    const period = this.period(num(input, 'Period', true)!);
    if (end <= start) throw invalid('The parameter StartTime must be less than the parameter EndTime.');
    const stats = input.Statistics ?? [];
    if (input.ExtendedStatistics !== undefined) throw invalid('ExtendedStatistics (percentiles) are not emulated by the local provider.');
    if (!Array.isArray(stats) || stats.length < 1 || stats.length > 5 || !stats.every((s) => STATISTICS.includes(s))) {
      throw new CloudWatchError('MissingParameter', 'The parameter Statistics is required and must name 1 to 5 of SampleCount, Average, Sum, Minimum, Maximum.');
    }
    if ((end - start) / (period * 1000) > MAX_POINTS) {
      throw new CloudWatchError('InvalidParameterCombination', `You have requested up to ${Math.ceil((end - start) / (period * 1000))} datapoints, `
        + `which exceeds the limit of ${MAX_POINTS}. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`);
    }
    const unit = str(input, 'Unit');
    const buckets = new Map<number, Datapoint[]>();
    for (const d of this.dataOf(region)) {
      if (d.namespace !== ns || d.metricName !== name || !sameDimensions(d.dimensions, dims)) continue;
      if (d.timestamp < start || d.timestamp >= end || (unit !== undefined && d.unit !== unit)) continue;
      const bucket = start + Math.floor((d.timestamp - start) / (period * 1000)) * period * 1000;
      buckets.set(bucket, [...(buckets.get(bucket) ?? []), d]);
    }
    const datapoints = [...buckets.entries()].sort(([a], [b]) => a - b).map(([at, points]) => {
      const count = points.reduce((n, p) => n + p.sampleCount, 0);
      const sum = points.reduce((n, p) => n + p.sum, 0);
      const all: Record<string, number> = {
        SampleCount: count,
        Sum: sum,
        Average: sum / count,
        Minimum: Math.min(...points.map((p) => p.minimum)),
        Maximum: Math.max(...points.map((p) => p.maximum)),
      };
      return {
        Timestamp: at / 1000,
        Unit: unit ?? points[0].unit ?? 'None',
        ...Object.fromEntries((stats as string[]).map((s) => [s, all[s]])),
      };
    });
    return { Label: name, Datapoints: datapoints };
  }

  private describeAlarms(region: string, input: Input): Input {
    const names = input.AlarmNames;
    if (names !== undefined && (!Array.isArray(names) || names.length > 100)) throw invalid('AlarmNames must have at most 100 items.');
    const prefix = str(input, 'AlarmNamePrefix');
    if (names !== undefined && prefix !== undefined) {
      throw new CloudWatchError('InvalidParameterCombination', 'AlarmNames and AlarmNamePrefix cannot be used together.');
    }
    const state = str(input, 'StateValue');
    const alarms = [...this.alarmsOf(region).values()]
      .filter((a) => (names === undefined || (names as string[]).includes(a.AlarmName))
        && (prefix === undefined || a.AlarmName.startsWith(prefix))
        && (state === undefined || a.StateValue === state))
      .sort((a, b) => a.AlarmName.localeCompare(b.AlarmName));
    return { MetricAlarms: alarms, CompositeAlarms: [] };
  }

  private dataOf(region: string): Datapoint[] {
    let data = this.data.get(region);
    if (!data) {
      data = [];
      this.data.set(region, data);
    }
    return data;
  }

  private alarmsOf(region: string): Map<string, Alarm> {
    let alarms = this.alarms.get(region);
    if (!alarms) {
      alarms = new Map();
      this.alarms.set(region, alarms);
    }
    return alarms;
  }
}
