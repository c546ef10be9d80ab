/**
 * The drill's application traffic: a dataset written once, then a steady stream of writes at a
 * stated rate on the provider's simulated clock, so that an outage has something to lose; and the
 * count, after the restore, of what came back.
 *
 * Every write is one key whose value carries its sequence number and simulated write time. Keys
 * are grouped in batches of {@link BATCH} under one hash tag (`drill:{b<batch>}:<seq>`): a batch is
 * one slot, so it is one pipeline (or MGET) even on a cluster-mode group, and batches spread over
 * the shards. Writes are driven by the drill as it moves the clock (`writeUntil`), not by real
 * time: a week at 60 writes a minute takes seconds.
 */
import '../resolve';
import Redis, { Cluster } from 'ioredis';

/** Keys per hash tag (one slot), and per pipeline. */
export const BATCH = 1000;

/** Where the application writes: a group's endpoint name (resolved by the provider's DNS server). */
export interface TrafficTarget {
  readonly host: string;
  readonly port: number;
  /** In-transit encryption (TLS with the endpoint name as the server name). */
  readonly tls: boolean;
  /**
   * The certificate authority the nodes' certificates come from (PEM): the local provider's CA
   * (local/tls.ts), which a process started without `NODE_EXTRA_CA_CERTS` does not trust otherwise.
   */
  readonly ca?: string;
  /** The AUTH token, when the group has one. */
  readonly password?: string;
  /** A cluster-mode-enabled group, reached through its configuration endpoint. */
  readonly cluster: boolean;
}

export interface TrafficOptions {
  /** Writes per simulated minute after the initial dataset. */
  readonly writesPerMinute: number;
  /** Bytes per value (at least enough for the sequence number and time). */
  readonly valueBytes: number;
}

/** What the read-back found. */
export interface ReadBack {
  /** Writes acknowledged by the primary before the outage. */
  readonly written: number;
  /** Of those, found with their value after the restore. */
  readonly survived: number;
  readonly lost: number;
  /** Simulated time of the newest acknowledged write (ms since the epoch), if any. */
  readonly lastWriteAt?: number;
  /** Simulated time of the newest write that came back, if any. */
  readonly lastSurvivingWriteAt?: number;
}

export function keyOf(seq: number): string {
  return `drill:{b${Math.floor(seq / BATCH)}}:${seq}`;
}

function valueOf(seq: number, at: number, bytes: number): string {
  const head = `${seq}:${at}:`;
  return head.length >= bytes ? head : head + 'x'.repeat(bytes - head.length);
}

/** Sequence number and time of a value written by `valueOf`, if it is one for `seq`. */
function parseValue(seq: number, value: string | null): number | undefined {
  if (value === null) return undefined;
  const [s, t] = value.split(':', 2);
  return Number(s) === seq && Number.isFinite(Number(t)) ? Number(t) : undefined;
}

/** Opens a client for `target`; the caller quits it. */
export function connect(target: TrafficTarget): Redis | Cluster {
  const ca = target.ca ? { ca: target.ca } : {};
  const tls = target.tls ? { servername: target.host, ...ca } : undefined;
  const common = { password: target.password, tls, maxRetriesPerRequest: 2, connectTimeout: 5000 };
  if (target.cluster) {
    // The names in CLUSTER SLOTS are resolved when connecting (TLS needs the name, not the address).
    return new Cluster([{ host: target.host, port: target.port }], {
      dnsLookup: (address, callback) => callback(null, address),
      redisOptions: { ...common, tls: target.tls ? ca : undefined },
      clusterRetryStrategy: () => null,
    });
  }
  return new Redis({ host: target.host, port: target.port, ...common, retryStrategy: () => null });
}

export class Traffic {
  /** Simulated write time of each acknowledged write, by sequence number. */
  private readonly times: number[] = [];
  private client?: Redis | Cluster;
  private clockAt?: number;

  constructor(private readonly target: TrafficTarget, private readonly options: TrafficOptions) {
    if (!(options.writesPerMinute >= 0) || !Number.isFinite(options.writesPerMinute)) {
      throw new Error(`the write rate must be a finite number of writes per minute >= 0, got ${options.writesPerMinute}`);
    }
    if (!Number.isInteger(options.valueBytes) || options.valueBytes < 1 || options.valueBytes > 1024 * 1024) {
      throw new Error(`the value size must be a whole number of bytes from 1 to 1048576, got ${options.valueBytes}`);
    }
  }

  /** Acknowledged writes so far. */
  public get written(): number {
    return this.times.length;
  }

  /** The newest acknowledged write's simulated time. */
  public get lastWriteAt(): number | undefined {
    return this.times[this.times.length - 1];
  }

  /** Writes `count` keys at simulated time `at` (the dataset), and starts the stream's count from `at`. */
  public async fill(count: number, at: number): Promise<void> {
    await this.write(count, () => at);
    this.clockAt = at;
  }

  /**
   * Writes the stream's keys due between the last call and simulated time `to`, each stamped with
   * its own due time; answers how many. A write the group refuses (it is gone) ends the call with
   * the error; what was acknowledged before it counts.
   */
  public async writeUntil(to: number): Promise<number> {
    const from = this.clockAt ?? to;
    if (to <= from) return 0;
    const perMs = this.options.writesPerMinute / 60_000;
    // Writes due in (from, to]: the stream is continuous, so a call's rounding carries to the next.
    const due = Math.floor(to * perMs) - Math.floor(from * perMs);
    const first = Math.floor(from * perMs) + 1;
    const n = await this.write(due, (i) => Math.ceil((first + i) / perMs));
    this.clockAt = to;
    return n;
  }

  private async write(count: number, timeOf: (i: number) => number): Promise<number> {
    if (count <= 0) return 0;
    this.client ??= connect(this.target);
    let done = 0;
    while (done < count) {
      const seq0 = this.times.length;
      // A pipeline never crosses a batch (one slot).
      const n = Math.min(count - done, BATCH - (seq0 % BATCH));
      const pipeline = this.client.pipeline();
      const at: number[] = [];
      for (let i = 0; i < n; i++) {
        at.push(timeOf(done + i));
        pipeline.set(keyOf(seq0 + i), valueOf(seq0 + i, at[i], this.options.valueBytes));
      }
      const results = await pipeline.exec();
      // Acknowledged in order: stop at the first refusal.
      for (let i = 0; i < n; i++) {
        const [err] = results?.[i] ?? [new Error('no reply')];
        if (err) throw new Error(`write ${seq0 + i} (${keyOf(seq0 + i)}) failed: ${err.message}`);
        this.times.push(at[i]);
      }
      done += n;
    }
    return count;
  }

  /** Closes the writer's connection (the primary may be gone: never waits for it). */
  public close(): void {
    this.client?.disconnect();
    this.client = undefined;
  }

  /** Reads every acknowledged write back from `target` (the restored group, through its name) and counts what came back. */
  public async readBack(target: TrafficTarget): Promise<ReadBack> {
    const client = connect(target);
    try {
      let survived = 0;
      let lastSurvivingWriteAt: number | undefined;
      for (let start = 0; start < this.times.length; start += BATCH) {
        const seqs = Array.from({ length: Math.min(BATCH, this.times.length - start) }, (_, i) => start + i);
        const values = await client.mget(...seqs.map(keyOf));
        seqs.forEach((seq, i) => {
          const at = parseValue(seq, values[i]);
          if (at === this.times[seq]) {
            survived++;
            if (lastSurvivingWriteAt === undefined || at > lastSurvivingWriteAt) lastSurvivingWriteAt = at;
          }
        });
      }
      return { written: this.times.length, survived, lost: this.times.length - survived, lastWriteAt: this.lastWriteAt, lastSurvivingWriteAt };
    } finally {
      client.disconnect();
    }
  }
}
