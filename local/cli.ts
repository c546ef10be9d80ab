/**
 * `cdk-elasticache-backup serve`: the local provider as a standalone process.
 *
 * It prints the environment that points unchanged AWS SDK clients and the AWS CLI at it, one
 * `NAME=value` per line, so that `export $(cdk-elasticache-backup serve --detach)` works, and stops
 * cleanly (every redis-server it started, and its files) on SIGINT or SIGTERM. Killed any other way
 * (kill -9, the OOM killer), its nodes still go with it and the next `serve` removes its folder
 * (see orphans.ts); a data folder is used by one provider at a time (see owner.ts).
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DRILL_USAGE, drillAndReport, parseDrillArgs } from './drill/command';
import { sweepStaleDataDirs, TEMP_PREFIX } from './orphans';
import { DataDirInUseError } from './owner';
import { LocalProvider } from './provider';
import { localCa } from './tls';

/** The log of a detached provider, in its data folder. */
const LOG_NAME = 'serve.log';

/**
 * NODE_OPTIONS that preload the name resolution hook (bundled next to this file in lib/local/), so
 * that Node apps started with the printed variables resolve the endpoint names through the
 * provider's DNS server. Nothing when run from source (there is no bundled hook to load).
 */
function resolveHook(): Record<string, string> {
  const hook = path.join(__dirname, 'resolve-hook.js');
  return fs.existsSync(hook) ? { NODE_OPTIONS: `--require=${hook}` } : {};
}
/** How long a stop may take before the process exits anyway (its nodes die with it, see orphans.ts). */
const STOP_DEADLINE_MS = 30_000;

const USAGE = `Usage: cdk-elasticache-backup serve [--speed N] [--data-dir DIR] [--detach]

Starts the local provider: emulated ElastiCache, S3 and Route 53 on 127.0.0.1, backed by real
redis-server processes, and prints the variables that point AWS SDK clients at it, and
CDK_ELASTICACHE_BACKUP_DNS: the address of a DNS server (UDP and TCP) that answers the hosted
zones' records once their change is INSYNC and ElastiCache's endpoint names
(dig @127.0.0.1 -p PORT name), NODE_OPTIONS: a preload through which Node apps resolve those names
with it, and NODE_EXTRA_CA_CERTS: this machine's local CA, which issues the certificates the nodes
of groups with in-transit encryption serve (TLS only, as on ElastiCache); Node apps started with it
trust them, other clients take the file, e.g. redis-cli --tls --cacert "$NODE_EXTRA_CA_CERTS".

  --speed N       simulated milliseconds per real millisecond (default 600: a real second is ten
                  simulated minutes)
  --data-dir DIR  where node data, snapshots and objects live (default: a new temporary folder,
                  removed on stop)
  --detach        start in the background, print the variables and return; stop it with
                  kill $CDK_ELASTICACHE_LOCAL_PID. Use as: export $(cdk-elasticache-backup serve --detach)
                  Its messages go to CDK_ELASTICACHE_LOCAL_LOG (serve.log in the data folder), which
                  is kept when it stops after a crash.

One provider uses a data folder at a time. A new serve removes the temporary folders of providers
that were killed (kill -9), and takes over a --data-dir whose provider is no longer running.
`;

interface Options {
  speed?: number;
  dataDir?: string;
  /** The data folder is a temporary one made by a detaching parent: removed on stop. (Internal.) */
  tempDataDir?: boolean;
  detach: boolean;
}

function parse(args: string[]): Options {
  const options: Options = { detach: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--speed') {
      const speed = Number(value());
      if (!(speed > 0)) throw new Error(`--speed must be a positive number, got ${args[i]}`);
      options.speed = speed;
    } else if (arg === '--data-dir') {
      options.dataDir = value();
    } else if (arg === '--temp-data-dir') {
      options.dataDir = value();
      options.tempDataDir = true;
    } else if (arg === '--detach') {
      options.detach = true;
    } else {
      throw new Error(`unknown option ${arg}`);
    }
  }
  return options;
}

function checkRedis(): void {
  const probe = spawnSync('redis-server', ['--version']);
  if (probe.error || probe.status !== 0) {
    throw new Error('redis-server was not found on PATH; install it (Debian: apt-get install -y redis-server)');
  }
}

/**
 * Starts a detached copy of this command and prints its variables once it is ready, and the path of
 * its log: the child's stderr is a file in its data folder, so that whatever it says (up to a fatal
 * error of Node.js itself) can be read after it is gone.
 */
async function detach(args: string[], options: Options): Promise<void> {
  const childArgs = args.filter((a) => a !== '--detach');
  let dataDir = options.dataDir;
  if (dataDir === undefined) {
    // The folder is made here, so that the log can be opened in it before the child starts.
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), TEMP_PREFIX));
    childArgs.push('--temp-data-dir', dataDir);
  }
  dataDir = path.resolve(dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const log = path.join(dataDir, LOG_NAME);
  // Appended to: a given --data-dir may hold the log of a provider still running there.
  const fd = fs.openSync(log, 'a');
  const from = fs.fstatSync(fd).size;
  let child;
  try {
    child = spawn(process.execPath, [process.argv[1], 'serve', ...childArgs], {
      detached: true,
      stdio: ['ignore', 'pipe', fd],
    });
  } finally {
    fs.closeSync(fd);
  }
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk) => {
        output += chunk.toString();
        if (/^CDK_ELASTICACHE_LOCAL_PID=\d+$/m.test(output)) resolve();
      });
      child.once('exit', (code) => {
        const said = fs.readFileSync(log).subarray(from).toString('utf-8');
        if (options.dataDir === undefined) {
          // Nothing else will read the folder made above: its log is shown here.
          fs.rmSync(dataDir!, { recursive: true, force: true });
          reject(new Error(`the local provider exited before it was ready (code ${code}):\n${said}`));
        } else {
          reject(new Error(`the local provider exited before it was ready (code ${code}); its log (${log}) says:\n${said}`));
        }
      });
    });
  } catch (e) {
    // The message already ends with the log's last newline.
    process.stderr.write(`cdk-elasticache-backup serve: ${(e as Error).message}`);
    throw new Reported();
  }
  process.stdout.write(output + `CDK_ELASTICACHE_LOCAL_LOG=${log}\n`);
  child.stdout!.destroy();
  child.unref();
}

/** An error whose message was already written. */
class Reported extends Error {}

async function serve(options: Options): Promise<void> {
  checkRedis();
  // What killed providers left in the temporary folder: their folders, and nodes that escaped.
  for (const line of sweepStaleDataDirs(os.tmpdir()).messages) process.stderr.write(`local provider: ${line}\n`);
  let provider: LocalProvider;
  try {
    provider = await LocalProvider.start({ speed: options.speed, dataDir: options.dataDir, removeDataDir: options.tempDataDir, tickClock: true });
  } catch (e) {
    if (e instanceof DataDirInUseError) {
      throw new Error(`--data-dir ${e.dir} is in use by the local provider with PID ${e.owner} (${e.lockFile}): `
        + `two providers in one folder would overwrite each other's nodes and objects; stop it (kill ${e.owner}) or choose another folder`);
    }
    throw e;
  }
  if (provider.previousOwner !== undefined) {
    process.stderr.write(`local provider: took over --data-dir ${provider.dataDir} from the local provider with PID ${provider.previousOwner}, which is no longer running\n`);
  }
  const log = path.join(provider.dataDir, LOG_NAME);
  let stopping: Promise<void> | undefined;
  const stop = (code: number) => {
    if (stopping) return stopping;
    // Bounded: a stop that hangs must not keep the process (and its port) forever.
    setTimeout(() => {
      process.stderr.write(`local provider: stopping took more than ${STOP_DEADLINE_MS} ms; exiting\n`);
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    const crashed = code !== 0;
    stopping = provider.stop(crashed ? [LOG_NAME] : []).then(() => {
      if (crashed) {
        const kept = fs.existsSync(log) ? `; this log is kept: ${log}` : '';
        process.stderr.write(`local provider stopped after a crash${kept}\n`);
      }
      process.exit(code);
    }, (e) => {
      process.stderr.write(`local provider: stopping failed: ${(e as Error).stack ?? e}\n`);
      process.exit(1);
    });
    return stopping;
  };
  const signalled = () => {
    if (stopping) {
      // A second signal while stopping: exit now (the nodes get their parent-death signal).
      process.stderr.write('local provider: stopping again on a second signal; exiting now\n');
      process.exit(1);
    }
    void stop(0);
  };
  process.on('SIGINT', signalled);
  process.on('SIGTERM', signalled);
  process.on('SIGHUP', signalled);
  process.on('uncaughtException', (e) => {
    process.stderr.write(`local provider: ${e.stack ?? e}\n`);
    void stop(1);
  });
  // The DNS server is no AWS endpoint variable (SDK clients do not use it): its address, for
  // `dig @127.0.0.1 -p PORT` or a resolver's setServers, is printed next to the provider's own.
  // Nodes of groups with in-transit encryption serve certificates of this machine's local CA: Node
  // clients started with this variable trust it (others take the file too, e.g. redis-cli --cacert).
  const env = {
    ...provider.env(),
    CDK_ELASTICACHE_BACKUP_DNS: provider.dns.address,
    NODE_EXTRA_CA_CERTS: localCa().caFile,
    ...resolveHook(),
    CDK_ELASTICACHE_LOCAL_PID: String(process.pid),
  };
  // Said before the variables, so that it is in the log by the time a detaching parent returns.
  process.stderr.write(`local provider ready at ${provider.endpoint} (data in ${provider.dataDir}); stop with Ctrl-C or kill ${process.pid}\n`);
  process.stdout.write(Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''));
  // A detached parent closes our stdout once it has read the variables; nothing more is written there.
  process.stdout.on('error', () => undefined);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n${DRILL_USAGE}`);
    return command === undefined ? 1 : 0;
  }
  if (command === 'drill') {
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(DRILL_USAGE);
      return 0;
    }
    let options;
    try {
      checkRedis();
      options = parseDrillArgs(rest);
    } catch (e) {
      process.stderr.write(`cdk-elasticache-backup drill: ${(e as Error).message}\n\n${DRILL_USAGE}`);
      return 1;
    }
    return (await drillAndReport(options, (line) => process.stdout.write(`${line}\n`))).code;
  }
  if (command !== 'serve') {
    process.stderr.write(`cdk-elasticache-backup: unknown command '${command}'\n\n${USAGE}\n${DRILL_USAGE}`);
    return 1;
  }
  try {
    const options = parse(rest);
    if (options.detach) {
      checkRedis();
      await detach(rest, options);
      return 0;
    }
    await serve(options);
    return -1; // keeps running
  } catch (e) {
    if (e instanceof Reported) return 1;
    process.stderr.write(`cdk-elasticache-backup serve: ${(e as Error).message}\n`);
    return 1;
  }
}

/** Runs the command with this process's arguments; exits when it is done (serve keeps running). */
export function run(): void {
  void main(process.argv.slice(2)).then((code) => {
    if (code >= 0) process.exit(code);
  });
}

if (require.main === module) {
  run();
}
