/**
 * The emulated Route 53 of the local provider (REST-XML, `/2013-04-01/…`): hosted zones, record
 * changes with Route 53's validation errors, changes that are PENDING and then INSYNC, and a
 * resolver that answers with what has gone in sync, as DNS would.
 */
import { randomBytes, randomUUID } from 'crypto';
import { isIPv4, isIPv6 } from 'net';
import { Clock } from './clock';
import { MalformedXml, parseStrictXml } from './strict-xml';

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';

/** The record types Route 53 accepts (API reference, ResourceRecordSet, Type). */
const RR_TYPES = ['SOA', 'A', 'TXT', 'NS', 'CNAME', 'MX', 'NAPTR', 'PTR', 'SRV', 'SPF', 'AAAA', 'CAA', 'DS', 'TLSA', 'SSHFP', 'SVCB', 'HTTPS'];
const ACTIONS = ['CREATE', 'DELETE', 'UPSERT'];
/**
 * Route 53's quotas on one ChangeResourceRecordSets request: at most 1,000 ResourceRecord elements,
 * and at most 32,000 characters in all Value elements together (API reference,
 * ChangeResourceRecordSets; Developer Guide, "Quotas"). Past them Route 53 answers InvalidChangeBatch.
 */
const MAX_RECORDS_PER_REQUEST = 1000;
const MAX_VALUE_CHARS_PER_REQUEST = 32_000;

/**
 * Route 53 validates a body against its XML schema before anything else and answers InvalidInput
 * with the schema validator's message, `Invalid XML ; cvc-…` (as the existing messages here).
 */
function invalidXml(detail: string): Route53Error {
  return new Route53Error('InvalidInput', `Invalid XML ; ${detail}`);
}

function enumeration(value: unknown, allowed: string[]): string {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw invalidXml(`cvc-enumeration-valid: Value '${String(value ?? '')}' is not facet-valid with respect to enumeration '[${allowed.join(', ')}]'. It must be a value from the enumeration.`);
  }
  return value;
}

/** A TTL: xs:long from 0 to 2147483647 in Route 53's schema. */
function ttlOf(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[+-]?\d+$/.test(value.trim())) {
    throw invalidXml(`cvc-datatype-valid.1.2.1: '${String(value)}' is not a valid value for 'integer'.`);
  }
  const ttl = Number(value);
  if (ttl < 0) throw invalidXml(`cvc-minInclusive-valid: Value '${value}' is not facet-valid with respect to minInclusive '0' for type 'TTL'.`);
  if (ttl > 2147483647) throw invalidXml(`cvc-maxInclusive-valid: Value '${value}' is not facet-valid with respect to maxInclusive '2147483647' for type 'TTL'.`);
  return ttl;
}

/** Parses a Route 53 request body strictly. */
function route53Xml(body: string, root: string, arrays: string[] = []): Record<string, any> {
  try {
    return parseStrictXml(body, root, arrays);
  } catch (e) {
    if (e instanceof MalformedXml) throw invalidXml(e.message);
    throw e;
  }
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw invalidXml(`cvc-type.3.1.2: Element '${what}' is a simple type, so it must have no element information item [children].`);
  return value;
}

/** Problems with a record's values that Route 53 reports in an InvalidChangeBatch (its RDATA checks). */
function valueProblems(record: RecordSet): string[] {
  return record.values.flatMap((v) => {
    if (record.type === 'A' && !isIPv4(v)) {
      return [`Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '${v}''`];
    }
    if (record.type === 'AAAA' && !isIPv6(v)) {
      return [`Invalid Resource Record: 'FATAL problem: AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address) encountered with '${v}''`];
    }
    if (['CNAME', 'NS', 'PTR'].includes(record.type) && !isDomainName(v)) {
      return [`Invalid Resource Record: 'FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with '${v}''`];
    }
    if (['TXT', 'SPF'].includes(record.type) && !/^"(?:[^"\\]|\\.)*"(?:\s+"(?:[^"\\]|\\.)*")*$/.test(v)) {
      return [`Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '${v}''`];
    }
    return [];
  });
}

/** A domain name as Route 53 takes one: labels of 1 to 63 characters, 255 in all, optional final dot. */
function isDomainName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  return bare.length > 0 && bare.length <= 255 && bare.split('.').every((label) => label.length > 0 && label.length <= 63 && /^[\x21-\x7e]+$/.test(label));
}

export class Route53Error extends Error {
  constructor(public readonly code: string, message: string, public readonly status = 400) {
    super(message);
  }
}

export interface RecordSet {
  readonly name: string;
  readonly type: string;
  readonly ttl?: number;
  readonly values: string[];
}

type Action = 'CREATE' | 'UPSERT' | 'DELETE';

interface Change {
  readonly id: string;
  readonly zoneId: string;
  readonly submittedAt: number;
  readonly syncAt: number;
  readonly changes: Array<{ action: Action; record: RecordSet }>;
  applied: boolean;
}

interface Zone {
  readonly id: string;
  readonly name: string;
  readonly callerReference: string;
  readonly comment?: string;
  readonly privateZone: boolean;
  /** What ListResourceRecordSets shows: changes apply here at once. */
  readonly records: Map<string, RecordSet>;
  /** What resolvers answer: changes apply here when they are INSYNC. */
  readonly published: Map<string, RecordSet>;
}

/** Faults a test can inject into Route 53. */
export interface Route53Faults {
  /** The next N ChangeResourceRecordSets calls fail with this error code (e.g. Throttling, PriorRequestNotComplete). */
  rejectChanges: number;
  rejectCode: string;
}

function fqdn(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

function recordKey(name: string, type: string): string {
  return `${fqdn(name)}|${type}`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function el(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `<${name}>${escape(String(value))}</${name}>`;
}

export interface Route53Response {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function xml(root: string, inner: string, status = 200, headers: Record<string, string> = {}): Route53Response {
  return { status, headers: { 'content-type': 'text/xml', ...headers }, body: `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${NS}">${inner}</${root}>` };
}

export class Route53 {
  public static errorBody(error: Route53Error): string {
    return `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type>${el('Code', error.code)}${el('Message', error.message)}</Error>${el('RequestId', randomUUID())}</ErrorResponse>`;
  }
  public readonly faults: Route53Faults = { rejectChanges: 0, rejectCode: 'Throttling' };
  private readonly zones = new Map<string, Zone>();
  private readonly changes = new Map<string, Change>();

  /** @param syncDelay simulated time a change stays PENDING */
  constructor(private readonly clock: Clock, private readonly syncDelay: number) {}

  // ---- the model ---------------------------------------------------------------------------

  public createZone(name: string, callerReference: string, comment?: string, privateZone = false): { zone: Zone; change: Change } {
    if ([...this.zones.values()].some((z) => z.callerReference === callerReference)) {
      throw new Route53Error('HostedZoneAlreadyExists', `A hosted zone has already been created with the specified caller reference ${callerReference}.`, 409);
    }
    const id = `Z${randomBytes(10).toString('hex').toUpperCase().slice(0, 19)}`;
    const zoneName = fqdn(name);
    const soa: RecordSet = { name: zoneName, type: 'SOA', ttl: 900, values: [`ns-1.local. hostmaster.${zoneName} 1 7200 900 1209600 86400`] };
    const ns: RecordSet = { name: zoneName, type: 'NS', ttl: 172800, values: ['ns-1.local.', 'ns-2.local.'] };
    const zone: Zone = {
      id,
      name: zoneName,
      callerReference,
      comment,
      privateZone,
      records: new Map([[recordKey(zoneName, 'SOA'), soa], [recordKey(zoneName, 'NS'), ns]]),
      published: new Map([[recordKey(zoneName, 'SOA'), soa], [recordKey(zoneName, 'NS'), ns]]),
    };
    this.zones.set(id, zone);
    return { zone, change: this.newChange(id, []) };
  }

  /** Removes a zone (its records are answered no more at once); the change is the deletion's. */
  public deleteZone(id: string): Change {
    const zone = this.zone(id);
    this.zones.delete(zone.id);
    return this.newChange(zone.id, []);
  }

  public zone(id: string): Zone {
    const zone = this.zones.get(id.replace(/^\/hostedzone\//, ''));
    if (!zone) {
      throw new Route53Error('NoSuchHostedZone', `No hosted zone found with ID: ${id}`, 404);
    }
    return zone;
  }

  public listZones(): Zone[] {
    return [...this.zones.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  private newChange(zoneId: string, changes: Change['changes']): Change {
    const now = this.clock.now();
    const change: Change = { id: `C${randomBytes(10).toString('hex').toUpperCase().slice(0, 19)}`, zoneId, submittedAt: now, syncAt: now + this.syncDelay, changes, applied: false };
    this.changes.set(change.id, change);
    return change;
  }

  /** Validates and applies a change batch, all or nothing, with Route 53's messages. */
  public changeRecords(zoneId: string, changes: Array<{ action: Action; record: RecordSet }>): Change {
    const zone = this.zone(zoneId);
    if (this.faults.rejectChanges > 0) {
      this.faults.rejectChanges--;
      throw new Route53Error(this.faults.rejectCode, `Injected fault: ${this.faults.rejectCode}`);
    }
    if (changes.length === 0) {
      throw new Route53Error('InvalidInput', 'Invalid XML ; cvc-complex-type.2.4.b: The content of element \'Changes\' is not complete.');
    }
    const records = changes.reduce((n, c) => n + c.record.values.length, 0);
    if (records > MAX_RECORDS_PER_REQUEST) {
      throw new Route53Error('InvalidChangeBatch', `Number of records limit of ${MAX_RECORDS_PER_REQUEST} exceeded.`);
    }
    const chars = changes.reduce((n, c) => n + c.record.values.reduce((m, v) => m + v.length, 0), 0);
    if (chars > MAX_VALUE_CHARS_PER_REQUEST) {
      throw new Route53Error('InvalidChangeBatch', `Number of characters limit of ${MAX_VALUE_CHARS_PER_REQUEST} exceeded.`);
    }
    const next = new Map(zone.records);
    const problems: string[] = [];
    for (const { action, record } of changes) {
      const name = fqdn(record.name);
      const key = recordKey(name, record.type);
      const describe = `[name='${name}', type='${record.type}']`;
      if (!isDomainName(name)) {
        problems.push(`Invalid Resource Record: FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with '${record.name}'`);
        continue;
      }
      if (name !== zone.name && !name.endsWith(`.${zone.name}`)) {
        problems.push(`RRSet with DNS name ${name} is not permitted in zone ${zone.name}`);
        continue;
      }
      if (record.type === 'CNAME' && name === zone.name) {
        problems.push(`RRSet of type CNAME with DNS name ${name} is not permitted at apex in zone ${zone.name}`);
        continue;
      }
      if (action !== 'DELETE') {
        if (record.values.length === 0) {
          problems.push(`Invalid Resource Record: FATAL problem: No resource records in ${describe}`);
          continue;
        }
        if (record.ttl === undefined) {
          problems.push(`Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=${action}, Name=${name}, Type=${record.type}, SetIdentifier=null]`);
          continue;
        }
        const invalid = valueProblems(record);
        if (invalid.length > 0) {
          problems.push(...invalid);
          continue;
        }
        if (record.type === 'CNAME' && record.values.length > 1) {
          problems.push(`Invalid Resource Record: FATAL problem: RRSet of type CNAME with DNS name ${name} may only have one record`);
          continue;
        }
        const others = [...next.values()].filter((r) => fqdn(r.name) === name && r.type !== record.type);
        if ((record.type === 'CNAME' && others.length > 0) || others.some((r) => r.type === 'CNAME')) {
          problems.push(`RRSet of type ${record.type} with DNS name ${name} is not permitted because a conflicting RRSet of type ${record.type === 'CNAME' ? others[0].type : 'CNAME'} with the same DNS name already exists in zone ${zone.name}`);
          continue;
        }
      }
      const existing = next.get(key);
      if (action === 'CREATE') {
        if (existing) {
          problems.push(`Tried to create resource record set ${describe} but it already exists`);
          continue;
        }
        next.set(key, { ...record, name });
      } else if (action === 'UPSERT') {
        next.set(key, { ...record, name });
      } else {
        if (!existing) {
          problems.push(`Tried to delete resource record set ${describe} but it was not found`);
          continue;
        }
        if (existing.ttl !== record.ttl || existing.values.join('\n') !== record.values.join('\n')) {
          problems.push(`Tried to delete resource record set ${describe} but the values provided do not match the current values`);
          continue;
        }
        next.delete(key);
      }
    }
    if (problems.length > 0) {
      throw new Route53Error('InvalidChangeBatch', `[${problems.join(', ')}]`);
    }
    zone.records.clear();
    for (const [k, v] of next) zone.records.set(k, v);
    return this.newChange(zone.id, changes.map(({ action, record }) => ({ action, record: { ...record, name: fqdn(record.name) } })));
  }

  /** The change's status; a change past its sync time is INSYNC and its records are published. */
  public changeStatus(change: Change): 'PENDING' | 'INSYNC' {
    this.publishDue();
    return change.applied ? 'INSYNC' : 'PENDING';
  }

  public change(id: string): Change {
    // The id on the wire is the bare id: the JavaScript SDK strips `/change/` from GetChange's Id,
    // Step Functions' AWS SDK integration (the Java SDK) does not, and Route 53 then answers
    // NoSuchChange (aws-sdk-go-v2 issue 1838 shows the same for a prefixed id).
    const change = this.changes.get(id);
    if (!change) {
      throw new Route53Error('NoSuchChange', `A change with the specified change ID does not exist: ${id}`, 404);
    }
    return change;
  }

  private publishDue(): void {
    const now = this.clock.now();
    const due = [...this.changes.values()].filter((c) => !c.applied && c.syncAt <= now).sort((a, b) => a.submittedAt - b.submittedAt);
    for (const change of due) {
      const zone = this.zones.get(change.zoneId);
      if (zone) {
        for (const { action, record } of change.changes) {
          const key = recordKey(record.name, record.type);
          if (action === 'DELETE') zone.published.delete(key);
          else zone.published.set(key, record);
        }
      }
      change.applied = true;
    }
  }

  /**
   * What a DNS resolver would answer for `name`: the values of its record of `type` (following a
   * CNAME when asked for another type), from changes that are INSYNC. Empty when there is none.
   */
  public resolve(name: string, type = 'CNAME'): string[] {
    this.publishDue();
    const target = fqdn(name);
    const zone = this.zoneOf(target);
    if (!zone) return [];
    const record = zone.published.get(recordKey(target, type));
    if (record) return [...record.values];
    const cname = zone.published.get(recordKey(target, 'CNAME'));
    return cname && type !== 'CNAME' ? this.resolve(cname.values[0], type) : [];
  }

  /** The most specific hosted zone that contains `name` (the first created among zones of one name). */
  private zoneOf(name: string): Zone | undefined {
    return [...this.zones.values()].filter((z) => name === z.name || name.endsWith(`.${z.name}`)).sort((a, b) => b.name.length - a.name.length)[0];
  }

  /**
   * What Route 53's name servers hold for `name`, from changes that are INSYNC (what the local DNS
   * server answers, see dns.ts): the most specific zone that contains the name, its SOA, the name's
   * records of every type, and whether the name exists (has records, or names below it have).
   * Undefined when no zone contains the name. Wildcard records are not matched.
   */
  public lookup(name: string): { soa: RecordSet; records: RecordSet[]; exists: boolean } | undefined {
    this.publishDue();
    const target = fqdn(name);
    const zone = this.zoneOf(target);
    if (!zone) return undefined;
    const published = [...zone.published.values()];
    return {
      soa: zone.published.get(recordKey(zone.name, 'SOA')) ?? zone.records.get(recordKey(zone.name, 'SOA'))!,
      records: published.filter((r) => r.name === target),
      exists: published.some((r) => r.name === target || r.name.endsWith(`.${target}`)),
    };
  }

  // ---- the wire ----------------------------------------------------------------------------

  private zoneXml(zone: Zone): string {
    return `<HostedZone>${el('Id', `/hostedzone/${zone.id}`)}${el('Name', zone.name)}${el('CallerReference', zone.callerReference)}`
      + `<Config>${el('Comment', zone.comment)}${el('PrivateZone', zone.privateZone)}</Config>${el('ResourceRecordSetCount', zone.records.size)}</HostedZone>`;
  }

  private changeXml(change: Change): string {
    return `<ChangeInfo>${el('Id', `/change/${change.id}`)}${el('Status', this.changeStatus(change))}${el('SubmittedAt', new Date(change.submittedAt).toISOString())}</ChangeInfo>`;
  }

  private recordXml(r: RecordSet): string {
    const values = r.values.map((v) => `<ResourceRecord>${el('Value', v)}</ResourceRecord>`).join('');
    return `<ResourceRecordSet>${el('Name', r.name)}${el('Type', r.type)}${el('TTL', r.ttl)}<ResourceRecords>${values}</ResourceRecords></ResourceRecordSet>`;
  }

  /** Answers one Route 53 request. */
  public handle(method: string, url: string, body: string): Route53Response {
    const { pathname, searchParams } = new URL(`http://localhost${url.startsWith('/') ? url : `/${url}`}`);
    const path = pathname.replace(/\/$/, '').split('/').slice(2); // after /2013-04-01
    if (path[0] === 'hostedzone' && path.length === 1) {
      if (method === 'POST') {
        const req = route53Xml(body, 'CreateHostedZoneRequest');
        if (!req.Name || !req.CallerReference) {
          throw new Route53Error('InvalidInput', 'Name and CallerReference are required.');
        }
        const name = str(req.Name, 'Name');
        if (!isDomainName(name)) throw new Route53Error('InvalidDomainName', `${name} is not a valid domain name.`);
        const config = typeof req.HostedZoneConfig === 'object' ? req.HostedZoneConfig : {};
        const privateZone = config.PrivateZone === undefined ? false : enumeration(config.PrivateZone, ['true', 'false', '1', '0']);
        const comment = config.Comment === undefined ? undefined : str(config.Comment, 'Comment');
        const { zone, change } = this.createZone(name, str(req.CallerReference, 'CallerReference'), comment, privateZone === 'true' || privateZone === '1');
        const delegation = '<DelegationSet><NameServers><NameServer>ns-1.local.</NameServer><NameServer>ns-2.local.</NameServer></NameServers></DelegationSet>';
        return xml('CreateHostedZoneResponse', `${this.zoneXml(zone)}${this.changeXml(change)}${delegation}`,
          201, { location: `https://route53.amazonaws.com/2013-04-01/hostedzone/${zone.id}` });
      }
      const zones = this.listZones();
      return xml('ListHostedZonesResponse', `<HostedZones>${zones.map((z) => this.zoneXml(z)).join('')}</HostedZones>${el('IsTruncated', false)}${el('MaxItems', 100)}`);
    }
    if (path[0] === 'hostedzone' && path.length === 2 && method === 'DELETE') {
      // DeleteHostedZone: only a zone with no records but its SOA and NS (Route 53 API reference,
      // DeleteHostedZone: HostedZoneNotEmpty, HTTP 400).
      const zone = this.zone(path[1]);
      if ([...zone.records.values()].some((r) => !(r.name === zone.name && (r.type === 'SOA' || r.type === 'NS')))) {
        throw new Route53Error('HostedZoneNotEmpty', 'The hosted zone contains resource record sets in addition to the default NS and SOA resource record sets.'
          + ' Before you can delete the hosted zone, you must delete the additional resource record sets.');
      }
      const change = this.deleteZone(zone.id);
      return xml('DeleteHostedZoneResponse', this.changeXml(change));
    }
    if (path[0] === 'hostedzone' && path.length === 2 && method === 'GET') {
      const zone = this.zone(path[1]);
      return xml('GetHostedZoneResponse', `${this.zoneXml(zone)}<DelegationSet><NameServers><NameServer>ns-1.local.</NameServer></NameServers></DelegationSet>`);
    }
    if (path[0] === 'hostedzone' && path[2] === 'rrset') {
      const zone = this.zone(path[1]);
      if (method === 'POST') {
        const batch = route53Xml(body, 'ChangeResourceRecordSetsRequest', ['Change', 'ResourceRecord']).ChangeBatch;
        if (typeof batch !== 'object' || batch === null) {
          throw invalidXml('cvc-complex-type.2.4.b: The content of element \'ChangeResourceRecordSetsRequest\' is not complete.');
        }
        const changes = (typeof batch.Changes === 'object' ? batch.Changes.Change ?? [] : []).map((c: any) => {
          const set = c?.ResourceRecordSet;
          if (typeof set !== 'object' || set === null) {
            throw invalidXml('cvc-complex-type.2.4.b: The content of element \'Change\' is not complete.');
          }
          const records = typeof set.ResourceRecords === 'object' ? set.ResourceRecords.ResourceRecord ?? [] : [];
          return {
            action: enumeration(c.Action, ACTIONS) as Action,
            record: {
              name: str(set.Name ?? '', 'Name'),
              type: enumeration(set.Type, RR_TYPES),
              ttl: ttlOf(set.TTL),
              values: records.map((r: any) => str(r?.Value ?? '', 'Value')),
            },
          };
        });
        const change = this.changeRecords(zone.id, changes);
        return xml('ChangeResourceRecordSetsResponse', this.changeXml(change));
      }
      const start = searchParams.get('name') ? fqdn(searchParams.get('name')!) : '';
      const records = [...zone.records.values()]
        .filter((r) => r.name >= start)
        .sort((a, b) => a.name.localeCompare(b.name) || a.type.localeCompare(b.type));
      const list = records.map((r) => this.recordXml(r)).join('');
      return xml('ListResourceRecordSetsResponse', `<ResourceRecordSets>${list}</ResourceRecordSets>${el('IsTruncated', false)}${el('MaxItems', 300)}`);
    }
    if (path[0] === 'change' && path.length === 2) {
      return xml('GetChangeResponse', this.changeXml(this.change(path[1])));
    }
    throw new Route53Error('NotImplemented', `The local provider does not emulate ${method} ${pathname}`, 501);
  }
}
