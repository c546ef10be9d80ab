/**
 * What the start of an RDB file says about its data, read without loading it: the RDB version, the
 * auxiliary fields (redis-ver, ctime, ...) and the key count of the first database, which Redis
 * writes as a RESIZEDB record right after SELECTDB, before the keys (RDB 7 and later, Redis 3.2+).
 *
 * The format, as Redis's rdb.c writes it: "REDIS" and a 4-digit version, then opcodes: 0xFA AUX
 * (two strings), 0xF5 FUNCTION2 (Redis 7: one string per library, written before the databases,
 * skipped), 0xF6 FUNCTION_PRE_GA and 0xF7 MODULE_AUX (not read: the header is then reported
 * unreadable), 0xFE SELECTDB (length), 0xFB RESIZEDB (two
 * lengths: keys, keys with an expiry), 0xFF EOF. Lengths: 6-bit, 14-bit, 32- or 64-bit big-endian;
 * strings: length-prefixed or integers (8/16/32-bit). Only the header is read,
 * so a ranged GET of the first kilobytes is enough. Not a general RDB parser (no library is needed
 * for this much, and the handler bundle stays small).
 */

/* eslint-disable no-bitwise -- a binary format: lengths are packed in the bits of their first byte */

export interface RdbHeader {
  readonly version: number;
  readonly aux: Record<string, string>;
  /** The first database's number and counts, when the file has one. */
  readonly firstDatabase?: { readonly db: number; readonly keys: number; readonly expires: number };
  /**
   * The first key of the first database (the name of the first entry written after RESIZEDB), and
   * whether it carries an expiry; absent when it is not within the bytes read, or its name is
   * LZF-compressed (Redis compresses strings over 20 bytes).
   */
  readonly firstKey?: { readonly name: string; readonly expires: boolean };
}

const OP = {
  AUX: 0xfa, RESIZEDB: 0xfb, SELECTDB: 0xfe, EOF: 0xff, EXPIRETIME_MS: 0xfc, EXPIRETIME: 0xfd, IDLE: 0xf8, FREQ: 0xf9, FUNCTION2: 0xf5,
} as const;

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  public byte(): number {
    if (this.pos >= this.buf.length) throw new RangeError('the RDB header runs past the bytes read');
    return this.buf[this.pos++];
  }

  public bytes(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw new RangeError('the RDB header runs past the bytes read');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A length, or a special string encoding (`special` set, `value` its kind). */
  public length(): { value: number; special: boolean } {
    const first = this.byte();
    switch (first >> 6) {
      case 0: return { value: first & 0x3f, special: false };
      case 1: return { value: ((first & 0x3f) << 8) | this.byte(), special: false };
      case 2:
        if (first === 0x80) return { value: this.bytes(4).readUInt32BE(0), special: false };
        if (first === 0x81) return { value: Number(this.bytes(8).readBigUInt64BE(0)), special: false };
        throw new Error(`unknown RDB length encoding 0x${first.toString(16)}`);
      default: return { value: first & 0x3f, special: true };
    }
  }

  /** Skips a string, LZF-compressed ones included (special 3: compressed length, plain length, data). */
  public skipString(): void {
    const { value, special } = this.length();
    if (!special) {
      this.bytes(value);
      return;
    }
    switch (value) {
      case 0: this.bytes(1); return;
      case 1: this.bytes(2); return;
      case 2: this.bytes(4); return;
      case 3: {
        const compressed = this.length().value;
        this.length();
        this.bytes(compressed);
        return;
      }
      default: throw new Error(`unknown RDB string encoding ${value}`);
    }
  }

  /** A string's bytes (integer encodings as their decimal digits). */
  public raw(): Buffer {
    const { value, special } = this.length();
    if (!special) return Buffer.from(this.bytes(value));
    return Buffer.from(this.special(value));
  }

  public string(): string {
    const { value, special } = this.length();
    if (!special) return this.bytes(value).toString('utf-8');
    return this.special(value);
  }

  private special(value: number): string {
    switch (value) {
      case 0: return String(this.bytes(1).readInt8(0));
      case 1: return String(this.bytes(2).readInt16LE(0));
      case 2: return String(this.bytes(4).readInt32LE(0));
      // 3 is an LZF-compressed string, which Redis writes only for strings over 20 bytes: never an
      // auxiliary field it writes today. Not read here (the caller then reports no key count).
      default: throw new Error(`unknown RDB string encoding ${value}`);
    }
  }
}

/** Reads the header of an RDB file from its first bytes. */
export function readRdbHeader(buf: Buffer): RdbHeader {
  const magic = buf.subarray(0, 5).toString('latin1');
  if (magic !== 'REDIS') {
    throw new Error('not an RDB file (it does not start with REDIS)');
  }
  const version = Number(buf.subarray(5, 9).toString('latin1'));
  if (!Number.isInteger(version)) {
    throw new Error('not an RDB file (no 4-digit version after REDIS)');
  }
  const r = new Reader(buf.subarray(9));
  const aux: Record<string, string> = {};
  for (;;) {
    const op = r.byte();
    if (op === OP.AUX) {
      const key = r.string();
      aux[key] = r.string();
    } else if (op === OP.SELECTDB) {
      const db = r.length().value;
      if (r.byte() !== OP.RESIZEDB) {
        return { version, aux };
      }
      const firstDatabase = { db, keys: r.length().value, expires: r.length().value };
      return { version, aux, firstDatabase, firstKey: firstKeyOf(r) };
    } else if (op === OP.FUNCTION2) {
      // Redis 7 writes its functions' libraries (one string each) before the databases.
      r.skipString();
    } else if (op === OP.EOF) {
      // An empty dataset.
      return { version, aux };
    } else if (op === 0xf6 || op === 0xf7) {
      // Pre-release functions or a module's auxiliary data: their length is not known here.
      throw new Error(`RDB opcode 0x${op.toString(16)} (functions before 7.0 GA, or module data) before the first database is not read`);
    } else {
      throw new Error(`unexpected RDB opcode 0x${op.toString(16)} before the first database`);
    }
  }
}

/**
 * The first key entry after RESIZEDB: optional expiry (0xFC: 8 bytes, 0xFD: 4 bytes) and LRU/LFU
 * (0xF8: a length, 0xF9: one byte) opcodes, then the value's type byte and the key's name.
 */
function firstKeyOf(r: Reader): RdbHeader['firstKey'] {
  try {
    let expires = false;
    for (;;) {
      const op = r.byte();
      if (op === OP.EXPIRETIME_MS) {
        r.bytes(8);
        expires = true;
      } else if (op === OP.EXPIRETIME) {
        r.bytes(4);
        expires = true;
      } else if (op === OP.IDLE) {
        r.length();
      } else if (op === OP.FREQ) {
        r.byte();
      } else if (op >= 0xf0) {
        // Another opcode (EOF, a module's auxiliary data): no key here.
        return undefined;
      } else {
        const raw = r.raw();
        const name = raw.toString('utf-8');
        // A name that is not UTF-8 cannot be carried in the manifest as text: no sample key then.
        return Buffer.from(name, 'utf-8').equals(raw) ? { name, expires } : undefined;
      }
    }
  } catch {
    return undefined;
  }
}
