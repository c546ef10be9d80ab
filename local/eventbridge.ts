/**
 * EventBridge rules on the default event bus, as far as this library's constructs use them:
 * schedule rules (`rate(...)`, `cron(...)`) that fire on the provider's simulated clock, and event
 * pattern rules that receive the status changes of Step Functions executions; their targets are
 * state machines (StartExecution), Lambda functions (an asynchronous invoke) and SNS topics
 * (Publish), each given the event or the target's Input, InputPath or InputTransformer.
 *
 * Schedule expressions as the EventBridge user guide defines them ("Creating an Amazon EventBridge
 * rule that runs on a schedule", cron and rate expressions): cron has six fields (minutes, hours,
 * day of month, month, day of week, year), in UTC, and one of the two day fields must be `?`;
 * rate is `rate(value unit)` with a positive whole value, a singular unit for 1 and a plural one
 * otherwise. Occurrences of a cron expression are computed with aws-cron-parser (which implements
 * that syntax, L, W and # included, but does not validate: the fields are checked here first).
 * A rate rule first fires one period after it is created (UNCONFIRMED: AWS says only that the
 * schedule starts when the rule is created).
 *
 * Not emulated: other event buses, archives, replays, API destinations, retry policies and
 * dead-letter queues, targets of other services (refused when a rule is created).
 */
import { randomUUID } from 'crypto';
import awsCronParser from 'aws-cron-parser';
import { BusEvent, matchesPattern, targetInput } from './events';
import type { LocalProvider } from './provider';
import { LOCAL_ACCOUNT } from './sts';

/** EventBridge's own errors (API reference: ValidationException, ResourceNotFoundException). */
export class EventBridgeError extends Error {
  constructor(public readonly code: string, message: string) {
    super(message);
  }
}

export interface RuleTarget {
  readonly Id: string;
  readonly Arn: string;
  readonly Input?: string;
  readonly InputPath?: string;
  readonly InputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate: string };
  readonly RoleArn?: string;
}

export interface PutRuleOptions {
  readonly name: string;
  readonly scheduleExpression?: string;
  /** The event pattern, as JSON text or an object. */
  readonly eventPattern?: string | Record<string, unknown>;
  /** @default 'ENABLED' */
  readonly state?: string;
  readonly description?: string;
}

interface Schedule {
  /** Occurrences in (from, to], in order. */
  between(from: number, to: number): number[];
}

export interface Rule {
  readonly name: string;
  readonly arn: string;
  readonly region: string;
  readonly state: 'ENABLED' | 'DISABLED';
  readonly scheduleExpression?: string;
  readonly eventPattern?: Record<string, unknown>;
  readonly description?: string;
  readonly createdAt: number;
  targets: RuleTarget[];
  readonly schedule?: Schedule;
}

/** One delivery of an event to a target: when, what it was given, and how it went. */
export interface Invocation {
  readonly region: string;
  readonly rule: string;
  readonly targetId: string;
  readonly targetArn: string;
  /** Simulated ms since the epoch: the scheduled time, or when the event happened. */
  readonly at: number;
  readonly input: unknown;
  /** What the target answered (an execution ARN, a message id), or why it failed. */
  readonly result?: string;
  readonly error?: string;
}

/** A rule name: 1 to 64 of letters, digits, `.`, `-`, `_` (API reference, PutRule `Name`). */
const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;

const MINUTE = 60_000;
const UNITS: Record<string, number> = { minute: MINUTE, hour: 60 * MINUTE, day: 24 * 60 * MINUTE };

/** Each cron field: its range (names allowed in Month and Day-of-week) and the wildcards it takes (user guide, "Cron expressions"). */
const CRON_FIELDS: Array<{ name: string; min: number; max: number; names?: string[]; extra: string }> = [
  { name: 'Minutes', min: 0, max: 59, extra: '' },
  { name: 'Hours', min: 0, max: 23, extra: '' },
  { name: 'Day-of-month', min: 1, max: 31, extra: '?LW' },
  { name: 'Month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'], extra: '' },
  { name: 'Day-of-week', min: 1, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'], extra: '?L#' },
  { name: 'Year', min: 1970, max: 2199, extra: '' },
];

function invalidSchedule(expression: string, why: string): EventBridgeError {
  return new EventBridgeError('ValidationException', `Parameter ScheduleExpression is not valid: ${JSON.stringify(expression)}: ${why}.`);
}

/** Checks one cron field against its range and wildcards; throws naming the field and the rule. */
function checkCronField(expression: string, field: typeof CRON_FIELDS[number], text: string): void {
  const value = (v: string) => {
    const upper = v.toUpperCase();
    const named = field.names?.indexOf(upper) ?? -1;
    const n = named >= 0 ? named + 1 : /^\d+$/.test(v) ? Number(v) : NaN;
    if (!(n >= field.min && n <= field.max)) throw invalidSchedule(expression, `${field.name} value ${v} is not ${field.min}-${field.max}${field.names ? ` or ${field.names[0]}-${field.names[field.names.length - 1]}` : ''}`);
  };
  if (text === '*' || (text === '?' && field.extra.includes('?'))) return;
  for (const part of text.split(',')) {
    if (field.extra.includes('L') && (part === 'L' || (field.name === 'Day-of-week' && /^[1-7A-Za-z]{1,3}L$/.test(part)))) {
      if (part !== 'L') value(part.slice(0, -1));
      continue;
    }
    if (field.extra.includes('W') && /^(\d+W|LW)$/.test(part)) {
      if (part !== 'LW') value(part.slice(0, -1));
      continue;
    }
    if (field.extra.includes('#') && part.includes('#')) {
      const [day, nth] = part.split('#');
      value(day);
      if (!/^[1-5]$/.test(nth)) throw invalidSchedule(expression, `${field.name} ${part}: the # occurrence must be 1-5`);
      continue;
    }
    const [range, step] = part.split('/');
    if (step !== undefined && !(/^\d+$/.test(step) && Number(step) > 0)) throw invalidSchedule(expression, `${field.name} increment /${step} is not a positive whole number`);
    if (range === '*' && step !== undefined) continue;
    const ends = range.split('-');
    if (ends.length > 2 || ends.some((e) => e === '')) throw invalidSchedule(expression, `${field.name} ${JSON.stringify(part)} is not a value, range, list or increment`);
    ends.forEach(value);
  }
}

/**
 * Parses a schedule expression, or throws ValidationException naming what is wrong. A rate's
 * occurrences are counted from `anchor` (a rule's creation time), the first one period after it.
 */
export function parseSchedule(expression: string, anchor = 0): Schedule {
  if (typeof expression !== 'string') throw invalidSchedule(String(expression), 'it must be a string');
  const rate = /^rate\((.*)\)$/.exec(expression);
  if (rate) {
    const m = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(rate[1]);
    if (!m || Number(m[1]) < 1) throw invalidSchedule(expression, 'a rate is rate(value unit) with a positive whole value and a unit of minute(s), hour(s) or day(s)');
    const value = Number(m[1]);
    const unit = m[2];
    if ((value === 1) !== !unit.endsWith('s')) throw invalidSchedule(expression, `use the singular unit for 1 and the plural one for more (rate(1 ${unit.replace(/s$/, '')}), rate(${Math.max(value, 2)} ${unit.replace(/s?$/, 's')}))`);
    const period = value * UNITS[unit.replace(/s$/, '')];
    return {
      between(from, to) {
        const out: number[] = [];
        const first = Math.max(1, Math.floor((from - anchor) / period) + 1);
        for (let t = anchor + first * period; t <= to; t += period) out.push(t);
        return out;
      },
    };
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (!cron) throw invalidSchedule(expression, 'a schedule is rate(value unit) or cron(minutes hours day-of-month month day-of-week year)');
  const fields = cron[1].trim().split(/\s+/);
  if (fields.length !== 6) throw invalidSchedule(expression, `cron takes 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`);
  fields.forEach((text, i) => checkCronField(expression, CRON_FIELDS[i], text));
  if ((fields[2] === '?') === (fields[4] === '?')) {
    throw invalidSchedule(expression, 'one of Day-of-month and Day-of-week must be ?, and only one');
  }
  const parsed = awsCronParser.parse(cron[1].trim());
  return {
    between(from, to) {
      const out: number[] = [];
      // next() answers the first occurrence strictly after the given time.
      let at = awsCronParser.next(parsed, new Date(from));
      while (at && at.getTime() <= to) {
        out.push(at.getTime());
        at = awsCronParser.next(parsed, at);
      }
      return out;
    },
  };
}

export class LocalEventBridge {
  /** Rules by `region/name`. */
  private readonly rules = new Map<string, Rule>();
  private readonly delivered: Invocation[] = [];

  constructor(private readonly provider: LocalProvider) {
    provider.clock.onAdvance(async (from, to) => this.fireSchedules(from, to));
  }

  /** Creates or updates a rule (PutRule); its targets are kept. */
  public putRule(region: string, o: PutRuleOptions): Rule {
    if (typeof o.name !== 'string' || !RULE_NAME.test(o.name)) {
      throw new EventBridgeError('ValidationException', `Rule name ${JSON.stringify(o.name)} must be 1 to 64 letters, digits, '.', '-' or '_'.`);
    }
    if (o.scheduleExpression === undefined && o.eventPattern === undefined) {
      throw new EventBridgeError('ValidationException', 'Parameter(s) EventPattern or ScheduleExpression must be specified.');
    }
    const state = o.state ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') throw new EventBridgeError('ValidationException', `State ${JSON.stringify(state)} must be ENABLED or DISABLED.`);
    let eventPattern: Record<string, unknown> | undefined;
    if (o.eventPattern !== undefined) {
      try {
        eventPattern = typeof o.eventPattern === 'string' ? JSON.parse(o.eventPattern) : o.eventPattern;
      } catch (e) {
        throw new EventBridgeError('InvalidEventPatternException', `Event pattern is not valid JSON: ${(e as Error).message}`);
      }
      // The pattern's operators this emulation cannot match are refused now, not when an event comes.
      try {
        matchesPattern(eventPattern!, {});
      } catch (e) {
        throw new EventBridgeError('InvalidEventPatternException', `Event pattern is not emulated: ${(e as Error).message}`);
      }
    }
    const key = `${region}/${o.name}`;
    const createdAt = this.rules.get(key)?.createdAt ?? this.provider.clock.now();
    const schedule = o.scheduleExpression !== undefined ? parseSchedule(o.scheduleExpression, createdAt) : undefined;
    const rule: Rule = {
      name: o.name,
      arn: `arn:aws:events:${region}:${LOCAL_ACCOUNT}:rule/${o.name}`,
      region,
      state,
      scheduleExpression: o.scheduleExpression,
      eventPattern,
      description: o.description,
      createdAt,
      targets: this.rules.get(key)?.targets ?? [],
      schedule,
    };
    this.rules.set(key, rule);
    return rule;
  }

  /** Sets a rule's targets (PutTargets replaces those with the same Id; with `replaceAll`, the others go too, as RemoveTargets would). */
  public putTargets(region: string, name: string, targets: RuleTarget[], options: { replaceAll?: boolean } = {}): void {
    const rule = this.rule(region, name);
    for (const t of targets) {
      if (typeof t?.Id !== 'string' || typeof t.Arn !== 'string') throw new EventBridgeError('ValidationException', 'Each target needs an Id and an Arn.');
      if (!/^arn:aws:(states|lambda|sns):/.test(t.Arn)) {
        throw new EventBridgeError('ValidationException', `Target ${t.Id}: the local provider delivers to Step Functions state machines, Lambda functions and SNS topics only, not ${t.Arn}.`);
      }
    }
    const kept = options.replaceAll ? [] : rule.targets.filter((t) => !targets.some((n) => n.Id === t.Id));
    rule.targets = [...kept, ...targets];
  }

  /** Deletes a rule (DeleteRule); one that does not exist is fine. */
  public deleteRule(region: string, name: string): void {
    this.rules.delete(`${region}/${name}`);
  }

  public rule(region: string, name: string): Rule {
    const rule = this.rules.get(`${region}/${name}`);
    if (!rule) throw new EventBridgeError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus default.`);
    return rule;
  }

  /** What was delivered, in order (all regions, or one). */
  public invocations(region?: string): Invocation[] {
    return this.delivered.filter((i) => region === undefined || i.region === region);
  }

  /** Sends an event to the default bus of its region: every enabled pattern rule that matches it delivers it. */
  public async putEvent(event: BusEvent): Promise<void> {
    for (const rule of this.rules.values()) {
      if (rule.region !== event.region || rule.state !== 'ENABLED' || !rule.eventPattern) continue;
      if (!matchesPattern(rule.eventPattern, event as unknown as Record<string, unknown>)) continue;
      await this.deliver(rule, event, Date.parse(event.time));
    }
  }

  /** Fires each enabled schedule rule's occurrences in (from, to], in time order. */
  private async fireSchedules(from: number, to: number): Promise<void> {
    const due: Array<{ at: number; rule: Rule }> = [];
    for (const rule of this.rules.values()) {
      if (rule.state !== 'ENABLED' || !rule.schedule) continue;
      for (const at of rule.schedule.between(from, to)) due.push({ at, rule });
    }
    due.sort((a, b) => a.at - b.at);
    for (const { at, rule } of due) {
      // Deleted or disabled by an earlier firing's work: no more.
      if (this.rules.get(`${rule.region}/${rule.name}`) !== rule || rule.state !== 'ENABLED') continue;
      const event: BusEvent = {
        'version': '0',
        'id': randomUUID(),
        'detail-type': 'Scheduled Event',
        'source': 'aws.events',
        'account': LOCAL_ACCOUNT,
        // Scheduled events carry their time to the second (user guide, "Scheduled events").
        'time': new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        'region': rule.region,
        'resources': [rule.arn],
        'detail': {},
      };
      await this.deliver(rule, event, at);
    }
  }

  private async deliver(rule: Rule, event: BusEvent, at: number): Promise<void> {
    for (const target of rule.targets) {
      const base = { region: rule.region, rule: rule.name, targetId: target.Id, targetArn: target.Arn, at };
      let input: unknown;
      try {
        input = targetInput(target, event);
        const result = await this.send(target.Arn, rule.region, input, at);
        this.delivered.push({ ...base, input, result });
      } catch (e) {
        // A failed delivery is recorded; EventBridge retries and drops it (retries not emulated).
        this.delivered.push({ ...base, input, error: (e as Error).message });
      }
    }
  }

  private async send(arn: string, region: string, input: unknown, at: number): Promise<string> {
    const text = JSON.stringify(input ?? null);
    const targetRegion = arn.split(':')[3] || region;
    if (arn.startsWith('arn:aws:states:')) {
      return this.provider.stepFunctions.startExecution(targetRegion, arn, text, undefined, at).arn;
    }
    if (arn.startsWith('arn:aws:lambda:')) {
      // An asynchronous invoke: EventBridge does not wait for the function.
      void this.provider.lambda.invoke(targetRegion, arn, text).catch(() => undefined);
      return 'invoked';
    }
    const params = new URLSearchParams({ Action: 'Publish', Version: '2010-03-31', TopicArn: arn, Message: typeof input === 'string' ? input : text });
    const xml = this.provider.sns.handle(targetRegion, params.toString());
    return /<MessageId>([^<]+)<\/MessageId>/.exec(xml)?.[1] ?? 'published';
  }
}
