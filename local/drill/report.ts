/**
 * The DR drill's report, computed from its event log: RPO and RTO as measured on the simulated
 * clock, every workflow run, the monthly cost, and an SVG timeline. Rendering is pure; `writeReport`
 * is the one function that touches the file system.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CostEstimate, monthlyCost } from './cost';
import { DAY_MS, DrillEvent, DrillLog, RunKind, RunStatus, eventsOf } from './events';

export interface RunRow {
  readonly runId: string;
  readonly stateMachine: string;
  readonly kind: RunKind;
  readonly startedAt: number;
  readonly endedAt?: number;
  /** Undefined while the log holds no end for the run. */
  readonly status?: RunStatus;
  readonly stateTransitions: number;
  readonly lambdaInvocations: number;
  readonly lambdaDurationMs: number;
  readonly error?: string;
  readonly cause?: string;
}

export interface Measures {
  readonly writesAcknowledged: number;
  readonly keysReadBack: number;
  /** RPO in writes: acknowledged writes that were not read back. */
  readonly writesLost: number;
  readonly outageAt?: number;
  /** When the last write that survived was acknowledged (the last batch wholly read back). */
  readonly lastSurvivingWriteAt?: number;
  /** False when the read-back count ends inside a batch: the time is then the last whole batch's. */
  readonly lastSurvivingWriteExact: boolean;
  /** RPO in time: outage declared minus the last surviving write. */
  readonly rpoMs?: number;
  /** RTO: outage declared to the first DNS in-sync after it. */
  readonly rtoMs?: number;
  readonly dnsInSyncAt?: number;
  readonly runs: readonly RunRow[];
}

/** RPO, RTO and the runs, from the log alone. */
export function measure(log: DrillLog): Measures {
  const writes = eventsOf(log, 'writes');
  const writesAcknowledged = writes.reduce((n, w) => n + w.count, 0);
  const readBack = eventsOf(log, 'keys-read-back');
  const last = readBack[readBack.length - 1];
  const keysReadBack = last ? last.count : 0;
  // Writes are acknowledged in order, so the keys read back are the first `keysReadBack` writes:
  // the newest survivor is in the batch where the count runs out, unless the reader timed it itself.
  let cumulative = 0;
  let lastSurvivingWriteAt: number | undefined;
  let exact = true;
  for (const w of writes) {
    if (cumulative + w.count <= keysReadBack) {
      cumulative += w.count;
      lastSurvivingWriteAt = w.lastAckAt;
    } else {
      exact = cumulative === keysReadBack;
      break;
    }
  }
  if (last?.lastSurvivingWriteAt !== undefined) {
    lastSurvivingWriteAt = last.lastSurvivingWriteAt;
    exact = true;
  }
  const outageAt = eventsOf(log, 'outage-declared')[0]?.at;
  const dnsInSyncAt = outageAt === undefined ? undefined : eventsOf(log, 'dns-in-sync').find((e) => e.at >= outageAt)?.at;
  const runs = new Map<string, RunRow>();
  for (const e of log.events) {
    if (e.type === 'run-started') {
      const { runId, stateMachine, kind } = e;
      runs.set(runId, { runId, stateMachine, kind, startedAt: e.at, stateTransitions: 0, lambdaInvocations: 0, lambdaDurationMs: 0 });
    } else if (e.type === 'run-ended') {
      const started = runs.get(e.runId);
      if (!started) throw new Error(`drill log: run-ended for run ${e.runId} at ${e.at} has no run-started before it`);
      runs.set(e.runId, {
        ...started,
        endedAt: e.at,
        status: e.status,
        stateTransitions: e.stateTransitions,
        lambdaInvocations: e.lambda.invocations,
        lambdaDurationMs: e.lambda.durationMs,
        error: e.error,
        cause: e.cause,
      });
    }
  }
  return {
    writesAcknowledged,
    keysReadBack,
    writesLost: writesAcknowledged - keysReadBack,
    outageAt,
    lastSurvivingWriteAt,
    lastSurvivingWriteExact: exact,
    rpoMs: outageAt !== undefined && lastSurvivingWriteAt !== undefined ? outageAt - lastSurvivingWriteAt : undefined,
    rtoMs: outageAt !== undefined && dnsInSyncAt !== undefined ? dnsInSyncAt - outageAt : undefined,
    dnsInSyncAt,
    runs: [...runs.values()],
  };
}

/** 93784000 -> "1d 2h 3m 4s"; undefined -> "not measured". */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return 'not measured';
  const s = Math.round(ms / 1000);
  const parts = [[Math.floor(s / 86400), 'd'], [Math.floor(s / 3600) % 24, 'h'], [Math.floor(s / 60) % 60, 'm'], [s % 60, 's']] as const;
  const shown = parts.filter(([n]) => n > 0).map(([n, u]) => `${n}${u}`);
  return shown.length ? shown.join(' ') : '0s';
}

const usd = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`;
const day = (log: DrillLog, at: number) => `day ${((at - log.startedAt) / DAY_MS).toFixed(2)}`;

/** The console lines: RPO, RTO, cost, where the report is. */
export function summaryLines(m: Measures, cost: CostEstimate, reportPath?: string): string[] {
  const rpoTime = m.rpoMs === undefined ? 'not measured' : `${formatDuration(m.rpoMs)}${m.lastSurvivingWriteExact ? '' : ' (at least)'}`;
  return [
    `RPO: ${m.writesLost} of ${m.writesAcknowledged} acknowledged writes lost; last surviving write ${rpoTime} before the outage`,
    `RTO: ${formatDuration(m.rtoMs)} from outage declared to DNS in sync (simulated clock)`,
    `Cost: ${usd(cost.total)} per month at list prices, no free tiers (extrapolated from ${cost.days.toFixed(1)} simulated days)`,
    ...(reportPath ? [`Report: ${reportPath}`] : []),
  ];
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The Markdown report; `svgFile` is the timeline's file name next to it. */
export function renderMarkdown(log: DrillLog, m: Measures, cost: CostEstimate, svgFile = 'timeline.svg'): string {
  const when = (at: number | undefined) => (at === undefined ? '—' : day(log, at));
  const lines = [
    '# DR drill report', '',
    `![Timeline: days, exports, replication, outage, restore, cutover](${svgFile})`, '',
    ...summaryLines(m, cost).map((l) => `- ${l}`), '',
    '## Recovery', '',
    '| Measure | Value |', '|---|---|',
    `| Writes acknowledged | ${m.writesAcknowledged} |`,
    `| Keys read back | ${m.keysReadBack} |`,
    `| Writes lost (RPO) | ${m.writesLost} |`,
    `| Last surviving write | ${when(m.lastSurvivingWriteAt)}${m.lastSurvivingWriteExact ? '' : ' (last whole batch)'} |`,
    `| Outage declared | ${when(m.outageAt)} |`,
    `| RPO (time) | ${formatDuration(m.rpoMs)} |`,
    `| DNS in sync | ${when(m.dnsInSyncAt)} |`,
    `| RTO | ${formatDuration(m.rtoMs)} |`, '',
    '## Workflow runs', '',
    '| Run | State machine | Kind | Started | Duration | Status | State transitions | Lambda invocations | Lambda ms | Error |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...m.runs.map((r) => `| ${cell(r.runId)} | ${cell(r.stateMachine)} | ${r.kind} | ${day(log, r.startedAt)} | ${formatDuration(r.endedAt === undefined ? undefined : r.endedAt - r.startedAt)} | ${r.status ?? 'RUNNING'} | ${r.stateTransitions} | ${r.lambdaInvocations} | ${r.lambdaDurationMs} | ${cell([r.error, r.cause].filter(Boolean).join(': ') || '—')} |`),
    '',
    `## Monthly cost (list prices, us-east-1 and eu-west-1, free tiers not applied; ${cost.days.toFixed(2)} simulated days x ${cost.factor.toFixed(3)})`, '',
    '| Item | Quantity | Unit | Unit price | Cost |', '|---|---|---|---|---|',
    ...cost.items.map((i) => `| ${cell(i.what)} | ${Number(i.quantity.toPrecision(6))} | ${i.unit} | $${i.unitPrice} | ${usd(i.cost)} |`),
    `| **Total** | | | | **${usd(cost.total)}** |`, '',
    'Prices and their sources are in local/drill/cost.ts (PRICES); lines marked UNCONFIRMED there were not confirmed on AWS pages.', '',
  ];
  return lines.join('\n');
}

/** Escapes text for SVG/XML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' }[c]!));
}

const LANES = ['Writes', 'Snapshots', 'Export runs', 'Replication', 'Restore', 'Cutover'] as const;
const COLOURS = { ok: '#2e7d32', failed: '#c62828', neutral: '#1565c0', muted: '#757575', outage: '#ef9a9a' };

/** The timeline: x in days, one lane per kind of event, the outage as a band over every lane. */
export function renderSvg(log: DrillLog, m: Measures): string {
  const width = 1000; const left = 110; const right = 20; const top = 40; const laneH = 40;
  const height = top + LANES.length * laneH + 40;
  const plot = width - left - right;
  const x = (at: number) => left + ((at - log.startedAt) / (log.endedAt - log.startedAt)) * plot;
  const laneY = (lane: typeof LANES[number]) => top + LANES.indexOf(lane) * laneH;
  const mid = (lane: typeof LANES[number]) => laneY(lane) + laneH / 2;
  const out: string[] = [];
  const title = (t: string) => `<title>${escapeXml(t)}</title>`;
  // Lanes and their labels.
  LANES.forEach((lane, i) => {
    out.push(`<rect x="${left}" y="${top + i * laneH}" width="${plot}" height="${laneH}" fill="${i % 2 ? '#fafafa' : '#f0f0f0'}"/>`);
    out.push(`<text x="${left - 8}" y="${top + i * laneH + laneH / 2 + 4}" text-anchor="end">${escapeXml(lane)}</text>`);
  });
  // Day ticks.
  const days = Math.floor((log.endedAt - log.startedAt) / DAY_MS);
  for (let d = 0; d <= days; d++) {
    const tx = x(log.startedAt + d * DAY_MS).toFixed(1);
    out.push(`<line x1="${tx}" y1="${top}" x2="${tx}" y2="${height - 30}" stroke="#bdbdbd"/>`);
    out.push(`<text x="${tx}" y="${height - 14}" text-anchor="middle">day ${d}</text>`);
  }
  // The outage: a band from its declaration to DNS in sync (or the end), over all lanes.
  if (m.outageAt !== undefined) {
    const to = m.dnsInSyncAt ?? log.endedAt;
    out.push(`<rect class="outage" x="${x(m.outageAt).toFixed(1)}" y="${top}" width="${Math.max(2, x(to) - x(m.outageAt)).toFixed(1)}" height="${LANES.length * laneH}" fill="${COLOURS.outage}" fill-opacity="0.45">${title(`outage declared ${day(log, m.outageAt)}; RTO ${formatDuration(m.rtoMs)}`)}</rect>`);
    const nearEnd = x(m.outageAt) > width - 160;
    out.push(`<text x="${(x(m.outageAt) + (nearEnd ? -4 : 4)).toFixed(1)}" y="14" text-anchor="${nearEnd ? 'end' : 'start'}" fill="${COLOURS.failed}">outage, RTO ${escapeXml(formatDuration(m.rtoMs))}</text>`);
    // RPO: a bracket in the writes lane from the last surviving write to the outage.
    if (m.lastSurvivingWriteAt !== undefined) {
      const y = laneY('Writes') + laneH - 4;
      out.push(`<line class="rpo" x1="${x(m.lastSurvivingWriteAt).toFixed(1)}" y1="${y}" x2="${x(m.outageAt).toFixed(1)}" y2="${y}" stroke="${COLOURS.failed}" stroke-width="3">${title(`RPO ${formatDuration(m.rpoMs)}, ${m.writesLost} writes lost`)}</line>`);
      out.push(`<text x="${(x(m.lastSurvivingWriteAt) - 4).toFixed(1)}" y="${top - 8}" text-anchor="end" fill="${COLOURS.failed}">RPO ${escapeXml(formatDuration(m.rpoMs))}, ${m.writesLost} writes lost</text>`);
    }
  }
  const mark = (e: DrillEvent): string | undefined => {
    const ex = x(e.at).toFixed(1);
    switch (e.type) {
      case 'writes':
        return `<line class="write" x1="${ex}" y1="${laneY('Writes') + 10}" x2="${ex}" y2="${laneY('Writes') + laneH - 10}" stroke="${COLOURS.neutral}">${title(`${e.count} writes, last ${e.lastKey}`)}</line>`;
      case 'snapshot-taken':
        return `<circle class="snapshot" cx="${ex}" cy="${mid('Snapshots')}" r="5" fill="${e.kind === 'manual' ? COLOURS.neutral : COLOURS.muted}">${title(`${e.kind} snapshot ${e.name} (${e.bytes} bytes)`)}</circle>`;
      case 'object-replicated':
        return `<line class="replication" x1="${ex}" y1="${laneY('Replication') + 10}" x2="${ex}" y2="${laneY('Replication') + laneH - 10}" stroke="${COLOURS.ok}" stroke-width="2">${title(`replicated ${e.key} to ${e.region}`)}</line>`;
      case 'dns-in-sync':
        return `<path class="cutover" d="M${ex} ${mid('Cutover') - 8} l8 8 l-8 8 l-8 -8 z" fill="${COLOURS.ok}">${title(`DNS ${e.name} in sync`)}</path>`;
      default:
        return undefined;
    }
  };
  for (const e of log.events) {
    const s = mark(e);
    if (s) out.push(s);
  }
  // Runs: exports in their lane, restores and rehearsals in the restore lane; colour by outcome.
  for (const r of m.runs) {
    const lane = r.kind === 'export' ? 'Export runs' : 'Restore';
    if (r.status !== undefined && r.status !== 'SUCCEEDED') {
      out.push(`<text x="${x(r.startedAt).toFixed(1)}" y="${laneY(lane) + 6}" font-size="10" fill="${COLOURS.failed}">${escapeXml(r.error ?? r.status)}</text>`);
    }
    const end = r.endedAt ?? log.endedAt;
    const colour = r.status === 'SUCCEEDED' ? COLOURS.ok : r.status === undefined ? COLOURS.muted : COLOURS.failed;
    out.push(`<rect class="run run-${r.kind} run-${(r.status ?? 'running').toLowerCase()}" x="${x(r.startedAt).toFixed(1)}" y="${laneY(lane) + 8}" width="${Math.max(4, x(end) - x(r.startedAt)).toFixed(1)}" height="${laneH - 16}" fill="${colour}">${title(`${r.runId}: ${r.status ?? 'RUNNING'}${r.error ? ` (${r.error})` : ''}`)}</rect>`);
  }
  // Restore attempts outside a workflow (the drill's own restore events).
  for (const e of log.events) {
    if (e.type === 'restore-succeeded' || e.type === 'restore-failed') {
      const started = eventsOf(log, 'restore-started').filter((s) => s.group === e.group && s.at <= e.at).pop();
      const from = started?.at ?? e.at;
      out.push(`<rect class="restore" x="${x(from).toFixed(1)}" y="${mid('Restore') - 3}" width="${Math.max(4, x(e.at) - x(from)).toFixed(1)}" height="6" fill="${e.type === 'restore-succeeded' ? COLOURS.ok : COLOURS.failed}">${title(`restore of ${e.group} ${e.type === 'restore-succeeded' ? 'succeeded' : `failed: ${e.cause}`}`)}</rect>`);
    }
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    '<title>DR drill timeline</title>',
    ...out,
    '</svg>', '',
  ].join('\n');
}

export interface WrittenReport {
  readonly reportPath: string;
  readonly svgPath: string;
  readonly logPath: string;
  readonly lines: string[];
}

/** Writes report.md, timeline.svg and drill-log.json into `dir`; returns the paths and the summary. */
export function writeReport(dir: string, log: DrillLog): WrittenReport {
  const m = measure(log);
  const cost = monthlyCost(log);
  fs.mkdirSync(dir, { recursive: true });
  const reportPath = path.join(dir, 'report.md');
  const svgPath = path.join(dir, 'timeline.svg');
  const logPath = path.join(dir, 'drill-log.json');
  fs.writeFileSync(logPath, JSON.stringify(log, null, 2));
  fs.writeFileSync(svgPath, renderSvg(log, m));
  fs.writeFileSync(reportPath, renderMarkdown(log, m, cost, path.basename(svgPath)));
  return { reportPath, svgPath, logPath, lines: summaryLines(m, cost, reportPath) };
}
