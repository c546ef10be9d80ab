/**
 * ElastiCache's endpoint names, as the service forms them, and the DNS answers for them.
 *
 * Forms, from the examples in the ElastiCache User Guide ("Finding connection endpoints",
 * "Finding a cluster's endpoints"), where `<id>` is an identifier of the account in the region and
 * `<r>` the region's short code (e.g. `use1`, `euw1`):
 * - cluster mode disabled, without TLS: primary `<group>.<id>.ng.0001.<r>.cache.amazonaws.com`,
 *   reader `<group>-ro.<id>.ng.0001.<r>.cache.amazonaws.com`, node `<member>.<id>.0001.<r>.cache.amazonaws.com`;
 * - cluster mode disabled, with in-transit encryption: primary `master.<group>.<id>.<r>.cache.amazonaws.com`,
 *   reader `replica.<group>.<id>.<r>.cache.amazonaws.com`, node `<member>.<group>.<id>.<r>.cache.amazonaws.com`;
 * - cluster mode enabled: configuration `<group>.<id>.clustercfg.<r>.cache.amazonaws.com`, or
 *   `clustercfg.<group>.<id>.<r>.cache.amazonaws.com` with TLS; nodes as above.
 * NOT CONFIRMED against the service (no AWS account here): how `<id>` is made (here: 6 characters
 * derived from the account and region, the same for every group there, as the guide's examples
 * suggest), and the short codes of regions the examples do not show (here: the region's parts'
 * initials, `ap-southeast-2` -> `apse2`).
 *
 * The primary and reader names follow the group's roles: after a failover they answer the new
 * primary's address at once (ElastiCache updates the records within seconds; the provider has no
 * propagation delay for them). The configuration endpoint answers every node in service.
 */
import { createHash } from 'crypto';
import type { DnsLookup } from '../dns';
import type { RecordSet } from '../route53';
import { Group, Member } from './model';

export const ENDPOINT_DOMAIN = 'cache.amazonaws.com';
/** The TTL of endpoint records (ElastiCache's are short so that failovers are seen quickly; the value is an assumption). */
const ENDPOINT_TTL = 15;

const DIRECTIONS: Record<string, string> = {
  north: 'n',
  south: 's',
  east: 'e',
  west: 'w',
  central: 'c',
  northeast: 'ne',
  northwest: 'nw',
  southeast: 'se',
  southwest: 'sw',
};

/** A region's short code in endpoint names: `us-east-1` -> `use1`, `eu-west-1` -> `euw1`, `ap-southeast-1` -> `apse1`. */
export function regionCode(region: string): string {
  const parts = region.split('-');
  if (parts.length < 3) return region.replace(/[^a-z0-9]/g, '');
  const [area, ...rest] = parts;
  const number = rest.pop()!;
  return area + rest.map((p) => DIRECTIONS[p] ?? p[0]).join('') + number;
}

/** The account's identifier in a region's endpoint names (6 lower-case characters). */
export function endpointId(account: string, region: string): string {
  const digest = createHash('sha256').update(`${account}/${region}`).digest();
  let id = '';
  for (let i = 0; id.length < 6; i++) id += (digest[i] % 36).toString(36);
  return id;
}

/** The names of one group's endpoints. */
export class EndpointNames {
  private readonly suffix: string;
  private readonly id: string;

  constructor(account: string, region: string, private readonly group: Pick<Group, 'id' | 'transitEncryption' | 'clusterEnabled'>) {
    this.id = endpointId(account, region);
    this.suffix = `${regionCode(region)}.${ENDPOINT_DOMAIN}`;
  }

  private get tls(): boolean {
    return this.group.transitEncryption;
  }

  /** The zone-like part every TLS name of the group shares: `<group>.<id>.<r>.cache.amazonaws.com`. */
  public get groupDomain(): string {
    return `${this.group.id}.${this.id}.${this.suffix}`;
  }

  /** The primary endpoint (cluster mode disabled). */
  public get primary(): string {
    return this.tls ? `master.${this.groupDomain}` : `${this.group.id}.${this.id}.ng.0001.${this.suffix}`;
  }

  /** The reader endpoint (cluster mode disabled). */
  public get reader(): string {
    return this.tls ? `replica.${this.groupDomain}` : `${this.group.id}-ro.${this.id}.ng.0001.${this.suffix}`;
  }

  /** The configuration endpoint (cluster mode enabled). */
  public get configuration(): string {
    return this.tls ? `clustercfg.${this.groupDomain}` : `${this.group.id}.${this.id}.clustercfg.${this.suffix}`;
  }

  /** A node's endpoint. */
  public node(memberId: string): string {
    return this.tls ? `${memberId}.${this.groupDomain}` : `${memberId}.${this.id}.0001.${this.suffix}`;
  }

  /** The names a TLS node's certificate must cover (the group's wildcard covers all of them but the node's own when it has more labels). */
  public certificateNames(memberId: string): string[] {
    return [`*.${this.groupDomain}`, this.node(memberId)];
  }
}

/** The address a member's clients reach, while it is in service. */
function address(m: Member | undefined): string | undefined {
  return m?.server?.running && !m.replacing ? m.server.host : undefined;
}

function fqdn(name: string): string {
  return (name.endsWith('.') ? name : `${name}.`).toLowerCase();
}

/**
 * The A records of every endpoint of `groups`, by fully qualified name. A name whose nodes are all
 * out of service has no record (the name does not resolve, as a deleted group's names do not).
 */
export function endpointRecords(account: string, region: string, groups: Iterable<Group>): Map<string, string[]> {
  const records = new Map<string, string[]>();
  const add = (name: string, addresses: Array<string | undefined>) => {
    const found = addresses.filter((a): a is string => a !== undefined);
    if (found.length > 0) records.set(fqdn(name), found);
  };
  for (const group of groups) {
    if (group.status === 'deleting') continue;
    const names = new EndpointNames(account, region, group);
    for (const m of group.members) add(names.node(m.id), [address(m)]);
    if (group.standalone) {
      // A primary kept as a cache cluster of its own (RetainPrimaryCluster): its node name only.
    } else if (group.clusterEnabled) {
      add(names.configuration, group.members.map(address));
    } else {
      const shard = group.shards[0];
      const primary = shard?.members.find((m) => m.role === 'primary');
      add(names.primary, [address(primary)]);
      const replicas = shard?.members.filter((m) => m.role === 'replica' && address(m)) ?? [];
      add(names.reader, replicas.length > 0 ? replicas.map(address) : [address(primary)]);
    }
  }
  return records;
}

/** The SOA the provider answers negative lookups in a region's endpoint domain with. */
function soa(zone: string): RecordSet {
  return {
    name: zone,
    type: 'SOA',
    ttl: 60,
    values: [`ns.${ENDPOINT_DOMAIN}. hostmaster.${ENDPOINT_DOMAIN}. 1 7200 900 1209600 5`],
  };
}

/** What the DNS server answers for a name in a region's endpoint domain, or undefined when it is not in it. */
export function endpointLookup(region: string, records: Map<string, string[]>, name: string): DnsLookup | undefined {
  const zone = fqdn(`${regionCode(region)}.${ENDPOINT_DOMAIN}`);
  const target = fqdn(name);
  if (target !== zone && !target.endsWith(`.${zone}`)) return undefined;
  const addresses = records.get(target);
  const exists = addresses !== undefined || [...records.keys()].some((n) => n.endsWith(`.${target}`));
  return {
    soa: soa(zone),
    records: addresses ? [{ name: target, type: 'A', ttl: ENDPOINT_TTL, values: addresses }] : [],
    exists,
  };
}
