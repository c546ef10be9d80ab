/**
 * The AWS Query protocol as ElastiCache speaks it: form-encoded requests
 * (`Action=CreateSnapshot&Version=2015-02-02&Tags.Tag.1.Key=…`) and XML responses.
 */
import { randomUUID } from 'crypto';

export const XMLNS = 'http://elasticache.amazonaws.com/doc/2015-02-02/';

/** An error ElastiCache returns: its wire code (the SDK picks the exception class from it), HTTP status and message. */
export class ServiceError extends Error {
  constructor(public readonly code: string, message: string, public readonly status = 400) {
    super(message);
  }
}

/** The parameters of one request. */
export class QueryParams {
  constructor(private readonly params: URLSearchParams) {}

  public get action(): string {
    return this.params.get('Action') ?? '';
  }

  /** A string parameter, or undefined. */
  public str(name: string): string | undefined {
    const v = this.params.get(name);
    return v === null ? undefined : v;
  }

  /** A required string parameter. */
  public required(name: string): string {
    const v = this.str(name);
    if (v === undefined || v === '') {
      throw new ServiceError('InvalidParameterValue', `The parameter ${name} must be provided and must not be blank.`);
    }
    return v;
  }

  /** An integer parameter, or undefined. */
  public int(name: string): number | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) {
      throw new ServiceError('InvalidParameterValue', `Invalid value for parameter ${name}: ${v} is not an integer.`);
    }
    return n;
  }

  /** A boolean parameter, or undefined. */
  public bool(name: string): boolean | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    return v.toLowerCase() === 'true';
  }

  /** A list of strings sent as `Name.Member.1`, `Name.Member.2`, … */
  public list(name: string, member: string): string[] {
    return this.indexed(`${name}.${member}`).map((prefix) => this.params.get(prefix) ?? '');
  }

  /** A list of structures sent as `Name.Member.1.Field`, … : each item's fields by name. */
  public structs(name: string, member: string): Array<Record<string, string>> {
    const prefix = `${name}.${member}.`;
    const items = new Map<number, Record<string, string>>();
    for (const [key, value] of this.params) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const dot = rest.indexOf('.');
      if (dot < 0) continue;
      const index = Number(rest.slice(0, dot));
      const item = items.get(index) ?? {};
      item[rest.slice(dot + 1)] = value;
      items.set(index, item);
    }
    return [...items.entries()].sort(([a], [b]) => a - b).map(([, v]) => v);
  }

  private indexed(prefix: string): string[] {
    const keys: Array<[number, string]> = [];
    for (const key of this.params.keys()) {
      const m = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)$`).exec(key);
      if (m) keys.push([Number(m[1]), key]);
    }
    return keys.sort(([a], [b]) => a - b).map(([, k]) => k);
  }
}

/**
 * The element names of list members in ElastiCache's responses (the `xmlName` of each list's
 * member in the service model). Lists not named here use `member`.
 */
const LIST_MEMBERS: Record<string, string> = {
  MemberClusters: 'ClusterId',
  NodeGroups: 'NodeGroup',
  NodeGroupMembers: 'NodeGroupMember',
  ReplicationGroups: 'ReplicationGroup',
  Snapshots: 'Snapshot',
  NodeSnapshots: 'NodeSnapshot',
  CacheClusters: 'CacheCluster',
  CacheNodes: 'CacheNode',
  TagList: 'Tag',
  SecurityGroups: 'member',
  UserGroupIds: 'member',
};

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Serializes a plain value as the XML ElastiCache writes: elements named after fields, lists wrapped. */
export function toXml(name: string, value: unknown): string {
  if (value === undefined || value === null) {
    return '';
  }
  if (Array.isArray(value)) {
    const member = LIST_MEMBERS[name] ?? 'member';
    return `<${name}>${value.map((v) => toXml(member, v)).join('')}</${name}>`;
  }
  if (value instanceof Date) {
    return `<${name}>${value.toISOString()}</${name}>`;
  }
  if (typeof value === 'object') {
    const inner = Object.entries(value as Record<string, unknown>).map(([k, v]) => toXml(k, v)).join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escape(String(value))}</${name}>`;
}

/**
 * A successful response: `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…`, in
 * ElastiCache's namespace unless another Query service's is given.
 */
export function resultXml(action: string, result: Record<string, unknown> | undefined, xmlns: string = XMLNS): string {
  const body = result === undefined ? '' : toXml(`${action}Result`, result);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${xmlns}">${body}`
    + `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
}

/** An error response as ElastiCache (or another Query service, by its namespace) writes it. */
export function errorXml(error: ServiceError, xmlns: string = XMLNS): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${xmlns}"><Error><Type>Sender</Type>`
    + `<Code>${escape(error.code)}</Code><Message>${escape(error.message)}</Message></Error>`
    + `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}
