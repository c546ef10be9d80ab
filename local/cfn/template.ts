/**
 * CloudFormation templates as the local provider reads them: the body (JSON or YAML), its
 * parameters, conditions and the intrinsic functions, and the dependencies between resources.
 *
 * Intrinsic functions (CloudFormation User Guide, "Intrinsic function reference"): Ref, Fn::GetAtt,
 * Fn::Join, Fn::Select, Fn::Split, Fn::Sub, Fn::If, Fn::Equals, Fn::Not, Fn::And, Fn::Or,
 * Fn::FindInMap, Fn::ImportValue, Fn::GetAZs, Fn::Base64, Fn::Length, Fn::ToJsonString, Condition,
 * the pseudo parameters, and in Rules Fn::Contains, Fn::EachMemberEquals and Fn::EachMemberIn. `Fn::Transform`, `Fn::Cidr` and the `AWS::LanguageExtensions` transform
 * are not resolved: a template that uses them is refused with a clear error.
 */
import * as YAML from 'yaml';
import { ServiceError } from '../elasticache/query';

/** `AWS::NoValue`: the property it stands for is removed. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

export function validationError(message: string): ServiceError {
  return new ServiceError('ValidationError', message);
}

/** A reference to something not created yet (or not at all): resolution waits for it. */
export class NotReady extends Error {
  constructor(public readonly what: string) {
    super(`${what} is not available yet`);
  }
}

/**
 * Parses a template body as CloudFormation does: JSON, or YAML (with the short forms `!Ref`,
 * `!GetAtt`, `!Sub`, ... read as their long forms).
 */
export function parseTemplate(body: string): Record<string, any> {
  const text = body.trim();
  let template: unknown;
  if (text.startsWith('{')) {
    try {
      template = JSON.parse(text);
    } catch (e) {
      throw validationError(`Template format error: JSON not well-formed. (${(e as Error).message})`);
    }
  } else {
    try {
      template = YAML.parse(text, { customTags: SHORT_FORMS, maxAliasCount: 100, uniqueKeys: true });
    } catch (e) {
      throw validationError(`Template format error: YAML not well-formed. (${(e as Error).message.split('\n')[0]})`);
    }
  }
  if (template === null || typeof template !== 'object' || Array.isArray(template)) {
    throw validationError('Template format error: template must be a JSON or YAML object');
  }
  const t = template as Record<string, any>;
  if (t.Resources === null || typeof t.Resources !== 'object' || Array.isArray(t.Resources) || Object.keys(t.Resources).length === 0) {
    throw validationError('Template format error: At least one Resources member must be defined.');
  }
  for (const [id, r] of Object.entries<any>(t.Resources)) {
    if (!/^[A-Za-z0-9]+$/.test(id)) throw validationError(`Template format error: Resource name ${id} is non alphanumeric.`);
    if (r === null || typeof r !== 'object' || typeof r.Type !== 'string') {
      throw validationError(`Template format error: [/Resources/${id}] Every Resources object must contain a Type member.`);
    }
    if (r.Properties !== undefined && (r.Properties === null || typeof r.Properties !== 'object' || Array.isArray(r.Properties))) {
      throw validationError(`Template format error: [/Resources/${id}/Properties] Properties must be an object.`);
    }
  }
  if (t.Transform !== undefined) {
    throw validationError(`Template format error: the local provider does not run transforms (${JSON.stringify(t.Transform)}).`);
  }
  return t;
}

/** The YAML short forms of the intrinsic functions (`!Ref X` is `{ Ref: X }`, `!GetAtt A.B` is `{ Fn::GetAtt: [A, B] }`). */
const SHORT_FORMS: YAML.Tags = (() => {
  const names = ['Base64', 'Cidr', 'FindInMap', 'GetAZs', 'ImportValue', 'Join', 'Select', 'Split', 'Sub', 'Transform',
    'And', 'Equals', 'If', 'Not', 'Or', 'Length', 'ToJsonString'];
  const tags: YAML.Tags = [];
  const kinds = ['scalar', 'seq', 'map'] as const;
  for (const kind of kinds) {
    for (const name of names) {
      tags.push({ tag: `!${name}`, collection: kind === 'scalar' ? undefined : kind, resolve: (v: any) => ({ [`Fn::${name}`]: toJs(v) }) } as any);
    }
    tags.push({ tag: '!Ref', collection: kind === 'scalar' ? undefined : kind, resolve: (v: any) => ({ Ref: toJs(v) }) } as any);
    tags.push({ tag: '!Condition', collection: kind === 'scalar' ? undefined : kind, resolve: (v: any) => ({ Condition: toJs(v) }) } as any);
    tags.push({
      tag: '!GetAtt',
      collection: kind === 'scalar' ? undefined : kind,
      resolve: (v: any) => {
        const value = toJs(v);
        return { 'Fn::GetAtt': typeof value === 'string' ? splitGetAtt(value) : value };
      },
    } as any);
  }
  return tags;
})();

/** The argument shapes of the intrinsic functions (User Guide, "Intrinsic function reference"); others are the template's error. */
function checkShape(name: string, arg: any): void {
  const list = (min: number, max = min) => Array.isArray(arg) && arg.length >= min && arg.length <= max;
  let ok = true;
  switch (name) {
    case 'Ref': case 'Condition': ok = typeof arg === 'string'; break;
    case 'Fn::GetAtt': ok = typeof arg === 'string' || (list(2) && typeof arg[0] === 'string'); break;
    case 'Fn::Join': ok = list(2) && typeof arg[0] === 'string'; break;
    case 'Fn::Select': case 'Fn::Equals': case 'Fn::Contains': case 'Fn::EachMemberEquals': case 'Fn::EachMemberIn': ok = list(2); break;
    case 'Fn::Split': ok = list(2) && typeof arg[0] === 'string'; break;
    case 'Fn::Sub': ok = typeof arg === 'string' || (list(2) && typeof arg[0] === 'string' && arg[1] !== null && typeof arg[1] === 'object' && !Array.isArray(arg[1])); break;
    case 'Fn::If': ok = list(3) && typeof arg[0] === 'string'; break;
    case 'Fn::Not': ok = list(1); break;
    case 'Fn::And': case 'Fn::Or': ok = list(2, 10); break;
    case 'Fn::FindInMap': ok = list(3); break;
  }
  if (!ok) throw validationError(`Template error: ${name} has malformed arguments: ${JSON.stringify(arg)?.slice(0, 100)}`);
}

function toJs(v: any): any {
  return v && typeof v.toJSON === 'function' ? v.toJSON() : v;
}

function splitGetAtt(value: string): [string, string] {
  const dot = value.indexOf('.');
  return dot < 0 ? [value, ''] : [value.slice(0, dot), value.slice(dot + 1)];
}

/** The pseudo parameters (CloudFormation User Guide, "Pseudo parameters reference"). */
export interface Pseudo {
  readonly region: string;
  readonly account: string;
  readonly stackName: string;
  readonly stackId: string;
}

const PSEUDO = ['AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region', 'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix'];

export interface ResolverSource {
  /** The value of a resource's Ref (its physical id, for most types); throws NotReady when not created. */
  ref(logicalId: string): string;
  /** A resource's attribute; throws NotReady when not created, a ServiceError when the type has no such attribute. */
  getAtt(logicalId: string, attribute: string): unknown;
  /** An export's value (Fn::ImportValue). */
  importValue(name: string): string;
}

/** Resolves a template's intrinsic functions against parameters, conditions and what is deployed. */
export class Resolver {
  private readonly conditionValues = new Map<string, boolean>();

  constructor(
    public readonly template: Record<string, any>,
    public readonly parameters: ReadonlyMap<string, string | string[]>,
    public readonly pseudo: Pseudo,
    private readonly source: ResolverSource,
  ) {}

  /** Whether the template's condition `name` holds. */
  public condition(name: string): boolean {
    const known = this.conditionValues.get(name);
    if (known !== undefined) return known;
    const def = this.template.Conditions?.[name];
    if (def === undefined) throw validationError(`Template format error: Unresolved dependencies [${name}]. Cannot reference resources in the Conditions block of the template`);
    this.conditionValues.set(name, false); // a cycle reads as false rather than looping
    const value = this.bool(def);
    this.conditionValues.set(name, value);
    return value;
  }

  /** Whether a resource (or output) with this Condition attribute is in the stack. */
  public included(entry: { Condition?: unknown } | undefined): boolean {
    return entry?.Condition === undefined || this.condition(String(entry.Condition));
  }

  private bool(value: any): boolean {
    const r = this.resolve(value);
    if (r === true || r === 'true') return true;
    if (r === false || r === 'false') return false;
    throw validationError(`Template error: a condition must be a boolean, got ${JSON.stringify(r)}`);
  }

  /** Resolves a value; `AWS::NoValue` properties are dropped (the NO_VALUE marker at the top level). */
  public resolve(value: any): any {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v)).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0] === 'Condition' || keys[0].startsWith('Fn::'))) {
      try {
        return this.fn(keys[0], value[keys[0]]);
      } catch (e) {
        // An argument of the wrong shape (a number where a list goes, ...) is the template's error.
        if (e instanceof TypeError) throw validationError(`Template error: ${keys[0]} has malformed arguments (${e.message})`);
        throw e;
      }
    }
    const out: Record<string, any> = {};
    for (const k of keys) {
      const v = this.resolve(value[k]);
      if (v !== NO_VALUE) out[k] = v;
    }
    return out;
  }

  private fn(name: string, arg: any): any {
    checkShape(name, arg);
    switch (name) {
      case 'Ref': return this.ref(String(arg));
      case 'Condition': return this.condition(String(arg));
      case 'Fn::GetAtt': {
        const [id, attr] = Array.isArray(arg) ? [String(arg[0]), String(this.resolve(arg[1]))] : splitGetAtt(String(arg));
        return this.source.getAtt(id, attr);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg;
        const list = this.resolve(parts);
        if (!Array.isArray(list)) throw validationError('Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings');
        return list.join(sep);
      }
      case 'Fn::Select': {
        const index = Number(this.resolve(arg[0]));
        const list = this.resolve(arg[1]);
        if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
          throw validationError('Template error: Fn::Select cannot select nonexistent value at index ' + index);
        }
        return list[index];
      }
      case 'Fn::Split': return String(this.resolve(arg[1])).split(String(arg[0]));
      case 'Fn::Sub': return this.sub(arg);
      case 'Fn::If': {
        const [cond, yes, no] = arg;
        return this.resolve(this.condition(String(cond)) ? yes : no);
      }
      case 'Fn::Equals': {
        const [a, b] = (arg as any[]).map((v) => this.resolve(v));
        return String(a) === String(b);
      }
      case 'Fn::Not': return !this.bool(arg[0]);
      case 'Fn::And': return (arg as any[]).every((c) => this.bool(c));
      case 'Fn::Or': return (arg as any[]).some((c) => this.bool(c));
      case 'Fn::FindInMap': {
        const [map, top, second] = (arg as any[]).map((v) => this.resolve(v));
        const v = this.template.Mappings?.[map]?.[top]?.[second];
        if (v === undefined) throw validationError(`Template error: Unable to get mapping for ${map}::${top}::${second}`);
        return v;
      }
      case 'Fn::ImportValue': return this.source.importValue(String(this.resolve(arg)));
      case 'Fn::GetAZs': {
        const region = String(this.resolve(arg) || this.pseudo.region);
        return ['a', 'b', 'c'].map((z) => `${region}${z}`);
      }
      case 'Fn::Base64': return Buffer.from(String(this.resolve(arg))).toString('base64');
      case 'Fn::Length': {
        const list = this.resolve(arg);
        return Array.isArray(list) ? list.length : 0;
      }
      case 'Fn::ToJsonString': return JSON.stringify(this.resolve(arg));
      // Rule functions (User Guide, "Rule functions"), valid in a template's Rules.
      case 'Fn::Contains': {
        const [list, value] = (arg as any[]).map((v) => this.resolve(v));
        return Array.isArray(list) && list.map(String).includes(String(value));
      }
      case 'Fn::EachMemberEquals': {
        const [list, value] = (arg as any[]).map((v) => this.resolve(v));
        return Array.isArray(list) && list.every((v) => String(v) === String(value));
      }
      case 'Fn::EachMemberIn': {
        const [list, allowed] = (arg as any[]).map((v) => this.resolve(v));
        return Array.isArray(list) && Array.isArray(allowed) && list.every((v) => allowed.map(String).includes(String(v)));
      }
      default:
        throw validationError(`Template format error: the local provider does not resolve ${name}.`);
    }
  }

  private ref(name: string): any {
    switch (name) {
      case 'AWS::Partition': return 'aws';
      case 'AWS::Region': return this.pseudo.region;
      case 'AWS::AccountId': return this.pseudo.account;
      case 'AWS::URLSuffix': return 'amazonaws.com';
      case 'AWS::StackName': return this.pseudo.stackName;
      case 'AWS::StackId': return this.pseudo.stackId;
      case 'AWS::NotificationARNs': return [];
      case 'AWS::NoValue': return NO_VALUE;
    }
    if (this.parameters.has(name)) return this.parameters.get(name);
    if (this.template.Parameters?.[name] !== undefined) throw new NotReady(`parameter ${name}`);
    return this.source.ref(name);
  }

  private sub(arg: any): string {
    const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
    const own: Record<string, any> = {};
    for (const [k, v] of Object.entries<any>(vars ?? {})) own[k] = this.resolve(v);
    // ${!Literal} is the literal ${Literal}.
    return String(text).replace(/\$\{([^}]*)\}/g, (_whole, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      const n = name.trim();
      if (n in own) return String(own[n]);
      if (n.includes('.') && !n.startsWith('AWS::')) {
        const [id, attr] = splitGetAtt(n);
        return String(this.source.getAtt(id, attr));
      }
      const v = this.ref(n);
      if (v === NO_VALUE) return '';
      return Array.isArray(v) ? v.join(',') : String(v);
    });
  }
}

/**
 * The logical ids a value refers to (Ref, Fn::GetAtt, and names in Fn::Sub strings), whatever the
 * conditions: CloudFormation orders resources by every reference in the template.
 */
export function references(value: any, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) references(v, into);
    return into;
  }
  if (value === null || typeof value !== 'object') return into;
  for (const [k, v] of Object.entries<any>(value)) {
    if (k === 'Ref' && typeof v === 'string') {
      into.add(v);
    } else if (k === 'Fn::GetAtt') {
      into.add(Array.isArray(v) ? String(v[0]) : splitGetAtt(String(v))[0]);
    } else if (k === 'Fn::Sub') {
      const [text, vars] = Array.isArray(v) ? v : [v, {}];
      const own = new Set(Object.keys(vars ?? {}));
      for (const m of String(text).matchAll(/\$\{([^}!][^}]*)\}/g)) {
        const name = m[1].trim();
        if (own.has(name)) continue;
        into.add(name.includes('.') && !name.startsWith('AWS::') ? splitGetAtt(name)[0] : name);
      }
      references(vars, into);
    } else {
      references(v, into);
    }
  }
  return into;
}

/**
 * The resources each resource depends on (DependsOn and references), among `ids`. Refuses a
 * reference to something that is neither a parameter, a pseudo parameter nor a resource, and a
 * cycle, with CloudFormation's messages.
 */
export function dependencies(template: Record<string, any>, ids: string[]): Map<string, Set<string>> {
  const all = new Set(Object.keys(template.Resources ?? {}));
  const params = new Set(Object.keys(template.Parameters ?? {}));
  const deps = new Map<string, Set<string>>();
  const unresolved = new Set<string>();
  for (const id of ids) {
    const r = template.Resources[id];
    const set = new Set<string>();
    for (const name of references(r.Properties ?? {})) {
      if (params.has(name) || PSEUDO.includes(name)) continue;
      if (!all.has(name)) {
        unresolved.add(name);
        continue;
      }
      set.add(name);
    }
    for (const d of r.DependsOn === undefined ? [] : [].concat(r.DependsOn)) {
      if (!all.has(d)) {
        throw validationError(`Template format error: Unresolved resource dependencies [${d}] in the Resources block of the template`);
      }
      set.add(d);
    }
    // Outside the stack (a condition left them out): CloudFormation refuses the reference at run time.
    deps.set(id, new Set([...set].filter((d) => ids.includes(d))));
  }
  if (unresolved.size > 0) {
    throw validationError(`Template format error: Unresolved resource dependencies [${[...unresolved].join(', ')}] in the Resources block of the template`);
  }
  // A cycle: what cannot be ordered.
  const done = new Set<string>();
  let progress = true;
  while (progress) {
    progress = false;
    for (const [id, set] of deps) {
      if (!done.has(id) && [...set].every((d) => done.has(d))) {
        done.add(id);
        progress = true;
      }
    }
  }
  if (done.size < deps.size) {
    const cycle = [...deps.keys()].filter((id) => !done.has(id));
    throw validationError(`Circular dependency between resources: [${cycle.join(', ')}]`);
  }
  return deps;
}

/** Deep equality of two resolved values (as JSON). */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: any): any {
  if (Array.isArray(v)) return v.map(canonical);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
}

/**
 * Checks a template's Rules against the parameter values (User Guide, "Rules"): a rule whose
 * RuleCondition holds (or that has none) must have every Assert true, else the change set is
 * refused with the AssertDescription. A rule using a function the local provider does not evaluate
 * (Fn::ValueOf, Fn::RefAll, ...) is not checked.
 */
export function checkRules(template: Record<string, any>, resolver: Resolver): void {
  for (const [name, rule] of Object.entries<any>(template.Rules ?? {})) {
    let applies: unknown;
    const failed: string[] = [];
    try {
      applies = rule.RuleCondition === undefined ? true : resolver.resolve(rule.RuleCondition);
      if (applies !== true && applies !== 'true') continue;
      for (const a of rule.Assertions ?? []) {
        const ok = resolver.resolve(a.Assert);
        if (ok !== true && ok !== 'true') failed.push(a.AssertDescription ?? `Assertion failed for rule ${name}`);
      }
    } catch (e) {
      // A function not evaluated here, or a parameter left without a value (deployStack's SSM-typed
      // parameters that are not in the Parameter Store): the rule is not checked.
      if ((e instanceof ServiceError && /does not resolve/.test(e.message)) || e instanceof NotReady) continue;
      throw e;
    }
    if (failed.length > 0) throw validationError(failed.join(' '));
  }
}
