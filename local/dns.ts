/**
 * The local provider's DNS server: what Route 53's name servers would answer for the hosted zones
 * the provider holds, once a change is INSYNC, so that a DNS cutover is a real change of answer for
 * a real resolver (Node's `dns.Resolver`, `dig`, a client library) and not only a record in a model.
 *
 * One server on 127.0.0.1, UDP and TCP on one port the OS gives. Every DNS message is decoded and
 * encoded with `dns-packet`; this file decides only what to answer.
 *
 * What it answers, and what it does not:
 * - It is authoritative only: it answers for names in the zones its sources hold (AA set) and does
 *   not recurse (RA clear). A name in no zone gets REFUSED, as an authoritative server that is not
 *   open to recursion answers; it never asks another server.
 * - A name whose record is a CNAME, asked for another type, gets the CNAME and then the answer for
 *   its target when the target is in a zone the provider holds (as Route 53 does for targets in its
 *   own zones, and as a recursive resolver would present it); the response code is that of the last
 *   name in the chain (RFC 6604).
 * - A name in a zone without such a record: NXDOMAIN when the name does not exist, NOERROR with no
 *   answer (NODATA) when it exists with another type or names below it exist (RFC 8020); both with
 *   the zone's SOA in the authority section, its TTL the lesser of the SOA's TTL and its MINIMUM
 *   field (RFC 2308 §3; Route 53 Developer Guide, "NS and SOA records that Amazon Route 53 creates
 *   for a public hosted zone": the SOA's minimum TTL is what resolvers cache NXDOMAIN and NODATA for).
 * - Private and public hosted zones are answered alike: Route 53 answers a private zone only to
 *   queries from the VPCs associated with it (through the Route 53 Resolver), and the provider has
 *   no VPCs, so every local client counts as inside.
 * - Record types: A, AAAA, CNAME, TXT, MX, SRV, PTR, NS, SOA and CAA. A record of another type that
 *   Route 53 stores (NAPTR, DS, TLSA, SSHFP, SVCB, HTTPS, SPF) is answered with NOTIMP rather than
 *   a made-up encoding. Zone transfers (AXFR, IXFR) are REFUSED.
 * - Robust: a datagram too short for a header, or one that is a response, gets no answer; one that
 *   does not decode gets FORMERR; a TCP connection is closed when it sends no complete message for
 *   `idleTimeoutMs`, when it sends a zero length, or when there are too many; its unread answers
 *   are bounded (reading pauses until the client reads). A UDP answer larger than the client can
 *   take (512 bytes without EDNS, RFC 1035 §4.2.1; the EDNS size it gives, at most 1232, with EDNS)
 *   is sent empty with TC set, so that the client asks again over TCP (RFC 7766).
 */
/* eslint-disable no-bitwise -- the header's flags are bit fields (RFC 1035 §4.1.1) */
import * as dgram from 'dgram';
import * as net from 'net';
import * as packet from 'dns-packet';
import type { RecordSet } from './route53';

/** What a source holds for a name. */
export interface DnsLookup {
  /** The SOA record of the zone that holds the name (its name is the zone's apex). */
  readonly soa: RecordSet;
  /**
   * The name's records. A source may give all of them or only those of the type asked for and a
   * CNAME; the server picks.
   */
  readonly records: RecordSet[];
  /** Whether the name exists in the zone (has records of some type, or names below it have): NODATA rather than NXDOMAIN. */
  readonly exists: boolean;
}

/**
 * A source of names: what it holds for `name` (a fully qualified, lower-case name with a final dot)
 * asked for `type` (e.g. `A`, `ANY`), or undefined when it holds no zone that contains the name.
 * Sources are asked in order; the most specific zone wins (the first source among equals).
 */
export type DnsSource = (name: string, type: string) => DnsLookup | undefined;

export interface DnsServerOptions {
  /** A TCP connection that sends no complete message for this long (real ms) is closed. @default 10000 */
  readonly idleTimeoutMs?: number;
  /** TCP connections open at once; more are closed at once. @default 128 */
  readonly maxConnections?: number;
}

/** The UDP payload size this server advertises and caps EDNS answers at (the DNS Flag Day 2020 value, no IP fragmentation). */
const EDNS_UDP_SIZE = 1232;
/** Without EDNS a UDP message is at most 512 bytes (RFC 1035 §4.2.1). */
const PLAIN_UDP_SIZE = 512;
/** Bytes of answers queued on a TCP connection before the server stops reading its queries. */
const MAX_TCP_BACKLOG = 256 * 1024;
/** The receive buffer asked for the UDP socket. */
const UDP_RECEIVE_BUFFER = 4 * 1024 * 1024;
/** CNAMEs followed at most in one answer (a loop ends there too). */
const MAX_CNAME_HOPS = 8;

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** RFC 6891 §9: BADVERS is extended RCODE 16, i.e. 1 in the OPT record's upper bits and 0 in the header. */
const BADVERS_UPPER = 1;
const QR = 1 << 15;
const OPCODE_SHIFT = 11;
const AUTHORITATIVE = packet.AUTHORITATIVE_ANSWER;
const TRUNCATED = packet.TRUNCATED_RESPONSE;
const RECURSION_DESIRED = packet.RECURSION_DESIRED;

/** The record types this server encodes from Route 53's text form. */
const ENCODED = new Set(['A', 'AAAA', 'CNAME', 'TXT', 'MX', 'SRV', 'PTR', 'NS', 'SOA', 'CAA']);

function fqdn(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

function integer(text: string | undefined, max: number): number {
  if (text === undefined || !/^\d+$/.test(text) || Number(text) > max) throw new Error(`not an integer up to ${max}: ${text}`);
  return Number(text);
}

/**
 * The character-strings of a TXT value in Route 53's form: one or more quoted strings separated by
 * spaces, `\"` and `\\` escaped, other bytes as `\` and three octal digits (Route 53 Developer
 * Guide, "Supported DNS record types", TXT record type). A string longer than 255 bytes, which a
 * character-string cannot hold, is split.
 */
export function txtStrings(value: string): Buffer[] {
  const strings: Buffer[] = [];
  const quoted = /"((?:[^"\\]|\\.)*)"/gs;
  for (const match of value.matchAll(quoted)) {
    const bytes: number[] = [];
    const body = Buffer.from(match[1], 'utf-8');
    for (let i = 0; i < body.length; i++) {
      if (body[i] !== 0x5c) {
        bytes.push(body[i]);
      } else if (/^[0-7]{3}$/.test(body.subarray(i + 1, i + 4).toString('latin1'))) {
        bytes.push(parseInt(body.subarray(i + 1, i + 4).toString('latin1'), 8) & 0xff);
        i += 3;
      } else {
        bytes.push(body[++i]);
      }
    }
    const buffer = Buffer.from(bytes);
    for (let at = 0; at === 0 || at < buffer.length; at += 255) strings.push(buffer.subarray(at, at + 255));
  }
  if (strings.length === 0) throw new Error(`not a TXT value: ${value}`);
  return strings;
}

/** One value of a record, in Route 53's text form, as dns-packet's data for its type. */
function rdata(type: string, value: string): any {
  const fields = value.trim().split(/\s+/);
  switch (type) {
    case 'A':
    case 'AAAA':
      if (type === 'A' ? !net.isIPv4(value) : !net.isIPv6(value)) throw new Error(`not an ${type} value: ${value}`);
      return value;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return value;
    case 'TXT':
      return txtStrings(value);
    case 'MX':
      return { preference: integer(fields[0], 0xffff), exchange: fields[1] };
    case 'SRV':
      return { priority: integer(fields[0], 0xffff), weight: integer(fields[1], 0xffff), port: integer(fields[2], 0xffff), target: fields[3] };
    case 'SOA':
      return {
        mname: fields[0],
        rname: fields[1],
        serial: integer(fields[2], 0xffffffff),
        refresh: integer(fields[3], 0xffffffff),
        retry: integer(fields[4], 0xffffffff),
        expire: integer(fields[5], 0xffffffff),
        minimum: integer(fields[6], 0xffffffff),
      };
    case 'CAA': {
      const caa = /^(\d+)\s+(\S+)\s+"(.*)"$/s.exec(value.trim());
      if (!caa) throw new Error(`not a CAA value: ${value}`);
      return { flags: integer(caa[1], 0xff), tag: caa[2], value: caa[3] };
    }
    default:
      throw new Error(`type ${type} is not encoded`);
  }
}

/** A record set as dns-packet answers, owned by `owner` (the name as the question spelled it). */
function answersOf(record: RecordSet, owner: string, ttl = record.ttl ?? 0): packet.Answer[] {
  return record.values.map((value) => ({ name: owner, type: record.type, class: 'IN', ttl, data: rdata(record.type, value) }) as packet.Answer);
}

/** The zone's SOA for a negative answer: its TTL is the lesser of the SOA's TTL and MINIMUM (RFC 2308 §3). */
function negativeSoa(soa: RecordSet): packet.Answer[] {
  const answers = answersOf(soa, soa.name);
  const minimum = (answers[0] as packet.SoaAnswer).data.minimum ?? 0;
  return answers.map((a) => ({ ...a, ttl: Math.min((a as packet.SoaAnswer).ttl ?? 0, minimum) }) as packet.Answer);
}

class NotEncoded extends Error {}

/** The header of a message that cannot be decoded, as far as it can be read. */
function header(message: Buffer): { id: number; flags: number } {
  return { id: message.readUInt16BE(0), flags: message.readUInt16BE(2) };
}

export class DnsServer {
  /** The address the server listens on. */
  public readonly host = '127.0.0.1';
  /** Where names come from; another part of the provider may add its own (e.g. ElastiCache endpoints). */
  public readonly sources: DnsSource[];
  private udp?: dgram.Socket;
  private tcp?: net.Server;
  private readonly connections = new Set<net.Socket>();
  private listening = 0;
  private readonly idleTimeoutMs: number;
  private readonly maxConnections: number;

  constructor(sources: DnsSource[] = [], options: DnsServerOptions = {}) {
    this.sources = [...sources];
    this.idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
    this.maxConnections = options.maxConnections ?? 128;
  }

  /** The port of both sockets (0 before `start`). */
  public get port(): number {
    return this.listening;
  }

  /** `127.0.0.1:PORT`, as `dns.Resolver.setServers` and `dig @127.0.0.1 -p PORT` take it. */
  public get address(): string {
    return `${this.host}:${this.port}`;
  }

  /**
   * Binds UDP to a port the OS gives, then TCP to the same port; when TCP cannot have it (another
   * process holds it for TCP), both are given up and another port is tried.
   */
  public async start(): Promise<void> {
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 20; attempt++) {
      const udp = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(0, this.host, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      // An error on the socket (e.g. ICMP port unreachable reported on Linux) must not crash the provider.
      udp.on('error', () => undefined);
      try {
        // Room for a burst of queries while the event loop is busy (Linux's default, about 200 KB,
        // holds some 250 small datagrams; the kernel caps this at net.core.rmem_max).
        udp.setRecvBufferSize(UDP_RECEIVE_BUFFER);
      } catch {
        // refused by the system: its default then
      }
      const port = udp.address().port;
      const tcp = net.createServer((socket) => this.connection(socket));
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen(port, this.host, () => {
            tcp.off('error', reject);
            resolve();
          });
        });
      } catch (e) {
        lastError = e as Error;
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        continue;
      }
      tcp.on('error', () => undefined);
      udp.on('message', (message, remote) => {
        const reply = this.reply(message, 'udp');
        try {
          if (reply) udp.send(reply, remote.port, remote.address, () => undefined);
        } catch {
          // the socket closed meanwhile (stop)
        }
      });
      this.udp = udp;
      this.tcp = tcp;
      this.listening = port;
      return;
    }
    throw new Error(`the DNS server found no port free for both UDP and TCP: ${lastError?.message}`);
  }

  /** Closes both sockets and every TCP connection. */
  public async stop(): Promise<void> {
    const udp = this.udp;
    const tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    for (const socket of this.connections) socket.destroy();
    await Promise.all([
      udp && new Promise<void>((resolve) => udp.close(() => resolve())),
      tcp && new Promise<void>((resolve) => tcp.close(() => resolve())),
    ]);
  }

  private connection(socket: net.Socket): void {
    socket.on('error', () => undefined);
    if (this.connections.size >= this.maxConnections) {
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    socket.on('close', () => {
      clearTimeout(idle);
      this.connections.delete(socket);
    });
    // The deadline runs from the last complete message, not from the last byte: a client that
    // sends one byte now and then does not hold a connection forever.
    let idle = setTimeout(() => socket.destroy(), this.idleTimeoutMs);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('drain', () => socket.resume());
    socket.on('data', (chunk: Buffer) => {
      // At most one incomplete message (2 + 65535 bytes) stays between chunks.
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0);
        if (length === 0) {
          socket.destroy();
          return;
        }
        if (pending.length < 2 + length) break;
        const message = pending.subarray(2, 2 + length);
        pending = pending.subarray(2 + length);
        clearTimeout(idle);
        idle = setTimeout(() => socket.destroy(), this.idleTimeoutMs);
        const reply = this.reply(message, 'tcp');
        if (reply) {
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(reply.length);
          socket.write(Buffer.concat([prefix, reply]));
        }
      }
      if (socket.writableLength > MAX_TCP_BACKLOG) socket.pause();
    });
  }

  /** The encoded answer to one message, or undefined when it gets none. Never throws. */
  public reply(message: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined {
    try {
      const response = this.respond(message);
      if (!response) return undefined;
      const { answer, limit } = response;
      const max = transport === 'udp' ? limit : 0xffff;
      if (packet.encodingLength(answer) <= max) return packet.encode(answer);
      if (transport === 'udp') {
        return packet.encode({ ...answer, flags: (answer.flags ?? 0) | TRUNCATED, answers: [], authorities: [] });
      }
      return packet.encode({ ...answer, flags: ((answer.flags ?? 0) & ~0xf) | RCODE.SERVFAIL, answers: [], authorities: [] });
    } catch {
      // A fault of this server: SERVFAIL when the header can be read.
      try {
        const { id, flags } = header(message);
        return packet.encode({ type: 'response', id, flags: (flags & (0xf << OPCODE_SHIFT | RECURSION_DESIRED)) | RCODE.SERVFAIL });
      } catch {
        return undefined;
      }
    }
  }

  /** The answer to a message (before size limits), and how large a UDP answer may be. */
  private respond(message: Buffer): { answer: packet.Packet; limit: number } | undefined {
    if (message.length < 12) return undefined; // no header: nothing to answer to
    const { id, flags } = header(message);
    if (flags & QR) return undefined; // a response: answering it could start a loop between servers
    const opcodeBits = flags & (0xf << OPCODE_SHIFT);
    const echoed = opcodeBits | (flags & RECURSION_DESIRED);
    const bare = (rcode: number) => ({ answer: { type: 'response' as const, id, flags: echoed | rcode }, limit: PLAIN_UDP_SIZE });
    if (opcodeBits !== 0) return bare(RCODE.NOTIMP); // only QUERY; no NOTIFY, UPDATE, IQUERY
    let query: packet.DecodedPacket;
    try {
      query = packet.decode(message);
    } catch {
      return bare(RCODE.FORMERR);
    }
    const questions = query.questions ?? [];
    if (questions.length !== 1 || (query.answers ?? []).length > 0) return bare(RCODE.FORMERR);
    const question = questions[0];
    // dns-packet names types it does not know UNKNOWN_<n>, and ANY is not in its RecordType.
    const qtype: string = question.type;
    // The question must come back as it was sent; a name dns-packet cannot spell again (a label
    // with a dot or invalid UTF-8 in it) is refused as malformed rather than answered for another name.
    const spelled = packet.encode({ questions: [{ name: question.name, type: 'A', class: 'IN' }] });
    const nameBytes = spelled.subarray(12, spelled.length - 4);
    if (!message.subarray(12, 12 + nameBytes.length).equals(nameBytes)) return bare(RCODE.FORMERR);

    const opts = (query.additionals ?? []).filter((a) => a.type === 'OPT') as packet.OptAnswer[];
    if (opts.length > 1) return bare(RCODE.FORMERR); // RFC 6891 §6.1.1
    const edns = opts[0];
    const opt: packet.OptAnswer[] = edns ? [{ name: '.', type: 'OPT', udpPayloadSize: EDNS_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [];
    const limit = edns ? Math.max(PLAIN_UDP_SIZE, Math.min(edns.udpPayloadSize, EDNS_UDP_SIZE)) : PLAIN_UDP_SIZE;
    const base = { type: 'response' as const, id, questions: [question], additionals: opt };
    if (edns && edns.ednsVersion !== 0) {
      return { answer: { ...base, flags: echoed, additionals: [{ ...opt[0], extendedRcode: BADVERS_UPPER }] }, limit };
    }
    const refuse = { answer: { ...base, flags: echoed | RCODE.REFUSED }, limit };
    if (question.class !== 'IN') return refuse; // the zones hold class IN only
    if (qtype === 'AXFR' || qtype === 'IXFR') return refuse; // no zone transfers
    if (['OPT', 'TSIG', 'TKEY'].includes(qtype)) return bare(RCODE.FORMERR);

    const answers: packet.Answer[] = [];
    let authorities: packet.Answer[] = [];
    let rcode: number = RCODE.NOERROR;
    let owner = question.name;
    const seen = new Set<string>();
    try {
      for (let hop = 0; ; hop++) {
        seen.add(fqdn(owner));
        const found = this.lookup(fqdn(owner), qtype);
        if (!found) {
          if (hop === 0) return refuse; // not a name of ours, and this server does not recurse
          break; // a CNAME out of the zones: the client's resolver follows it elsewhere
        }
        const records = found.records.filter((r) => fqdn(r.name) === fqdn(owner));
        const wanted = qtype === 'ANY' ? records.filter((r) => ENCODED.has(r.type)) : records.filter((r) => r.type === qtype);
        if (wanted.length > 0) {
          if (wanted.some((r) => !ENCODED.has(r.type))) throw new NotEncoded();
          for (const record of wanted) answers.push(...answersOf(record, owner));
          break;
        }
        const cname = qtype !== 'CNAME' ? records.find((r) => r.type === 'CNAME') : undefined;
        if (cname) {
          answers.push(...answersOf(cname, owner));
          owner = cname.values[0];
          if (seen.has(fqdn(owner)) || hop + 1 >= MAX_CNAME_HOPS) break;
          continue;
        }
        rcode = found.exists || records.length > 0 ? RCODE.NOERROR : RCODE.NXDOMAIN;
        authorities = negativeSoa(found.soa);
        break;
      }
    } catch (e) {
      if (e instanceof NotEncoded) return { answer: { ...base, flags: echoed | RCODE.NOTIMP }, limit };
      throw e;
    }
    return { answer: { ...base, flags: echoed | AUTHORITATIVE | rcode, answers, authorities }, limit };
  }

  /** What the sources hold for a name: the most specific zone, the first source among equals. */
  private lookup(name: string, type: string): DnsLookup | undefined {
    let best: DnsLookup | undefined;
    for (const source of this.sources) {
      const found = source(name, type);
      if (found && (!best || fqdn(found.soa.name).length > fqdn(best.soa.name).length)) best = found;
    }
    return best;
  }
}
