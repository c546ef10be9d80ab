/* eslint-disable no-bitwise -- DNS header flags are bit fields */
/**
 * The local provider's DNS server (local/dns.ts): a real `LocalProvider`, its Route 53 changed
 * through the real @aws-sdk/client-route-53, and queried by the real resolver of Node (c-ares, over
 * UDP, and over TCP when an answer is truncated) and by raw messages (dns-packet) over UDP and TCP.
 */
import { execFile } from 'child_process';
import * as dgram from 'dgram';
import { Resolver } from 'dns/promises';
import * as net from 'net';
import {
  ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, GetChangeCommand, ResourceRecordSet, Route53Client,
} from '@aws-sdk/client-route-53';
import * as packet from 'dns-packet';
import { requireBuiltCli, startServe, terminate } from './serve';
import { until } from '../../local/poll';
import { LocalProvider } from '../../local/provider';

jest.setTimeout(60_000);

const IDLE_MS = 500;
let provider: LocalProvider;
let r53: Route53Client;
/** cache.example.com (public) and standby.example.net (private). */
let publicZone: string;
let privateZone: string;

beforeAll(async () => {
  provider = await LocalProvider.start({ speed: 600, dnsSyncDelay: 60_000, dnsIdleTimeout: IDLE_MS });
  r53 = new Route53Client({ region: 'us-east-1', endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
  publicZone = (await r53.send(new CreateHostedZoneCommand({ Name: 'cache.example.com', CallerReference: 'public' }))).HostedZone!.Id!;
  privateZone = (await r53.send(new CreateHostedZoneCommand({
    Name: 'standby.example.net', CallerReference: 'private', HostedZoneConfig: { PrivateZone: true },
  }))).HostedZone!.Id!;
});

afterAll(async () => {
  r53?.destroy();
  await provider?.stop();
});

type Action = 'CREATE' | 'UPSERT' | 'DELETE';
const rrset = (Name: string, Type: string, values: string[], TTL = 300): ResourceRecordSet => ({
  Name, Type: Type as ResourceRecordSet['Type'], TTL, ResourceRecords: values.map((Value) => ({ Value })),
});

/** Submits one change batch; returns its change id (PENDING until the clock moves). */
async function change(zone: string, ...changes: Array<[Action, ResourceRecordSet]>): Promise<string> {
  const out = await r53.send(new ChangeResourceRecordSetsCommand({
    HostedZoneId: zone, ChangeBatch: { Changes: changes.map(([Action, set]) => ({ Action, ResourceRecordSet: set })) },
  }));
  expect(out.ChangeInfo!.Status).toBe('PENDING');
  return out.ChangeInfo!.Id!;
}

/** Moves the provider's clock past the sync delay; the change is then INSYNC. */
async function inSync(changeId: string): Promise<void> {
  await provider.clock.advance(60_000);
  expect((await r53.send(new GetChangeCommand({ Id: changeId }))).ChangeInfo!.Status).toBe('INSYNC');
}

/** Node's resolver (c-ares) pointed at `server` only. */
function resolver(server = provider.dns.address): Resolver {
  const r = new Resolver({ timeout: 1_000, tries: 2 });
  r.setServers([server]);
  return r;
}

const errorCode = (p: Promise<unknown>) => p.then(() => 'answered', (e) => e.code as string);

let nextId = 1;
const query = (name: string, type: string, extra: Partial<packet.Packet> = {}): packet.Packet => ({
  type: 'query', id: nextId++ & 0xffff, flags: packet.RECURSION_DESIRED, questions: [{ name, type: type as packet.RecordType, class: 'IN' }], ...extra,
});

/** Sends one datagram; resolves with the answer, or undefined when none comes within `ms`. */
function udp(message: Buffer, port = provider.dns.port, ms = 300): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const done = (answer?: Buffer) => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    const timer = setTimeout(() => done(), ms);
    socket.on('error', () => done());
    socket.on('message', (m) => done(m));
    socket.send(message, port, '127.0.0.1');
  });
}

/**
 * Opens a TCP connection, writes `bytes` (and half-closes when `end`), and collects what comes back
 * until the server closes the connection or `ms` pass. `closedAfter` is how long the server took to
 * close it (undefined when it did not within `ms`).
 */
function tcp(bytes: Buffer, options: { end?: boolean; ms?: number; port?: number } = {}):
Promise<{ data: Buffer; closedAfter?: number; error?: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const socket = net.connect(options.port ?? provider.dns.port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data: Buffer.concat(chunks) });
    }, options.ms ?? 2_000);
    socket.on('connect', () => (options.end ? socket.end(bytes) : socket.write(bytes)));
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), error: e.code });
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(chunks), closedAfter: Date.now() - started });
    });
  });
}

/** The length-prefixed messages in a TCP stream, decoded. */
function messages(stream: Buffer): packet.DecodedPacket[] {
  const out: packet.DecodedPacket[] = [];
  for (let at = 0; at + 2 <= stream.length;) {
    const length = stream.readUInt16BE(at);
    out.push(packet.decode(stream.subarray(at + 2, at + 2 + length)));
    at += 2 + length;
  }
  return out;
}

/** One query over TCP (dns-packet's streamEncode), its answer decoded. */
async function overTcp(q: packet.Packet): Promise<packet.DecodedPacket & { rcode?: string }> {
  const { data } = await tcp(packet.streamEncode(q), { end: true });
  const answers = messages(data);
  expect(answers).toHaveLength(1);
  return answers[0];
}

const brief = (answers: packet.Answer[] = []) => answers.map((a: any) => `${a.name} ${a.ttl} ${a.type} ${typeof a.data === 'object' && !Buffer.isBuffer(a.data) && !Array.isArray(a.data)
  ? Object.values(a.data).join(' ') : Array.isArray(a.data) ? a.data.join('|') : String(a.data)}`);

beforeAll(async () => {
  await inSync(await change(publicZone, ['CREATE', rrset('ok.cache.example.com', 'A', ['192.0.2.200'], 60)]));
});

/** The known-good query every robustness test ends with: answered over UDP and TCP alike. */
async function stillAnswers(): Promise<void> {
  expect(await resolver().resolve4('ok.cache.example.com')).toEqual(['192.0.2.200']);
  const answer = await overTcp(query('ok.cache.example.com', 'A'));
  expect(brief(answer.answers)).toEqual(['ok.cache.example.com 60 A 192.0.2.200']);
}

describe('answers', () => {
  test('the server listens on UDP and TCP of one port on 127.0.0.1', () => {
    expect(provider.dns.host).toBe('127.0.0.1');
    expect(provider.dns.port).toBeGreaterThan(0);
    expect(provider.dns.address).toBe(`127.0.0.1:${provider.dns.port}`);
  });

  test('a record is not answered while its change is PENDING, and is once it is INSYNC, with its TTL', async () => {
    const id = await change(publicZone, ['CREATE', rrset('app.cache.example.com', 'A', ['10.0.0.1', '10.0.0.2'], 300)]);
    expect(await errorCode(resolver().resolve4('app.cache.example.com'))).toBe('ENOTFOUND');
    await provider.clock.advance(30_000);
    expect(await errorCode(resolver().resolve4('app.cache.example.com'))).toBe('ENOTFOUND');

    await inSync(id);
    expect((await resolver().resolve4('app.cache.example.com', { ttl: true })).sort((a, b) => a.address.localeCompare(b.address)))
      .toEqual([{ address: '10.0.0.1', ttl: 300 }, { address: '10.0.0.2', ttl: 300 }]);
    // Over TCP too; the answer is authoritative, not recursive, and spells the name as asked.
    const answer = await overTcp(query('App.Cache.Example.com', 'A'));
    expect(answer).toMatchObject({ rcode: 'NOERROR', flag_aa: true, flag_ra: false, flag_rd: true, flag_tc: false });
    expect(answer.questions).toEqual([{ name: 'App.Cache.Example.com', type: 'A', class: 'IN' }]);
    expect(brief(answer.answers).sort()).toEqual(['App.Cache.Example.com 300 A 10.0.0.1', 'App.Cache.Example.com 300 A 10.0.0.2']);
  });

  test('an UPSERT moves the answer once in sync; a DELETE makes the name NXDOMAIN once in sync', async () => {
    await inSync(await change(publicZone, ['CREATE', rrset('moved.cache.example.com', 'A', ['10.0.1.1'], 60)]));
    expect(await resolver().resolve4('moved.cache.example.com')).toEqual(['10.0.1.1']);

    const upsert = await change(publicZone, ['UPSERT', rrset('moved.cache.example.com', 'A', ['10.0.2.2'], 30)]);
    expect(await resolver().resolve4('moved.cache.example.com')).toEqual(['10.0.1.1']);
    await inSync(upsert);
    expect(await resolver().resolve4('moved.cache.example.com', { ttl: true })).toEqual([{ address: '10.0.2.2', ttl: 30 }]);

    const deletion = await change(publicZone, ['DELETE', rrset('moved.cache.example.com', 'A', ['10.0.2.2'], 30)]);
    expect(await resolver().resolve4('moved.cache.example.com')).toEqual(['10.0.2.2']);
    await inSync(deletion);
    expect(await errorCode(resolver().resolve4('moved.cache.example.com'))).toBe('ENOTFOUND');
    expect((await overTcp(query('moved.cache.example.com', 'A'))).rcode).toBe('NXDOMAIN');
  });

  test('a CNAME is followed into another zone the provider holds (a private one), as a resolver presents it', async () => {
    await inSync(await change(privateZone, ['CREATE', rrset('primary.standby.example.net', 'A', ['10.9.0.5'], 120)]));
    await inSync(await change(publicZone, ['CREATE', rrset('redis.cache.example.com', 'CNAME', ['primary.standby.example.net'], 60)]));

    // c-ares reports the lesser TTL along the chain (the CNAME's 60); the message holds each record's own.
    expect(await resolver().resolve4('redis.cache.example.com', { ttl: true })).toEqual([{ address: '10.9.0.5', ttl: 60 }]);
    expect(await resolver().resolveCname('redis.cache.example.com')).toEqual(['primary.standby.example.net']);
    const answer = await overTcp(query('redis.cache.example.com', 'A'));
    expect(answer.rcode).toBe('NOERROR');
    expect(brief(answer.answers)).toEqual(['redis.cache.example.com 60 CNAME primary.standby.example.net', 'primary.standby.example.net 120 A 10.9.0.5']);
    // Asked for the CNAME itself: the CNAME only.
    expect(brief((await overTcp(query('redis.cache.example.com', 'CNAME'))).answers)).toEqual(['redis.cache.example.com 60 CNAME primary.standby.example.net']);
    // The target has no AAAA: NODATA with the target zone's SOA, after the CNAME.
    const nodata = await overTcp(query('redis.cache.example.com', 'AAAA'));
    expect(nodata.rcode).toBe('NOERROR');
    expect(brief(nodata.answers)).toEqual(['redis.cache.example.com 60 CNAME primary.standby.example.net']);
    expect(brief(nodata.authorities)).toEqual(['standby.example.net 900 SOA ns-1.local hostmaster.standby.example.net 1 7200 900 1209600 86400']);
  });

  test('a CNAME out of the zones is answered alone; a CNAME loop ends', async () => {
    await inSync(await change(publicZone,
      ['CREATE', rrset('out.cache.example.com', 'CNAME', ['www.example.org'], 60)],
      ['CREATE', rrset('loop-a.cache.example.com', 'CNAME', ['loop-b.cache.example.com'], 60)],
      ['CREATE', rrset('loop-b.cache.example.com', 'CNAME', ['loop-a.cache.example.com'], 60)]));
    const out = await overTcp(query('out.cache.example.com', 'A'));
    expect(out.rcode).toBe('NOERROR');
    expect(brief(out.answers)).toEqual(['out.cache.example.com 60 CNAME www.example.org']);
    const loop = await overTcp(query('loop-a.cache.example.com', 'A'));
    expect(brief(loop.answers)).toEqual(['loop-a.cache.example.com 60 CNAME loop-b.cache.example.com', 'loop-b.cache.example.com 60 CNAME loop-a.cache.example.com']);
    await stillAnswers();
  });

  test('TXT, MX, SRV, NS, SOA, AAAA, PTR and CAA records as Route 53 stores them', async () => {
    await inSync(await change(publicZone,
      ['CREATE', rrset('txt.cache.example.com', 'TXT', ['"v=1 hello" "second"', '"quote \\" back\\\\slash \\101"'])],
      ['CREATE', rrset('cache.example.com', 'MX', ['10 mail.cache.example.com', '20 backup.cache.example.com'])],
      ['CREATE', rrset('_redis._tcp.cache.example.com', 'SRV', ['1 5 6379 redis.cache.example.com'])],
      ['CREATE', rrset('v6.cache.example.com', 'AAAA', ['2001:db8::1'])],
      ['CREATE', rrset('ptr.cache.example.com', 'PTR', ['host.cache.example.com'])],
      ['CREATE', rrset('cache.example.com', 'CAA', ['0 issue "amazon.com"'])]));
    const r = resolver();
    expect((await r.resolveTxt('txt.cache.example.com')).sort()).toEqual([['quote " back\\slash A'], ['v=1 hello', 'second']]);
    expect((await r.resolveMx('cache.example.com')).sort((a, b) => a.priority - b.priority))
      .toEqual([{ priority: 10, exchange: 'mail.cache.example.com' }, { priority: 20, exchange: 'backup.cache.example.com' }]);
    expect(await r.resolveSrv('_redis._tcp.cache.example.com')).toEqual([{ priority: 1, weight: 5, port: 6379, name: 'redis.cache.example.com' }]);
    expect(await r.resolve6('v6.cache.example.com')).toEqual(['2001:db8::1']);
    expect(await r.resolvePtr('ptr.cache.example.com')).toEqual(['host.cache.example.com']);
    expect(await r.resolveCaa('cache.example.com')).toEqual([{ critical: 0, issue: 'amazon.com' }]);
    expect((await r.resolveNs('cache.example.com')).sort()).toEqual(['ns-1.local', 'ns-2.local']);
    expect(await r.resolveSoa('cache.example.com')).toMatchObject({ nsname: 'ns-1.local', hostmaster: 'hostmaster.cache.example.com', minttl: 86400 });
  });

  test('a record of a type the server does not encode (NAPTR) is NOTIMP, not a made-up answer', async () => {
    await inSync(await change(publicZone, ['CREATE', rrset('naptr.cache.example.com', 'NAPTR', ['100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .'])]));
    expect((await overTcp(query('naptr.cache.example.com', 'NAPTR'))).rcode).toBe('NOTIMP');
    // Other types of the name are NODATA, not NOTIMP.
    expect((await overTcp(query('naptr.cache.example.com', 'A'))).rcode).toBe('NOERROR');
  });

  test('a name in a zone without the record: NXDOMAIN with the SOA; NODATA when the name exists (also as an empty non-terminal)', async () => {
    const nx = await overTcp(query('nothing.cache.example.com', 'A'));
    expect(nx).toMatchObject({ rcode: 'NXDOMAIN', flag_aa: true, answers: [] });
    // The SOA's TTL is the lesser of its TTL (900) and its MINIMUM (86400).
    expect(brief(nx.authorities)).toEqual(['cache.example.com 900 SOA ns-1.local hostmaster.cache.example.com 1 7200 900 1209600 86400']);
    expect(await errorCode(resolver().resolve4('nothing.cache.example.com'))).toBe('ENOTFOUND');
    // With a MINIMUM below the SOA's TTL, MINIMUM it is.
    const negative = (await r53.send(new CreateHostedZoneCommand({ Name: 'negative.example.org', CallerReference: 'negative' }))).HostedZone!.Id!;
    const soa = 'ns-1.local. hostmaster.negative.example.org. 2 7200 900 1209600 60';
    await inSync(await change(negative, ['UPSERT', rrset('negative.example.org', 'SOA', [soa], 900)]));
    expect(brief((await overTcp(query('nothing.negative.example.org', 'A'))).authorities))
      .toEqual(['negative.example.org 60 SOA ns-1.local hostmaster.negative.example.org 2 7200 900 1209600 60']);

    await inSync(await change(publicZone, ['CREATE', rrset('leaf.branch.cache.example.com', 'A', ['10.0.3.3'])]));
    for (const [name, type] of [['leaf.branch.cache.example.com', 'AAAA'], ['branch.cache.example.com', 'A']]) {
      const nodata = await overTcp(query(name, type));
      expect(nodata).toMatchObject({ rcode: 'NOERROR', answers: [] });
      expect(brief(nodata.authorities)).toHaveLength(1);
      expect(await errorCode(resolver().resolve6(name))).toBe('ENODATA');
    }
  });

  test('a name in no zone is REFUSED: the server does not recurse', async () => {
    expect(await errorCode(resolver().resolve4('www.example.org'))).toBe('EREFUSED');
    expect(await errorCode(resolver().resolve4('example.com'))).toBe('EREFUSED');
    const refused = await overTcp(query('www.example.org', 'A'));
    expect(refused).toMatchObject({ rcode: 'REFUSED', flag_aa: false, flag_ra: false, answers: [] });
    expect((await overTcp(query('cache.example.com', 'AXFR'))).rcode).toBe('REFUSED');
    expect((await overTcp(query('cache.example.com', 'A', { questions: [{ name: 'cache.example.com', type: 'A', class: 'CH' }] }))).rcode).toBe('REFUSED');
  });

  test('a UDP answer over 512 bytes without EDNS is truncated (TC), and the resolver gets it over TCP', async () => {
    const strings = Array.from({ length: 8 }, (_, i) => `"${String(i).repeat(200)}"`).join(' ');
    await inSync(await change(publicZone, ['CREATE', rrset('big.cache.example.com', 'TXT', [strings])]));
    const truncated = packet.decode((await udp(packet.encode(query('big.cache.example.com', 'TXT'))))!);
    expect(truncated).toMatchObject({ flag_tc: true, answers: [] });
    expect((await udp(packet.encode(query('big.cache.example.com', 'TXT'))))!.length).toBeLessThanOrEqual(512);
    // c-ares sees TC and asks again over TCP.
    expect(await resolver().resolveTxt('big.cache.example.com')).toEqual([Array.from({ length: 8 }, (_, i) => String(i).repeat(200))]);
    // With EDNS the client's size counts, up to 1232: a 600-byte answer fits, the 1.6 KB one does not.
    await inSync(await change(publicZone, ['CREATE', rrset('mid.cache.example.com', 'TXT', [`"${'m'.repeat(250)}" "${'n'.repeat(250)}"`])]));
    const edns = (size: number) => ({ additionals: [{ name: '.', type: 'OPT', udpPayloadSize: size, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] as any });
    const mid = packet.decode((await udp(packet.encode(query('mid.cache.example.com', 'TXT', edns(4096)))))!);
    expect(mid).toMatchObject({ flag_tc: false, additionals: [{ type: 'OPT', udpPayloadSize: 1232 }] });
    expect(mid.answers).toHaveLength(1);
    expect(packet.decode((await udp(packet.encode(query('mid.cache.example.com', 'TXT'))))!).flag_tc).toBe(true);
    expect(packet.decode((await udp(packet.encode(query('big.cache.example.com', 'TXT', edns(4096)))))!).flag_tc).toBe(true);
  });
});

describe('robustness', () => {
  const header = (id: number, flags: number, qd: number, an = 0, ns = 0, ar = 0) => {
    const b = Buffer.alloc(12);
    [id, flags, qd, an, ns, ar].forEach((v, i) => b.writeUInt16BE(v, i * 2));
    return b;
  };
  const good = packet.encode(query('ok.cache.example.com', 'A'));
  const twoQuestions = packet.encode({ ...query('ok.cache.example.com', 'A'), questions: [{ name: 'a.cache.example.com', type: 'A' }, { name: 'b.cache.example.com', type: 'A' }] });
  // A name that points at itself (a compression loop), and a label with a dot in it.
  const selfPointer = Buffer.concat([header(7, 0, 1), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
  const dottedLabel = Buffer.concat([header(8, 0, 1), Buffer.from([3, 0x61, 0x2e, 0x62, 0, 0, 1, 0, 1])]);
  const cases: Array<[string, Buffer, string]> = [
    ['an empty datagram', Buffer.alloc(0), 'no answer'],
    ['5 bytes, no header', Buffer.from('hello'), 'no answer'],
    ['a header that promises a question', header(1, 0, 1), 'FORMERR'],
    ['random bytes', Buffer.concat([header(2, 0, 3, 9, 9, 9), Buffer.from(Array.from({ length: 200 }, (_, i) => (i * 37 + 11) & 0xff))]), 'FORMERR'],
    ['a response (QR set)', Buffer.from(good.map((b, i) => (i === 2 ? b | 0x80 : b))), 'no answer'],
    ['an UPDATE (opcode 5)', Buffer.from(good.map((b, i) => (i === 2 ? b | (5 << 3) : b))), 'NOTIMP'],
    ['two questions', twoQuestions, 'FORMERR'],
    ['a truncated question', good.subarray(0, good.length - 3), 'FORMERR'],
    ['a compression pointer loop', selfPointer, 'FORMERR'],
    ['a label with a dot in it', dottedLabel, 'FORMERR'],
    ['EDNS version 1', packet.encode(query('ok.cache.example.com', 'A', { additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 1232, ednsVersion: 1, flags: 0, extendedRcode: 0, flag_do: false, options: [] } as any] })), 'BADVERS'],
  ];

  test.each(cases.map(([name, message, expected]) => ({ name, message, expected })))(
    'over UDP, $name gets $expected; a good query is answered after it', async ({ message, expected }) => {
      const answer = await udp(message);
      if (expected === 'no answer') {
        expect(answer).toBeUndefined();
      } else {
        const decoded = packet.decode(answer!) as packet.DecodedPacket & { rcode: string };
        expect(decoded.id).toBe(message.readUInt16BE(0));
        if (expected === 'BADVERS') {
          expect(decoded.additionals).toMatchObject([{ type: 'OPT', extendedRcode: 1 }]);
        } else {
          expect(decoded.rcode).toBe(expected);
        }
      }
      await stillAnswers();
    });

  test('over TCP, a malformed message gets FORMERR and the connection goes on answering', async () => {
    const bad = Buffer.concat([Buffer.from([0, 14]), header(99, 0, 1), Buffer.from([5, 0x61])]);
    const { data } = await tcp(Buffer.concat([bad, packet.streamEncode(query('ok.cache.example.com', 'A'))]), { end: true });
    const [first, second] = messages(data) as Array<packet.DecodedPacket & { rcode: string }>;
    expect(first).toMatchObject({ id: 99, rcode: 'FORMERR' });
    expect(brief(second.answers)).toEqual(['ok.cache.example.com 60 A 192.0.2.200']);
  });

  test('over TCP, a truncated length prefix and a zero length are closed without an answer', async () => {
    expect(await tcp(Buffer.from([0]), { end: true })).toMatchObject({ data: Buffer.alloc(0), closedAfter: expect.any(Number) });
    expect(await tcp(Buffer.from([0, 0]))).toMatchObject({ data: Buffer.alloc(0), closedAfter: expect.any(Number) });
    await stillAnswers();
  });

  test('over TCP, a client that sends 1 byte and stalls (or dribbles) is closed after the idle timeout, and others are served meanwhile', async () => {
    const stalled = tcp(Buffer.from([0]), { ms: 10_000 });
    const partial = tcp(Buffer.concat([Buffer.from([0, 100]), Buffer.alloc(10)]), { ms: 10_000 });
    // A client that announces 200 bytes and sends one every 50 ms (for 3 s at most) sends no
    // complete message: the deadline runs from the connection's last complete message, not its last byte.
    const dribbler = net.connect(provider.dns.port, '127.0.0.1');
    dribbler.write(Buffer.from([0, 200]));
    let dribbledBytes = 0;
    const dribbled = new Promise<number>((resolve) => {
      const started = Date.now();
      const timer = setInterval(() => {
        if (Date.now() - started > 3_000) clearInterval(timer);
        else if (dribbler.write(Buffer.from([0]))) dribbledBytes++;
      }, 50);
      dribbler.on('error', () => undefined);
      dribbler.on('close', () => {
        clearInterval(timer);
        resolve(Date.now() - started);
      });
    });
    await stillAnswers();
    for (const result of [await stalled, await partial]) {
      expect(result.data.length).toBe(0);
      expect(result.closedAfter).toBeGreaterThanOrEqual(IDLE_MS - 50);
      expect(result.closedAfter).toBeLessThan(IDLE_MS + 1_500);
    }
    expect(await dribbled).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(await dribbled).toBeLessThan(IDLE_MS + 1_500);
    expect(dribbledBytes).toBeGreaterThan(3);
    await stillAnswers();
  });

  test('1000 queries in a burst: over UDP from the resolver of another process, and pipelined in one TCP write', async () => {
    // Another process, as real clients are: in this one the server could read nothing until all
    // 1000 were sent, and a system's default UDP buffer holds about 250. Datagrams the kernel drops
    // are asked again by c-ares (tries); every query must be answered, and correctly.
    const script = `const { Resolver } = require('dns/promises');
      const r = new Resolver({ timeout: 1000, tries: 4 });
      r.setServers([process.argv[1]]);
      Promise.allSettled(Array.from({ length: 1000 }, (_, i) => r.resolve4(i % 2 ? 'ok.cache.example.com' : 'OK.cache.example.com')))
        .then((all) => console.log(JSON.stringify(all.map((a) => a.status === 'fulfilled' ? a.value.join() : a.reason.code))));`;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', script, provider.dns.address], { timeout: 30_000 }, (e, stdout) => (e ? reject(e) : resolve(stdout)));
    });
    const results: string[] = JSON.parse(out);
    expect(results).toHaveLength(1000);
    expect(results.filter((r) => r !== '192.0.2.200')).toEqual([]);

    const queries = Array.from({ length: 1000 }, (_, i) => query('ok.cache.example.com', 'A', { id: i }));
    const { data } = await tcp(Buffer.concat(queries.map((q) => packet.streamEncode(q))), { end: true, ms: 10_000 });
    const replies = messages(data);
    expect(replies.map((m) => m.id)).toEqual(queries.map((q) => q.id));
    expect(replies.every((m) => m.answers?.length === 1)).toBe(true);
    await stillAnswers();
  });
});

test('stop() closes both sockets: a query afterwards gets no answer over UDP, and TCP is refused', async () => {
  const other = await LocalProvider.start();
  const r = new Route53Client({ region: 'us-east-1', endpoint: other.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
  const zone = (await r.send(new CreateHostedZoneCommand({ Name: 'stop.example.com', CallerReference: 'stop' }))).HostedZone!.Id!;
  r.destroy();
  const port = other.dns.port;
  expect(packet.decode((await udp(packet.encode(query('stop.example.com', 'SOA')), port))!).answers).toHaveLength(1);
  expect(messages((await tcp(packet.streamEncode(query('stop.example.com', 'SOA')), { end: true, port })).data)).toHaveLength(1);
  expect(zone).toBeDefined();

  await other.stop();
  expect(await udp(packet.encode(query('stop.example.com', 'SOA')), port, 500)).toBeUndefined();
  expect(await tcp(packet.streamEncode(query('stop.example.com', 'SOA')), { port })).toMatchObject({ error: 'ECONNREFUSED' });
  expect(await errorCode(resolver(`127.0.0.1:${port}`).resolve4('stop.example.com'))).toMatch(/^(ECONNREFUSED|ETIMEOUT)$/);
});

describe('serve as a process', () => {
  beforeAll(requireBuiltCli);

  test('prints CDK_ELASTICACHE_BACKUP_DNS, whose server answers a record changed through its Route 53 endpoint', async () => {
    const serve = await startServe(['--speed', '6000']);
    try {
      const address = serve.env.CDK_ELASTICACHE_BACKUP_DNS;
      expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
      const r = new Route53Client({ region: 'us-east-1', endpoint: serve.env.AWS_ENDPOINT_URL_ROUTE_53, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
      const zone = (await r.send(new CreateHostedZoneCommand({ Name: 'served.example.com', CallerReference: 'served' }))).HostedZone!.Id!;
      const out = await r.send(new ChangeResourceRecordSetsCommand({
        HostedZoneId: zone, ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: rrset('db.served.example.com', 'A', ['10.7.7.7']) }] },
      }));
      // At speed 6000 the 60 simulated seconds of PENDING take 10 real ms.
      await until('the change in sync', async () => (await r.send(new GetChangeCommand({ Id: out.ChangeInfo!.Id }))).ChangeInfo!.Status === 'INSYNC' || undefined, 5_000, 10);
      r.destroy();
      expect(await resolver(address).resolve4('db.served.example.com')).toEqual(['10.7.7.7']);
      expect(await terminate(serve)).toBe(0);
      expect(await errorCode(resolver(address).resolve4('db.served.example.com'))).toMatch(/^(ECONNREFUSED|ETIMEOUT)$/);
    } finally {
      serve.child.kill('SIGKILL');
    }
  });
});
