/**
 * `cdk-elasticache-backup serve`: the local provider as a standalone process.
 *
 * It prints the environment that points unchanged AWS SDK clients and the AWS CLI at it, one
 * `NAME=value` per line, so that `export $(cdk-elasticache-backup serve --detach)` works, and stops
 * cleanly (every redis-server it started, and its files) on SIGINT or SIGTERM.
 */
import { spawn, spawnSync } from 'child_process';
import { LocalProvider } from './provider';

const USAGE = `Usage: cdk-elasticache-backup serve [--speed N] [--data-dir DIR] [--detach]

Starts the local provider: emulated ElastiCache, S3 and Route 53 on 127.0.0.1, backed by real
redis-server processes, and prints the variables that point AWS SDK clients at it.

  --speed N       simulated milliseconds per real millisecond (default 600: a real second is ten
                  simulated minutes)
  --data-dir DIR  where node data, snapshots and objects live (default: a new temporary folder,
                  removed on stop)
  --detach        start in the background, print the variables and return; stop it with
                  kill $CDK_ELASTICACHE_LOCAL_PID. Use as: export $(cdk-elasticache-backup serve --detach)
`;

interface Options {
  speed?: number;
  dataDir?: string;
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

/** Starts a detached copy of this command and prints its variables once it is ready. */
async function detach(args: string[]): Promise<void> {
  const child = spawn(process.execPath, [process.argv[1], 'serve', ...args.filter((a) => a !== '--detach')], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      output += chunk.toString();
      if (/^CDK_ELASTICACHE_LOCAL_PID=\d+$/m.test(output)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the local provider exited before it was ready (code ${code})`)));
  });
  process.stdout.write(output);
  child.stdout!.destroy();
  child.unref();
}

async function serve(options: Options): Promise<void> {
  checkRedis();
  const provider = await LocalProvider.start({ speed: options.speed, dataDir: options.dataDir, tickClock: true });
  let stopping: Promise<void> | undefined;
  const stop = (code: number) => {
    stopping ??= provider.stop().then(() => process.exit(code), () => process.exit(1));
    return stopping;
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGHUP', () => void stop(0));
  process.on('uncaughtException', (e) => {
    process.stderr.write(`local provider: ${e.stack ?? e}\n`);
    void stop(1);
  });
  const env = { ...provider.env(), CDK_ELASTICACHE_LOCAL_PID: String(process.pid) };
  process.stdout.write(Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''));
  process.stderr.write(`local provider ready at ${provider.endpoint} (data in ${provider.dataDir}); stop with Ctrl-C or kill ${process.pid}\n`);
  // A detached parent closes our stdout once it has read the variables; nothing more is written there.
  process.stdout.on('error', () => undefined);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  if (command !== 'serve') {
    process.stderr.write(`cdk-elasticache-backup: unknown command '${command}'\n\n${USAGE}`);
    return 1;
  }
  try {
    const options = parse(rest);
    if (options.detach) {
      checkRedis();
      await detach(rest);
      return 0;
    }
    await serve(options);
    return -1; // keeps running
  } catch (e) {
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
