/**
 * Monthly cost of the drill's schedule at list prices, computed from its event log alone and
 * extrapolated from the simulated span to a 30-day month. Free tiers are NOT applied (Step
 * Functions' 4,000 transitions, Lambda's 1M requests and 400,000 GB-s, S3's first-year 5 GB): the
 * figure is what the schedule costs an account that has used them up.
 */
import { DAY_MS, DrillLog, eventsOf } from './events';

/** Billing GB: AWS meters storage and transfer in binary gigabytes (2^30 bytes). */
const GB = 1024 ** 3;

/**
 * List prices, read 2026-11-22 from the stored copies of the pages named (the `search` tool's
 * "pages" corpus; the copies carry no date of their own). us-east-1 is the source region and
 * eu-west-1 the recovery region; the prices below are the same in both unless a line says otherwise.
 */
export const PRICES = {
  /** https://aws.amazon.com/step-functions/pricing/ — Standard, $0.0250 per 1,000 transitions in US East (N. Virginia) and Europe (Ireland). */
  stateTransitionPer1000: 0.025,
  /**
   * https://aws.amazon.com/lambda/pricing/ — $0.20 per 1M requests, x86_64 $0.0000166667 per GB-second
   * (first 6 billion GB-s). The library's functions set no `architecture` (src/, grep shows none), so
   * they run on x86_64, Lambda's default. UNCONFIRMED on AWS's own page: the figures were read on
   * third-party copies (git.mcrn.ar lambda-13-cost.md, cloudchipr.com/blog/aws-lambda-pricing), for us-east-1.
   */
  lambdaRequestPerMillion: 0.2,
  lambdaGbSecondX86: 0.0000166667,
  /**
   * https://aws.amazon.com/s3/pricing/ — S3 Standard, first 50 TB, $0.023 per GB-month; PUT/COPY/POST/LIST
   * $0.005 per 1,000 (us-east-1, read on devnotes.tech and deepeshsoni.com copies). The eu-west-1 figure
   * (also $0.023) is UNCONFIRMED: no stored page showed the Ireland table; nor is us-west-2's (the
   * example's recovery region, taken as us-east-1's). A region not listed is priced as us-east-1,
   * and its line says so.
   */
  s3StandardGbMonth: { 'us-east-1': 0.023, 'eu-west-1': 0.023, 'us-west-2': 0.023 } as Record<string, number>,
  s3PutPer1000: 0.005,
  /**
   * https://aws.amazon.com/s3/pricing/ (Data Transfer, "between AWS Regions"): replication copies are
   * charged as inter-region transfer out of the source region, $0.02 per GB from us-east-1. UNCONFIRMED:
   * the stored pages say replication transfer is charged but did not show the rate.
   */
  interRegionTransferGb: 0.02,
  /**
   * https://aws.amazon.com/elasticache/pricing/ — backup storage is charged per GB-month ("a fixed
   * monthly rate per GB", cur.vantage.sh/aws/amazonelasticache). The rate, $0.085 per GB-month in all
   * regions, and the rule that storage for one backup per active cluster is free, are UNCONFIRMED: the
   * stored copies of the pricing page did not include the backup section. The model applies that rule
   * per replication group (the largest snapshot of each group held at a moment is free).
   */
  elastiCacheBackupGbMonth: 0.085,
} as const;

export interface LineItem {
  readonly what: string;
  /** Monthly quantity, in `unit`. */
  readonly quantity: number;
  readonly unit: string;
  /** Price per `unit`. */
  readonly unitPrice: number;
  /** Monthly cost in USD. */
  readonly cost: number;
}

export interface CostEstimate {
  /** Simulated days the log covers, and the factor that scales them to 30 days. */
  readonly days: number;
  readonly factor: number;
  readonly items: readonly LineItem[];
  readonly total: number;
}

/** Time-weighted storage: sum of bytes x ms held, from intervals that end at removal or at the log's end. */
function byteMs(intervals: { from: number; to: number; bytes: number }[]): number {
  return intervals.reduce((sum, i) => sum + i.bytes * (i.to - i.from), 0);
}

/** Kept export objects per region, as intervals: written/replicated until pruned (or the log's end). */
function objectIntervals(log: DrillLog): Map<string, { from: number; to: number; bytes: number }[]> {
  const open = new Map<string, { region: string; from: number; bytes: number }>();
  const byRegion = new Map<string, { from: number; to: number; bytes: number }[]>();
  const close = (id: string, to: number) => {
    const o = open.get(id);
    if (!o) return;
    open.delete(id);
    byRegion.set(o.region, [...(byRegion.get(o.region) ?? []), { from: o.from, to, bytes: o.bytes }]);
  };
  for (const e of log.events) {
    if (e.type === 'object-written' || e.type === 'object-replicated') {
      const id = `${e.region}/${e.bucket}/${e.key}`;
      close(id, e.at); // an overwrite replaces the stored object
      open.set(id, { region: e.region, from: e.at, bytes: e.bytes });
    } else if (e.type === 'object-pruned') {
      close(`${e.region}/${e.bucket}/${e.key}`, e.at);
    }
  }
  for (const id of [...open.keys()]) close(id, log.endedAt);
  return byRegion;
}

/**
 * Snapshot storage beyond the free one per group, in byte-ms: between consecutive events, each
 * group's held snapshots minus its largest one.
 */
function billableSnapshotByteMs(log: DrillLog): number {
  const held = new Map<string, { group: string; bytes: number }>();
  let total = 0;
  let last = log.startedAt;
  const billableNow = () => {
    const perGroup = new Map<string, number[]>();
    for (const s of held.values()) perGroup.set(s.group, [...(perGroup.get(s.group) ?? []), s.bytes]);
    let bytes = 0;
    for (const sizes of perGroup.values()) bytes += sizes.reduce((a, b) => a + b, 0) - Math.max(...sizes);
    return bytes;
  };
  for (const e of log.events) {
    if (e.type !== 'snapshot-taken' && e.type !== 'snapshot-deleted') continue;
    total += billableNow() * (e.at - last);
    last = e.at;
    if (e.type === 'snapshot-taken') held.set(e.name, { group: e.group, bytes: e.bytes });
    else held.delete(e.name);
  }
  return total + billableNow() * (log.endedAt - last);
}

function item(what: string, quantity: number, unit: string, unitPrice: number): LineItem {
  return { what, quantity, unit, unitPrice, cost: quantity * unitPrice };
}

/** The monthly cost of what the log records, as line items and a total (USD). */
export function monthlyCost(log: DrillLog): CostEstimate {
  const span = log.endedAt - log.startedAt;
  if (!(span > 0)) throw new Error(`monthlyCost: the log's span (endedAt - startedAt = ${span} ms) must be positive`);
  const days = span / DAY_MS;
  const factor = 30 / days;
  const runs = eventsOf(log, 'run-ended');
  const transitions = runs.reduce((n, r) => n + r.stateTransitions, 0) * factor;
  const invocations = runs.reduce((n, r) => n + r.lambda.invocations, 0) * factor;
  const gbSeconds = runs.reduce((n, r) => n + (r.lambda.durationMs / 1000) * (r.lambda.memoryMb / 1024), 0) * factor;
  const items: LineItem[] = [
    // Quantities are in the price's unit (thousands, millions), so quantity x unit price = cost.
    item('Step Functions Standard state transitions', transitions / 1000, '1,000 transitions', PRICES.stateTransitionPer1000),
    item('Lambda requests', invocations / 1e6, '1M requests', PRICES.lambdaRequestPerMillion),
    item('Lambda duration (x86_64)', gbSeconds, 'GB-second', PRICES.lambdaGbSecondX86),
  ];

  // Average GB stored over the span is the GB-month figure for a month like it.
  for (const [region, intervals] of [...objectIntervals(log)].sort(([a], [b]) => a.localeCompare(b))) {
    const price = PRICES.s3StandardGbMonth[region];
    const what = `S3 Standard storage of kept exports, ${region}${price === undefined ? ' (priced as us-east-1: no list price here for this region)' : ''}`;
    items.push(item(what, byteMs(intervals) / span / GB, 'GB-month', price ?? PRICES.s3StandardGbMonth['us-east-1']));
  }
  // Replication writes each copy with a PUT in the destination, so both kinds count as PUTs.
  const puts = (eventsOf(log, 'object-written').length + eventsOf(log, 'object-replicated').length) * factor;
  items.push(item('S3 PUT requests (exports and replicas)', puts / 1000, '1,000 requests', PRICES.s3PutPer1000));
  const replicatedGb = eventsOf(log, 'object-replicated').reduce((n, e) => n + e.bytes, 0) / GB * factor;
  items.push(item('Cross-region replication transfer', replicatedGb, 'GB', PRICES.interRegionTransferGb));
  items.push(item('ElastiCache backup storage beyond the free one per group', billableSnapshotByteMs(log) / span / GB, 'GB-month', PRICES.elastiCacheBackupGbMonth));
  return { days, factor, items, total: items.reduce((n, i) => n + i.cost, 0) };
}
