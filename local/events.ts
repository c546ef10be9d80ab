/**
 * EventBridge rules of a deployed template, as far as the workflows need them: which rules an event
 * matches (event patterns of exact values, nested as EventBridge nests them) and what input each
 * target receives (`Input`, `InputPath`, `InputTransformer` or the whole event).
 *
 * Pattern operators (prefix, anything-but, numeric, exists, ...) are not emulated: a pattern that
 * uses one is refused rather than matched loosely.
 */
import type { Deployment } from './deploy';

/** An event as EventBridge delivers it. */
export interface BusEvent {
  readonly 'version': '0';
  readonly 'id': string;
  readonly 'detail-type': string;
  readonly 'source': string;
  readonly 'account': string;
  readonly 'time': string;
  readonly 'region': string;
  readonly 'resources': string[];
  readonly 'detail': Record<string, unknown>;
}

/** One delivery: the target's ARN, its resolved input, and the rule it came from. */
export interface Delivery {
  readonly rule: string;
  readonly targetArn: string;
  readonly input: unknown;
}

/** Does `event` match `pattern`? Every field of the pattern must match; a list matches any of its values. */
export function matchesPattern(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([field, want]) => {
    const have = event[field];
    if (Array.isArray(want)) {
      for (const w of want) {
        if (w !== null && typeof w === 'object') {
          throw new Error(`event pattern operator ${JSON.stringify(w)} on '${field}' is not emulated`);
        }
      }
      const values = Array.isArray(have) ? have : [have];
      return values.some((v) => want.includes(v as never));
    }
    if (want !== null && typeof want === 'object') {
      return have !== null && typeof have === 'object' && !Array.isArray(have)
        && matchesPattern(want as Record<string, unknown>, have as Record<string, unknown>);
    }
    throw new Error(`event pattern field '${field}' must be a list or an object, got ${JSON.stringify(want)}`);
  });
}

/** The value at a JSONPath of the simple form EventBridge input paths use (`$.detail.status`). */
function at(event: unknown, path: string): unknown {
  if (path === '$') return event;
  if (!path.startsWith('$.')) throw new Error(`input path ${path} is not emulated`);
  return path.slice(2).split('.').reduce<any>((v, key) => (v == null ? undefined : v[key]), event);
}

/** What a target receives for `event`. */
export function targetInput(target: any, event: BusEvent): unknown {
  if (target.Input !== undefined) return JSON.parse(target.Input);
  if (target.InputPath !== undefined) return at(event, target.InputPath);
  const transformer = target.InputTransformer;
  if (!transformer) return event;
  const values = Object.fromEntries(Object.entries<string>(transformer.InputPathsMap ?? {}).map(([name, path]) => [name, at(event, path)]));
  // Placeholders take the JSON text of their value (a string keeps its quotes), as in a JSON template.
  const text = String(transformer.InputTemplate).replace(/<([A-Za-z0-9_.-]+)>/g, (whole, name: string) =>
    (name in values ? (values[name] === undefined ? 'null' : JSON.stringify(values[name])) : whole));
  return JSON.parse(text);
}

/** The deliveries EventBridge makes for `event` on the default bus of a deployed stack. */
export function deliveries(d: Deployment, event: BusEvent): Delivery[] {
  const out: Delivery[] = [];
  for (const [id, resource] of Object.entries<any>(d.template.Resources ?? {})) {
    if (resource.Type !== 'AWS::Events::Rule') continue;
    const props = d.resolve(resource.Properties ?? {});
    if (!props.EventPattern || props.State === 'DISABLED' || (props.EventBusName && props.EventBusName !== 'default')) continue;
    if (!matchesPattern(props.EventPattern, event as unknown as Record<string, unknown>)) continue;
    for (const target of props.Targets ?? []) {
      out.push({ rule: id, targetArn: target.Arn, input: targetInput(target, event) });
    }
  }
  return out;
}
