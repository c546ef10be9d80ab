/**
 * The RDB header reader of the export workflow's manifest (lambda/handlers/rdb.ts) on real RDB files
 * written by redis-server: the key count of the first database, as the file's RESIZEDB record says.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readRdbHeader } from '../lambda/handlers/rdb';
import { RedisServer } from '../local/redis/server';

jest.setTimeout(60_000);

let dir: string;
let server: RedisServer;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rdb-header-'));
  server = await RedisServer.start({ dir });
});

afterAll(async () => {
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Fills the server as `fill` says, saves, and reads the header of the file it wrote. */
async function saved(fill: (c: ReturnType<RedisServer['client']>) => Promise<unknown>) {
  const c = server.client();
  try {
    await c.flushall();
    await fill(c);
    await c.save();
  } finally {
    c.disconnect();
  }
  return readRdbHeader(fs.readFileSync(path.join(dir, 'dump.rdb')).subarray(0, 65536));
}

test('keys in database 0, some with an expiry', async () => {
  const header = await saved(async (c) => {
    for (let i = 0; i < 1234; i += 100) await c.mset(...Array.from({ length: Math.min(100, 1234 - i) }, (_, j) => [`k${i + j}`, 'v']).flat());
    for (let i = 0; i < 10; i++) await c.expire(`k${i}`, 3600);
  });
  expect(header.version).toBeGreaterThanOrEqual(9);
  expect(header.aux['redis-ver']).toMatch(/^\d+\.\d+\.\d+$/);
  expect(header.firstDatabase).toEqual({ db: 0, keys: 1234, expires: 10 });
});

test.each<[string, (c: ReturnType<RedisServer['client']>) => Promise<unknown>, { name: string; expires: boolean } | undefined]>([
  ['a plain key', (c) => c.set('order:1', 'v'), { name: 'order:1', expires: false }],
  ['a key with an expiry', (c) => c.set('session:9', 'v', 'EX', 3600), { name: 'session:9', expires: true }],
  ['a hash', (c) => c.hset('user:7', 'name', 'x'), { name: 'user:7', expires: false }],
  ['an integer-encoded name', (c) => c.set('12345', 'v'), { name: '12345', expires: false }],
  // Redis LZF-compresses strings over 20 bytes: such a name is not read.
  ['a long compressible name', (c) => c.set('k'.repeat(64), 'v'), undefined],
  // A name that is not UTF-8 cannot be written into the manifest as text.
  ['a binary name', (c) => c.set(Buffer.from([0xff, 0xfe, 0x01]), 'v'), undefined],
])('the first key of the file: %s', async (_name, fill, expected) => {
  const header = await saved(fill);
  expect(header.firstKey).toEqual(expected);
});

test('functions loaded (Redis 7 writes them before the databases): skipped, the keys still counted', async () => {
  const header = await saved(async (c) => {
    // A library long enough to be LZF-compressed in the file.
    const code = `#!lua name=mylib\nredis.register_function('answer', function() return ${'1 + '.repeat(40)}1 end)`;
    await c.call('FUNCTION', 'LOAD', code);
    await c.set('order:1', 'v');
    await c.set('order:2', 'v');
  });
  expect(header.firstDatabase).toEqual({ db: 0, keys: 2, expires: 0 });
  expect(header.firstKey?.name).toMatch(/^order:[12]$/);
});

test('an empty dataset has no database record', async () => {
  expect((await saved(async () => undefined)).firstDatabase).toBeUndefined();
});

test('keys only in another database: that database is the first one', async () => {
  const header = await saved(async (c) => {
    await c.select(3);
    await c.set('elsewhere', 'v');
  });
  expect(header.firstDatabase).toEqual({ db: 3, keys: 1, expires: 0 });
});

test.each<[string, Buffer, string]>([
  ['not an RDB file', Buffer.from('PK\u0003\u0004 a zip file'), 'not an RDB file (it does not start with REDIS)'],
  ['no version', Buffer.from('REDISabcd'), 'not an RDB file (no 4-digit version after REDIS)'],
  ['cut short', Buffer.concat([Buffer.from('REDIS0011'), Buffer.from([0xfa, 0x09]), Buffer.from('redis-ver')]), 'the RDB header runs past the bytes read'],
  ['an opcode out of place', Buffer.concat([Buffer.from('REDIS0011'), Buffer.from([0x00])]), 'unexpected RDB opcode 0x0 before the first database'],
])('%s is refused', (_name, bytes, message) => {
  expect(() => readRdbHeader(bytes)).toThrow(message);
});
