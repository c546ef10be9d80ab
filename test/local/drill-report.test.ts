import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { monthlyCost, PRICES } from '../../local/drill/cost';
import { checkDrillLog, DrillEvent, DrillLog, eventsOf } from '../../local/drill/events';
import { escapeXml, measure, renderMarkdown, renderSvg, summaryLines, writeReport } from '../../local/drill/report';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const GB = 1024 ** 3;
const START = Date.UTC(2026, 0, 5);

interface Shape {
  /** The day whose export fails. */
  failDay: number;
  /** When the outage is declared, and how long the restore and the cutover take after it. */
  outageAt: number;
  restoreMs: number;
  cutoverMs: number;
  exportBytes: number;
}

const DEFAULT: Shape = { failDay: 3, outageAt: START + 6 * DAY + 10 * HOUR, restoreMs: 30 * MIN, cutoverMs: 5 * MIN, exportBytes: 200 * 1024 ** 2 };

/**
 * Seven simulated days: 250 writes every 6 hours, a daily export at 03:00 (snapshot, export,
 * replication to eu-west-1, prune of exports older than 3 days), one failed export, an outage on
 * day 6, a restore of the last export, the DNS cutover and the keys read back.
 */
function buildLog(shape: Partial<Shape> = {}): DrillLog {
  const s = { ...DEFAULT, ...shape };
  const events: DrillEvent[] = [];
  let written = 0;
  let survived = 0;
  const kept: string[] = [];
  for (let d = 0; d < 7; d++) {
    const base = START + d * DAY;
    for (let h = 0; h < 24; h += 6) {
      const at = base + h * HOUR + 30 * MIN;
      if (at >= s.outageAt) break;
      written += 250;
      events.push({ at, type: 'writes', count: 250, lastKey: `key:${written}`, lastAckAt: at });
    }
    const exportAt = base + 3 * HOUR;
    if (exportAt >= s.outageAt) continue;
    // The group's automatic backup at 01:00, kept for two days (snapshot retention 2).
    events.push({ at: base + HOUR, type: 'snapshot-taken', kind: 'automatic', group: 'orders', name: `auto-${d}`, bytes: s.exportBytes });
    if (d >= 2) events.push({ at: base + HOUR + MIN, type: 'snapshot-deleted', name: `auto-${d - 2}` });
    const snap = `orders-${d}`;
    events.push({ at: exportAt, type: 'snapshot-taken', kind: 'manual', group: 'orders', name: snap, bytes: s.exportBytes });
    events.push({ at: exportAt + MIN, type: 'run-started', runId: `export-${d}`, stateMachine: 'OrdersExport', kind: 'export' });
    if (d === s.failDay) {
      events.push({
        at: exportAt + 9 * MIN,
        type: 'run-ended',
        runId: `export-${d}`,
        status: 'FAILED',
        stateTransitions: 9,
        lambda: { invocations: 3, durationMs: 900, memoryMb: 128 },
        error: 'SnapshotFailed',
        cause: 'Snapshot orders-3 ended in status failed',
      });
      events.push({ at: exportAt + 10 * MIN, type: 'snapshot-deleted', name: snap });
      continue;
    }
    const key = `exports/orders/${snap}.rdb`;
    events.push({ at: exportAt + 5 * MIN, type: 'object-written', region: 'us-east-1', bucket: 'exports', key, bytes: s.exportBytes });
    events.push({ at: exportAt + 8 * MIN, type: 'object-replicated', fromRegion: 'us-east-1', region: 'eu-west-1', bucket: 'exports-replica', key, bytes: s.exportBytes });
    kept.push(key);
    while (kept.length > 3) {
      const old = kept.shift()!;
      events.push({ at: exportAt + 10 * MIN, type: 'object-pruned', region: 'us-east-1', bucket: 'exports', key: old });
      events.push({ at: exportAt + 10 * MIN, type: 'object-pruned', region: 'eu-west-1', bucket: 'exports-replica', key: old });
    }
    events.push({ at: exportAt + 11 * MIN, type: 'snapshot-deleted', name: snap });
    events.push({ at: exportAt + 12 * MIN, type: 'run-ended', runId: `export-${d}`, status: 'SUCCEEDED', stateTransitions: 14, lambda: { invocations: 5, durationMs: 2000, memoryMb: 128 } });
    // The export holds every write acknowledged before its snapshot.
    survived = events.filter((e) => e.type === 'writes' && e.at < exportAt).length * 250;
  }
  events.push({ at: s.outageAt, type: 'outage-declared', region: 'us-east-1' });
  events.push({ at: s.outageAt + MIN, type: 'restore-started', group: 'orders-standby' });
  events.push({ at: s.outageAt + s.restoreMs, type: 'restore-succeeded', group: 'orders-standby' });
  events.push({ at: s.outageAt + s.restoreMs + s.cutoverMs, type: 'dns-in-sync', name: 'orders.example.internal' });
  events.push({ at: s.outageAt + s.restoreMs + s.cutoverMs + MIN, type: 'keys-read-back', count: survived });
  events.sort((a, b) => a.at - b.at);
  return checkDrillLog({ startedAt: START, endedAt: START + 7 * DAY, events });
}

describe('drill measures', () => {
  test('RPO and RTO come from the log', () => {
    const log = buildLog();
    const m = measure(log);
    const writes = eventsOf(log, 'writes');
    const readBack = eventsOf(log, 'keys-read-back')[0].count;
    expect(m.writesAcknowledged).toBe(writes.reduce((n, w) => n + w.count, 0));
    expect(m.writesLost).toBe(m.writesAcknowledged - readBack);
    expect(m.writesLost).toBeGreaterThan(0);
    // The day-6 export at 03:00 holds the 00:30 batch; 06:30 is the first lost one.
    expect(m.lastSurvivingWriteAt).toBe(START + 6 * DAY + 30 * MIN);
    expect(m.lastSurvivingWriteExact).toBe(true);
    expect(m.rpoMs).toBe(DEFAULT.outageAt - (START + 6 * DAY + 30 * MIN));
    expect(m.rtoMs).toBe(DEFAULT.restoreMs + DEFAULT.cutoverMs);
    expect(m.runs).toHaveLength(7);
    expect(m.runs.filter((r) => r.status === 'FAILED').map((r) => r.runId)).toEqual(['export-3']);
  });

  test('a different log gives different numbers', () => {
    const a = measure(buildLog());
    const b = measure(buildLog({ outageAt: START + 6 * DAY + 20 * HOUR, restoreMs: 50 * MIN, failDay: 5 }));
    expect(b.rtoMs).toBe(55 * MIN);
    expect(b.rtoMs).not.toBe(a.rtoMs);
    // With the day-6 export still the last, two more batches (12:30, 18:30) are written and lost.
    expect(b.writesLost).toBe(a.writesLost + 500);
    expect(b.rpoMs).toBe(20 * HOUR - 30 * MIN);
    expect(b.runs.find((r) => r.status === 'FAILED')?.runId).toBe('export-5');
  });

  test('a read-back count inside a batch is flagged as inexact', () => {
    const log = buildLog();
    const events = log.events.map((e) => (e.type === 'keys-read-back' ? { ...e, count: e.count - 10 } : e));
    const m = measure({ ...log, events });
    expect(m.lastSurvivingWriteExact).toBe(false);
    expect(m.lastSurvivingWriteAt).toBe(START + 5 * DAY + 18 * HOUR + 30 * MIN);
  });

  test('a read-back that timed its newest survivor gives the exact RPO time', () => {
    const log = buildLog();
    const outageAt = eventsOf(log, 'outage-declared')[0].at;
    const events = log.events.map((e) => (e.type === 'keys-read-back' ? { ...e, count: e.count - 10, lastSurvivingWriteAt: outageAt - 7 * HOUR - 3 * MIN } : e));
    const m = measure({ ...log, events });
    expect(m.lastSurvivingWriteExact).toBe(true);
    expect(m.rpoMs).toBe(7 * HOUR + 3 * MIN);
  });

  test('bad logs are refused with the rule named', () => {
    expect(() => checkDrillLog({ startedAt: 10, endedAt: 5, events: [] })).toThrow(/endedAt \(5\) must be a number after startedAt/);
    expect(() => checkDrillLog({ startedAt: 0, endedAt: 10, events: [{ at: 5, type: 'bogus' }] })).toThrow(/events\[0\]\.type "bogus" is not one of/);
    expect(() => checkDrillLog({ startedAt: 0, endedAt: 10, events: [{ at: 5, type: 'outage-declared' }, { at: 4, type: 'dns-in-sync' }] })).toThrow(/events\[1\].*time order/);
  });
});

describe('drill cost', () => {
  const line = (c: ReturnType<typeof monthlyCost>, prefix: string) => c.items.find((i) => i.what.startsWith(prefix))!;

  test('Step Functions and Lambda lines follow the runs in the log', () => {
    const log = buildLog();
    const cost = monthlyCost(log);
    const ended = eventsOf(log, 'run-ended');
    expect(cost.days).toBe(7);
    const transitions = ended.reduce((n, r) => n + r.stateTransitions, 0) * 30 / 7;
    expect(line(cost, 'Step Functions').cost).toBeCloseTo(transitions / 1000 * PRICES.stateTransitionPer1000, 12);
    const gbs = ended.reduce((n, r) => n + r.lambda.durationMs / 1000 * r.lambda.memoryMb / 1024, 0) * 30 / 7;
    expect(line(cost, 'Lambda duration').quantity).toBeCloseTo(gbs, 9);
    expect(line(cost, 'Lambda requests').quantity).toBeCloseTo(ended.reduce((n, r) => n + r.lambda.invocations, 0) * 30 / 7 / 1e6, 12);
    expect(cost.total).toBeCloseTo(cost.items.reduce((n, i) => n + i.cost, 0), 12);
    for (const i of cost.items) expect(i.cost).toBeCloseTo(i.quantity * i.unitPrice, 12);
  });

  test('S3 storage is the average kept in each region; replication transfer is the bytes copied', () => {
    const log = buildLog();
    const cost = monthlyCost(log);
    // Hand count for us-east-1: objects written on days 0,1,2,4,5,6 at 03:05; each kept until the
    // prune after the fourth later export (03:10) or the end of day 7.
    const writtenDays = [0, 1, 2, 4, 5, 6];
    const prunedOn: Record<number, number> = { 0: 4, 1: 5, 2: 6 };
    const removedAt = (d: number) => (prunedOn[d] !== undefined ? prunedOn[d] * DAY + 3 * HOUR + 10 * MIN : 7 * DAY);
    const heldMs = writtenDays.reduce((n, d) => n + removedAt(d) - (d * DAY + 3 * HOUR + 5 * MIN), 0);
    expect(line(cost, 'S3 Standard storage of kept exports, us-east-1').quantity).toBeCloseTo(DEFAULT.exportBytes * heldMs / (7 * DAY) / GB, 9);
    expect(line(cost, 'S3 Standard storage of kept exports, eu-west-1').quantity).toBeGreaterThan(0);
    expect(line(cost, 'Cross-region replication').quantity).toBeCloseTo(6 * DEFAULT.exportBytes / GB * 30 / 7, 9);
    expect(line(cost, 'S3 PUT').quantity).toBeCloseTo(12 * 30 / 7 / 1000, 12);
    // Twice the bytes, twice the storage.
    const doubled = monthlyCost(buildLog({ exportBytes: 2 * DEFAULT.exportBytes }));
    expect(line(doubled, 'S3 Standard storage of kept exports, us-east-1').cost).toBeCloseTo(2 * line(cost, 'S3 Standard storage of kept exports, us-east-1').cost, 9);
  });

  test('the drill log\'s backups beyond the free one are billed', () => {
    // From day 1 01:00 two automatic backups are held, one of them free; on days 2-6 a third for the
    // minute before the oldest is deleted; each export's manual snapshot is extra for its 11 minutes
    // (10 for the failed one).
    const extraMs = (7 * DAY - (DAY + HOUR)) + 5 * MIN + 6 * 11 * MIN + 10 * MIN;
    const billed = line(monthlyCost(buildLog()), 'ElastiCache backup').quantity;
    expect(billed).toBeCloseTo(DEFAULT.exportBytes * extraMs / (7 * DAY) / GB, 12);
  });

  test('one snapshot per group is free; the rest is billed by time held', () => {
    const base = { startedAt: 0, endedAt: 10 * DAY };
    const one = monthlyCost(checkDrillLog({ ...base, events: [{ at: 0, type: 'snapshot-taken', kind: 'automatic', group: 'g', name: 'a', bytes: GB }] }));
    expect(line(one, 'ElastiCache backup').quantity).toBe(0);
    // A second 2 GB snapshot of the same group for 5 of the 10 days: the smaller (1 GB) is billed for half the span.
    const two = monthlyCost(checkDrillLog({
      ...base,
      events: [
        { at: 0, type: 'snapshot-taken', kind: 'automatic', group: 'g', name: 'a', bytes: GB },
        { at: 2 * DAY, type: 'snapshot-taken', kind: 'manual', group: 'g', name: 'b', bytes: 2 * GB },
        { at: 7 * DAY, type: 'snapshot-deleted', name: 'b' },
        { at: 7 * DAY, type: 'snapshot-taken', kind: 'automatic', group: 'other', name: 'c', bytes: 4 * GB },
      ],
    }));
    expect(line(two, 'ElastiCache backup').quantity).toBeCloseTo(0.5, 12);
    expect(line(two, 'ElastiCache backup').cost).toBeCloseTo(0.5 * PRICES.elastiCacheBackupGbMonth, 12);
  });

  test('a region without a list price here is priced as us-east-1, and its line says so', () => {
    const log = checkDrillLog({ startedAt: 0, endedAt: DAY, events: [{ at: 0, type: 'object-written', region: 'ap-southeast-2', bucket: 'b', key: 'k', bytes: GB }] });
    const storage = line(monthlyCost(log), 'S3 Standard storage of kept exports, ap-southeast-2');
    expect(storage.what).toMatch(/priced as us-east-1/);
    expect(storage.unitPrice).toBe(PRICES.s3StandardGbMonth['us-east-1']);
    expect(storage.quantity).toBeCloseTo(1, 12);
  });
});

describe('drill report rendering', () => {
  test('the SVG is XML with a mark per export run and the outage band', () => {
    const log = buildLog();
    const svg = renderSvg(log, measure(log));
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(svg);
    const rects: any[] = [].concat(doc.svg.rect);
    const exportsRuns = rects.filter((r) => String(r.class ?? '').includes('run-export'));
    expect(exportsRuns).toHaveLength(eventsOf(log, 'run-started').filter((r) => r.kind === 'export').length);
    expect(exportsRuns.filter((r) => r.class.includes('run-failed'))).toHaveLength(1);
    const band = rects.filter((r) => r.class === 'outage');
    expect(band).toHaveLength(1);
    // The band spans the RTO: 35 minutes of a 7-day axis (at least the 2-pixel minimum).
    expect(Number(band[0].width)).toBeGreaterThanOrEqual(2);
    expect(svg).not.toMatch(/<script|@import|url\(/);
  });

  test('text is escaped in the SVG and the Markdown', () => {
    const log = buildLog();
    const events = log.events.map((e) => (e.type === 'run-ended' && e.status === 'FAILED' ? { ...e, error: '<bad>&"x"|y' } : e));
    const hostile = { ...log, events };
    const m = measure(hostile);
    expect(XMLValidator.validate(renderSvg(hostile, m))).toBe(true);
    expect(renderSvg(hostile, m)).toContain(escapeXml('(<bad>&"x"|y)'));
    expect(renderMarkdown(hostile, m, monthlyCost(hostile))).toContain('<bad>&"x"\\|y');
  });

  test('the Markdown has the recovery, runs and cost tables; the summary says RPO, RTO, cost', () => {
    const log = buildLog();
    const m = measure(log);
    const cost = monthlyCost(log);
    const md = renderMarkdown(log, m, cost);
    expect(md).toContain('![Timeline');
    expect(md).toContain(`| Writes lost (RPO) | ${m.writesLost} |`);
    expect(md).toContain('| RTO | 35m |');
    expect(md.match(/^\| export-\d /gm)).toHaveLength(7);
    expect(md).toMatch(/\| export-3 \| OrdersExport \| export \| day 3\.13 \| 8m \| FAILED \| 9 \| 3 \| 900 \| SnapshotFailed: /);
    expect(md).toContain(`**$${cost.total.toFixed(cost.total < 1 ? 4 : 2)}**`);
    const lines = summaryLines(m, cost, '/tmp/x/report.md');
    expect(lines[0]).toBe(`RPO: ${m.writesLost} of ${m.writesAcknowledged} acknowledged writes lost; last surviving write 9h 30m before the outage`);
    expect(lines[1]).toContain('RTO: 35m');
    expect(lines[3]).toBe('Report: /tmp/x/report.md');
  });

  test('writeReport writes the report, the timeline and the log, and the log reads back', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-report-'));
    try {
      const log = buildLog();
      const written = writeReport(dir, log);
      expect(fs.readFileSync(written.reportPath, 'utf8')).toContain('](timeline.svg)');
      expect(XMLValidator.validate(fs.readFileSync(written.svgPath, 'utf8'))).toBe(true);
      const again = checkDrillLog(JSON.parse(fs.readFileSync(written.logPath, 'utf8')));
      expect(measure(again)).toEqual(measure(log));
      expect(written.lines.at(-1)).toBe(`Report: ${written.reportPath}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
