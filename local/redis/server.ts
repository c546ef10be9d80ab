/**
 * A real `redis-server` process on a loopback address (127.0.0.1, or one of its own), started and
 * stopped by its own PID. Every node of an
 * emulated replication group is one of these.
 */
import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import Redis from 'ioredis';
import { withParentDeathSignal } from '../orphans';
import { issueNodeCertificate, localCa } from '../tls';

export interface RedisServerOptions {
  /** Folder for the server's RDB file and log; created if missing. */
  readonly dir: string;
  /** The RDB file the server loads at start (if present) and saves to. @default 'dump.rdb' */
  readonly dbfilename?: string;
  /** Start as a Redis Cluster node (`cluster-enabled yes`). @default false */
  readonly cluster?: boolean;
  /** The `redis-server` binary. @default 'redis-server' from PATH */
  readonly binary?: string;
  /** Once aborted, a start under way fails and no new one begins (the servers are stopped through `track`). */
  readonly signal?: AbortSignal;
  /** Holds this server from the moment its process is spawned until it has exited, so an owner can stop every one it started. */
  readonly track?: Set<RedisServer>;
  /**
   * The AUTH tokens clients must send (the `default` user's passwords; ElastiCache's AUTH token is
   * Redis `requirepass`, and during a ROTATE both tokens are valid). @default - none: no AUTH
   */
  readonly authTokens?: readonly string[];
  /**
   * Speak TLS only (ElastiCache's in-transit encryption): the server listens on a TLS port with a
   * certificate of this machine's local CA (see ../tls.ts) for `tlsNames` and its address,
   * replicates and runs its cluster bus over TLS, and refuses plain connections. @default false
   */
  readonly tls?: boolean;
  /** The DNS names the TLS certificate is for, besides the server's address. @default - none */
  readonly tlsNames?: readonly string[];
  /**
   * The port to listen on, on a loopback address of the server's own (127.X.Y.Z), as each node of
   * an ElastiCache group listens on the group's port at its own address. @default - 127.0.0.1 and a port the OS gives
   */
  readonly port?: number;
  /**
   * A cluster node's host name, given to clients instead of its address (CLUSTER SLOTS, CLUSTER
   * SHARDS, MOVED), as ElastiCache's TLS clusters answer with node names (Redis 7
   * `cluster-announce-hostname` with `cluster-preferred-endpoint-type hostname`). @default - its address
   */
  readonly announceHostname?: string;
}

/** Client TLS options for a TLS node: verified against this machine's local CA, whatever NODE_EXTRA_CA_CERTS says. */
function clientTls(tls: boolean | undefined): { tls?: { ca: Buffer } } {
  return tls ? { tls: { ca: fs.readFileSync(localCa().caFile) } } : {};
}

/**
 * The user the provider's own connections (clients made by `client()`, readiness probes, replicas
 * syncing with their primary) sign in as, so that they work whatever AUTH tokens the `default` user
 * (the one ElastiCache's clients use) has. Its password is random per process and never leaves it.
 */
export const ADMIN_USER = 'cdk-elasticache-local';
const ADMIN_PASSWORD = randomBytes(24).toString('hex');

/** The ACL rules of the `default` user for `tokens`: their passwords, or none when there is no token. */
function defaultUserRules(tokens: readonly string[] | undefined): string[] {
  return tokens && tokens.length > 0 ? ['on', 'resetpass', ...tokens.map((t) => `>${t}`), '~*', '&*', '+@all'] : ['on', 'nopass', '~*', '&*', '+@all'];
}

/** How long a node may take to do what it is asked (sync, save, fail over) before the wait fails. */
export const NODE_WAIT_MS = 60_000;

/**
 * Polls `probe` until it returns true. Fails as soon as one of `servers` is no longer running (a
 * dead node never answers), when `signal` is aborted, or after `timeoutMs`: no wait on a node is
 * unbounded.
 */
export async function waitOn(what: string, servers: ReadonlyArray<RedisServer | undefined>, probe: () => Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? NODE_WAIT_MS);
  for (;;) {
    const dead = servers.find((s) => !s?.running);
    if (servers.length > 0 && dead !== undefined) {
      throw new Error(`${what}: the redis-server on port ${dead?.port} is not running`);
    }
    if (options.signal?.aborted) {
      throw new Error(`${what}: stopped`);
    }
    if (await probe()) return;
    if (Date.now() > deadline) {
      throw new Error(`${what}: not done after ${options.timeoutMs ?? NODE_WAIT_MS} ms`);
    }
    await sleep(options.intervalMs ?? 10);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on `host` (`port` 0: whatever the OS hands out), or undefined when taken. */
async function tryPort(port: number, host = '127.0.0.1'): Promise<number | undefined> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(undefined));
    probe.listen(port, host, () => {
      const got = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(got));
    });
  });
}

/**
 * A free TCP port on `host`, as the OS hands it out. For a cluster node, also its cluster bus
 * port (port + 10000) must be free, so the port must be below 55536.
 */
export async function freePort(cluster = false, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await tryPort(0, host);
    if (port === undefined) continue;
    if (!cluster) return port;
    if (port + 10000 <= 65535 && (await tryPort(port + 10000, host)) !== undefined) return port;
  }
  throw new Error(`no free port (and cluster bus port) found on ${host}`);
}

/** A random loopback address of the provider's range, 127.100.0.1 to 127.199.255.254 (clear of 127.0.0.0/16, which hosts use). */
function randomLoopback(): string {
  const [a, b, c] = randomBytes(3);
  return `127.${100 + (a % 100)}.${b}.${1 + (c % 254)}`;
}

/**
 * A loopback address and port for a node that wants `port`: the first of a few random addresses on
 * which the port (and, for a cluster node, its bus port) is free; failing that (something listens
 * on the port on every address, e.g. on 0.0.0.0), a random address with a port the OS gives.
 */
async function nodeAddress(port: number | undefined, cluster: boolean): Promise<{ host: string; port: number }> {
  if (port === undefined) return { host: '127.0.0.1', port: await freePort(cluster) };
  for (let attempt = 0; attempt < 20; attempt++) {
    const host = randomLoopback();
    if (await tryPort(port, host) === undefined) continue;
    if (cluster && (port + 10000 > 65535 || await tryPort(port + 10000, host) === undefined)) continue;
    return { host, port };
  }
  const host = randomLoopback();
  return { host, port: await freePort(cluster, host) };
}

export class RedisServer {
  /** Starts a server and waits until it accepts commands and has loaded its data. */
  public static async start(options: RedisServerOptions): Promise<RedisServer> {
    fs.mkdirSync(options.dir, { recursive: true });
    let lastError: Error | undefined;
    // The port is free when asked for but may be taken before redis binds it: try a few.
    for (let attempt = 0; attempt < 5; attempt++) {
      if (options.signal?.aborted) {
        throw new Error(`redis-server in ${options.dir} was not started: stopped`);
      }
      const { host, port } = await nodeAddress(options.port, options.cluster ?? false);
      const server = new RedisServer(options, host, port);
      try {
        await server.launch();
        return server;
      } catch (e) {
        lastError = e as Error;
        await server.stop();
      }
    }
    throw new Error(`redis-server did not start in ${options.dir}: ${lastError?.message}`);
  }

  public readonly dbfilename: string;
  private process?: ChildProcess;
  private exited?: Promise<void>;
  private readonly clients: Redis[] = [];
  private stderr = '';
  private stopping = false;
  private readonly exitListeners: Array<(expected: boolean) => void> = [];

  private constructor(private readonly options: RedisServerOptions, public readonly host: string, public readonly port: number) {
    this.dbfilename = options.dbfilename ?? 'dump.rdb';
  }

  /** The folder holding the RDB file. */
  public get dir(): string {
    return this.options.dir;
  }

  /** Whether the server speaks TLS only (see `RedisServerOptions.tls`). */
  public get tls(): boolean {
    return this.options.tls ?? false;
  }

  /** The path of the server's RDB file. */
  public get rdbPath(): string {
    return path.join(this.options.dir, this.dbfilename);
  }

  public get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Whether the process is still running. */
  public get running(): boolean {
    return this.process !== undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** A client connected to this server as the provider's own user (closed when the server stops). */
  public client(): Redis {
    // Bounded: a command to a node that stopped answering fails instead of waiting for ever.
    const client = new Redis({
      host: this.host,
      port: this.port,
      lazyConnect: false,
      maxRetriesPerRequest: 2,
      enableOfflineQueue: true,
      commandTimeout: 30_000,
      connectTimeout: 10_000,
      username: ADMIN_USER,
      password: ADMIN_PASSWORD,
      ...clientTls(this.options.tls),
    });
    client.on('error', () => undefined);
    this.clients.push(client);
    return client;
  }

  private async launch(): Promise<void> {
    const args = [
      '--bind', this.host,
      // Connections the node opens (to its primary, on the cluster bus) come from its own address,
      // and it is known by it: other nodes would otherwise see 127.0.0.1, the loopback's default source.
      '--bind-source-addr', this.host,
      '--replica-announce-ip', this.host,
      '--dir', this.options.dir,
      '--dbfilename', this.dbfilename,
      '--save', '',
      '--appendonly', 'no',
      // A replica's full sync should not wait for more replicas to arrive.
      '--repl-diskless-sync-delay', '0',
      // Protected mode refuses clients from any address but 127.0.0.1 and ::1 while the default user
      // has no password, which would refuse the replicas and cluster peers that connect from their own
      // loopback addresses. It guards servers bound to every interface; these bind one loopback address.
      '--protected-mode', 'no',
      '--daemonize', 'no',
      '--loglevel', 'warning',
      // The provider's own user, and replicas signing in to their primary as it.
      '--user', ADMIN_USER, 'on', `>${ADMIN_PASSWORD}`, '~*', '&*', '+@all',
      '--masteruser', ADMIN_USER, '--masterauth', ADMIN_PASSWORD,
      '--user', 'default', ...defaultUserRules(this.options.authTokens),
    ];
    if (this.options.tls) {
      // As ElastiCache with in-transit encryption: TLS only, clients not asked for certificates, and
      // replication and the cluster bus over TLS too (verified against the same CA).
      const files = issueNodeCertificate(this.options.dir, this.options.tlsNames ?? [], [this.host]);
      args.push('--port', '0', '--tls-port', String(this.port),
        '--tls-cert-file', files.certFile, '--tls-key-file', files.keyFile, '--tls-ca-cert-file', files.caFile,
        '--tls-auth-clients', 'no', '--tls-replication', 'yes');
      if (this.options.cluster) args.push('--tls-cluster', 'yes');
    } else {
      args.push('--port', String(this.port));
    }
    if (this.options.cluster) {
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${this.port}.conf`, '--cluster-node-timeout', '5000',
        '--cluster-announce-ip', this.host);
      if (this.options.announceHostname) {
        args.push('--cluster-announce-hostname', this.options.announceHostname, '--cluster-preferred-endpoint-type', 'hostname');
      }
    }
    // A node must not outlive the provider, however the provider dies (see ../orphans.ts).
    const [command, argv] = withParentDeathSignal(this.options.binary ?? 'redis-server', args);
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.process = child;
    this.options.track?.add(this);
    this.exited = new Promise((resolve) => child.once('exit', () => {
      this.options.track?.delete(this);
      // Commands to a dead server fail now rather than after the clients' reconnect attempts.
      for (const client of this.clients.splice(0)) client.disconnect();
      for (const listener of this.exitListeners.splice(0)) listener(this.stopping);
      resolve();
    }));
    child.once('error', () => this.options.track?.delete(this));
    child.stderr?.on('data', (chunk) => { this.stderr = (this.stderr + chunk.toString()).slice(-4000); });
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    await Promise.race([this.waitReady(), spawnError]);
  }

  /** Waits until the server answers PING and is not loading a dataset. */
  private async waitReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new Error(`redis-server exited (code ${this.process?.exitCode}): ${this.stderr.trim()}`);
      }
      if (this.options.signal?.aborted) {
        throw new Error(`redis-server on port ${this.port} was not started: stopped`);
      }
      const probe = new Redis({
        host: this.host,
        port: this.port,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        connectTimeout: 2_000,
        commandTimeout: 2_000,
        username: ADMIN_USER,
        password: ADMIN_PASSWORD,
        ...clientTls(this.options.tls),
      });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        const info = await probe.info('persistence');
        if (/loading:0/.test(info)) {
          return;
        }
      } catch {
        // not up yet
      } finally {
        probe.disconnect();
      }
      await sleep(20);
    }
    throw new Error(`redis-server on port ${this.port} was not ready after ${timeoutMs} ms`);
  }

  /**
   * Saves the dataset with BGSAVE and waits until the save is done. Returns the RDB file's path.
   * Throws when Redis reports the save failed.
   */
  public async bgsave(timeoutMs = 10 * NODE_WAIT_MS): Promise<string> {
    const client = this.client();
    const saves = (info: string) => Number(/rdb_saves:(\d+)/.exec(info)?.[1] ?? NaN);
    try {
      const before = saves(await client.info('persistence'));
      if (Number.isNaN(before)) {
        throw new Error('redis-server reports no rdb_saves in INFO persistence; Redis 7.0 or later is needed');
      }
      await client.bgsave();
      await waitOn(`BGSAVE on port ${this.port}`, [this], async () => {
        const info = await client.info('persistence');
        if (!/rdb_bgsave_in_progress:1/.test(info) && !/rdb_last_bgsave_status:ok/.test(info)) {
          throw new Error(`BGSAVE failed on port ${this.port}`);
        }
        return !/rdb_bgsave_in_progress:1/.test(info) && saves(info) > before;
      }, { timeoutMs: timeoutMs, signal: this.options.signal });
      return this.rdbPath;
    } finally {
      this.release(client);
    }
  }

  /**
   * Makes `tokens` the AUTH tokens clients must send (none: no AUTH). Connections already signed
   * in stay signed in, as in Redis when a password is changed.
   */
  public async setAuthTokens(tokens: readonly string[]): Promise<void> {
    const client = this.client();
    try {
      await client.call('ACL', 'SETUSER', 'default', ...defaultUserRules(tokens));
    } finally {
      this.release(client);
    }
  }

  /** Closes a client made by `client()`. */
  public release(client: Redis): void {
    client.disconnect();
    const i = this.clients.indexOf(client);
    if (i >= 0) this.clients.splice(i, 1);
  }

  /** Stops the server (SIGTERM, then SIGKILL) and waits for it to exit. Safe to call twice. */
  public async stop(): Promise<void> {
    for (const client of this.clients.splice(0)) {
      client.disconnect();
    }
    const child = this.process;
    if (!child || !this.running) {
      return;
    }
    this.stopping = true;
    child.kill('SIGTERM');
    const killed = await Promise.race([this.exited!.then(() => true), sleep(5_000).then(() => false)]);
    if (!killed) {
      child.kill('SIGKILL');
      await this.exited;
    }
  }

  /**
   * Calls `listener` once when the process exits, with whether the exit was asked for (`stop`) or
   * not (a crash, a kill from outside, `kill`).
   */
  public onExit(listener: (expected: boolean) => void): void {
    if (this.process && !this.running) {
      listener(this.stopping);
      return;
    }
    this.exitListeners.push(listener);
  }

  /** Kills the process without letting it save or clean up, as a crashed node. */
  public kill(): void {
    this.process?.kill('SIGKILL');
  }

  /** Kills the process as `kill` does and waits until it has exited (at most 5 s: a process that never spawned has no exit). */
  public async killAndWait(): Promise<void> {
    if (!this.process || !this.running) return;
    this.kill();
    await Promise.race([this.exited, sleep(5_000)]);
  }
}
