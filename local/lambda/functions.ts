/**
 * Lambda functions: a registry per region, and their invocation in child processes.
 *
 * A function's code is a folder (a CDK asset folder in cdk.out, copied) or a .zip (unpacked with
 * yauzl, which refuses entries that would land outside the folder). An invocation runs the
 * handler in an execution environment: a Node.js child process (runner.ts) started through
 * `withParentDeathSignal`, with the function's environment over the runtime's variables and the
 * provider's endpoint variables, so the AWS SDK inside the handler talks to the provider. As in
 * Lambda, one environment serves one invocation at a time and is kept warm for the next
 * (module-level state survives, as it does in Lambda); concurrent invocations get more
 * environments. An environment whose invocation timed out or whose process died is discarded.
 *
 * The runtime's AWS SDK (the Node.js runtimes include the AWS SDK for JavaScript v3, and the
 * library's bundles leave it out) is the one installed beside the provider: NODE_PATH names the
 * provider's node_modules folders.
 *
 * Times are real, not simulated: the handler's own code (its waits, its SDK timeouts) runs in real
 * time, so its timeout and `getRemainingTimeInMillis` are too.
 */
import { ChildProcess, spawn } from 'child_process';
import { createHash, randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { unpackZip, ZipError } from './zip';
import { withParentDeathSignal } from '../orphans';
import { LOCAL_ACCOUNT } from '../sts';
import { RUNNER_SOURCE } from './runner';
import { localCa } from '../tls';

/** Lambda's errors: the `X-Amzn-ErrorType` (the SDK's exception name), HTTP status and message. */
export class LambdaError extends Error {
  constructor(public readonly type: string, message: string, public readonly status = 400) {
    super(message);
  }
}

/** Function names: 1 to 64 letters, digits, hyphens and underscores (API reference, CreateFunction `FunctionName`). */
const NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/** Node.js runtimes the provider runs (with its own Node.js, whatever the version named). */
const RUNTIMES = /^nodejs\d+\.x$/;
/** Lambda's reserved environment variables, which a function may not set (developer guide, "Defined runtime environment variables"). */
const RESERVED = ['_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR'];
/** The most log lines kept per function (the oldest go first). */
const MAX_LOG_LINES = 10_000;
/** How long an idle environment is kept (real ms). Lambda publishes no figure; minutes are commonly observed (NOT CONFIRMED). */
const IDLE_MS = 5 * 60_000;
/** Environments running at once, over all functions. Lambda's default account concurrency is 1,000; a 2-core machine is not. */
const MAX_ENVIRONMENTS = 20;

export interface CreateFunctionOptions {
  readonly region: string;
  readonly name: string;
  /** `file.export`, e.g. `index.handler`. */
  readonly handler: string;
  /** @default 'nodejs22.x' */
  readonly runtime?: string;
  /** The code as a folder (a CDK asset folder), copied. Exactly one of codeDir and zipFile. */
  readonly codeDir?: string;
  /** The code as a .zip file, unpacked. */
  readonly zipFile?: string;
  readonly environment?: Record<string, string>;
  /** 1 to 900. @default 3 */
  readonly timeoutSeconds?: number;
  /** 128 to 10,240 MB. @default 128 */
  readonly memorySize?: number;
  /** @default a role of the local account */
  readonly role?: string;
  readonly description?: string;
}

interface LambdaFunction {
  readonly region: string;
  readonly name: string;
  readonly arn: string;
  readonly handler: string;
  readonly runtime: string;
  readonly role: string;
  readonly description: string;
  readonly environment: Record<string, string>;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  readonly codeDir: string;
  readonly codeSize: number;
  readonly codeSha256: string;
  readonly lastModified: number;
  readonly idle: Environment[];
  readonly busy: Set<Environment>;
  readonly log: string[];
}

interface Environment {
  readonly child: ChildProcess;
  idleTimer?: NodeJS.Timeout;
  /** The running invocation's own log (lines come in while it runs). */
  invocationLog?: string[];
}

/** What an invocation answered: Invoke's payload, and whether (and how) the function failed. */
export interface InvokeResult {
  readonly payload: string;
  /** `Unhandled` when the function failed (its payload is then the error). */
  readonly functionError?: 'Unhandled';
  /** The invocation's log lines. */
  readonly log: string[];
  readonly requestId: string;
}

export interface LocalLambdaOptions {
  /** Where function code is kept. */
  readonly dir: string;
  /** The provider's endpoint variables and credentials, read at each environment's start. */
  readonly env: () => Record<string, string>;
  /** Each line a function writes (stdout and stderr), e.g. to feed CloudWatch's embedded metrics. */
  readonly onLog?: (region: string, functionName: string, line: string) => void;
}

/** `2024-11-21T10:00:00.000+0000`, the format of `LastModified` (API reference, FunctionConfiguration). */
function lambdaTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** A hash of a folder's files (paths and contents): the CodeSha256 of code given as a folder (not AWS's, which hashes the .zip). */
function hashDir(dir: string): { sha: string; size: number } {
  const hash = createHash('sha256');
  let size = 0;
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(rel, entry.name);
      if (entry.isDirectory()) {
        walk(p);
      } else if (entry.isFile()) {
        const data = fs.readFileSync(path.join(dir, p));
        hash.update(p).update('\0').update(data);
        size += data.length;
      }
    }
  };
  walk('');
  return { sha: hash.digest('base64'), size };
}

export class LocalLambda {
  /** Functions by region, then name. */
  private readonly functions = new Map<string, Map<string, LambdaFunction>>();
  private readonly runner: string;
  private stopped = false;

  constructor(private readonly options: LocalLambdaOptions) {
    fs.mkdirSync(options.dir, { recursive: true });
    this.runner = path.join(options.dir, 'runner.js');
    fs.writeFileSync(this.runner, RUNNER_SOURCE);
  }

  /** Creates a function (the deployer's AWS::Lambda::Function, and the API's CreateFunction). */
  public async createFunction(o: CreateFunctionOptions): Promise<Record<string, unknown>> {
    if (!NAME.test(o.name)) {
      throw new LambdaError('InvalidParameterValueException', `1 validation error detected: Value '${o.name}' at 'functionName' failed to satisfy constraint: `
        + 'Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ and have length at most 64');
    }
    const runtime = o.runtime ?? 'nodejs22.x';
    if (!RUNTIMES.test(runtime)) {
      throw new LambdaError('InvalidParameterValueException', `The runtime parameter of ${runtime} is not supported by the local provider (Node.js runtimes only).`);
    }
    if (!/^[^\s]{1,128}$/.test(o.handler) || !o.handler.includes('.')) {
      throw new LambdaError('InvalidParameterValueException', `The handler ${o.handler} must be of the form file.export.`);
    }
    const timeout = o.timeoutSeconds ?? 3;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 900) {
      throw new LambdaError('InvalidParameterValueException', `1 validation error detected: Value '${timeout}' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900`);
    }
    const memory = o.memorySize ?? 128;
    if (!Number.isInteger(memory) || memory < 128 || memory > 10240) {
      throw new LambdaError('InvalidParameterValueException', `1 validation error detected: Value '${memory}' at 'memorySize' failed to satisfy constraint: Member must have value between 128 and 10240`);
    }
    const environment = o.environment ?? {};
    const reserved = Object.keys(environment).filter((k) => RESERVED.includes(k));
    if (reserved.length > 0) {
      throw new LambdaError('InvalidParameterValueException', 'Lambda was unable to configure your environment variables because the environment variables you have provided '
        + `contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`);
    }
    if (Object.entries(environment).some(([k, v]) => !/^[a-zA-Z]\w*$/.test(k) || typeof v !== 'string')
      || Buffer.byteLength(JSON.stringify(environment)) > 4096) {
      // 4 KB of variables in all (developer guide, "Lambda quotas").
      throw new LambdaError('InvalidParameterValueException', 'Environment variable names must be letters, digits and underscores starting with a letter, '
        + 'values strings, and all of them at most 4 KB.');
    }
    if ((o.codeDir === undefined) === (o.zipFile === undefined)) {
      throw new LambdaError('InvalidParameterValueException', 'Give the code as exactly one of a folder or a .zip file.');
    }
    const store = this.store(o.region);
    if (store.has(o.name)) {
      throw new LambdaError('ResourceConflictException', `Function already exist: ${o.name}`, 409);
    }
    const codeDir = path.join(this.options.dir, o.region, `${o.name}-${randomUUID()}`);
    let code: { sha: string; size: number };
    try {
      if (o.codeDir !== undefined) {
        if (!fs.statSync(o.codeDir, { throwIfNoEntry: false })?.isDirectory()) {
          throw new LambdaError('InvalidParameterValueException', `The code folder ${o.codeDir} does not exist.`);
        }
        fs.cpSync(o.codeDir, codeDir, { recursive: true });
        code = hashDir(codeDir);
      } else {
        const zip = fs.readFileSync(o.zipFile!);
        await unpackZip(o.zipFile!, codeDir);
        code = { sha: createHash('sha256').update(zip).digest('base64'), size: zip.length };
      }
    } catch (e) {
      fs.rmSync(codeDir, { recursive: true, force: true });
      if (e instanceof ZipError) throw new LambdaError('InvalidParameterValueException', `Could not unzip uploaded file. ${e.message}`);
      throw e;
    }
    if (store.has(o.name)) {
      // Created by another request while this one unpacked its code.
      fs.rmSync(codeDir, { recursive: true, force: true });
      throw new LambdaError('ResourceConflictException', `Function already exist: ${o.name}`, 409);
    }
    const fn: LambdaFunction = {
      region: o.region,
      name: o.name,
      arn: `arn:aws:lambda:${o.region}:${LOCAL_ACCOUNT}:function:${o.name}`,
      handler: o.handler,
      runtime,
      role: o.role ?? `arn:aws:iam::${LOCAL_ACCOUNT}:role/${o.name}-role`,
      description: o.description ?? '',
      environment: { ...environment },
      timeoutSeconds: timeout,
      memorySize: memory,
      codeDir,
      codeSize: code.size,
      codeSha256: code.sha,
      lastModified: Date.now(),
      idle: [],
      busy: new Set(),
      log: [],
    };
    store.set(o.name, fn);
    return this.configuration(fn);
  }

  /** The function's configuration (GetFunction's `Configuration`), by name or ARN. */
  public getFunction(region: string, nameOrArn: string): Record<string, unknown> {
    return this.configuration(this.find(region, nameOrArn));
  }

  public listFunctions(region: string): Array<Record<string, unknown>> {
    return [...this.store(region).values()].sort((a, b) => a.name.localeCompare(b.name)).map((f) => this.configuration(f));
  }

  /** Deletes a function and stops its environments (an invocation running is cut off). */
  public deleteFunction(region: string, nameOrArn: string): void {
    const fn = this.find(region, nameOrArn);
    this.store(region).delete(fn.name);
    for (const env of [...fn.idle, ...fn.busy]) this.discard(fn, env);
    fs.rmSync(fn.codeDir, { recursive: true, force: true });
  }

  /** The log lines the function wrote, oldest first (a copy). */
  public logs(region: string, nameOrArn: string): string[] {
    return [...this.find(region, nameOrArn).log];
  }

  /** The function's code folder (where the deployer may look at what it unpacked). */
  public codeDir(region: string, nameOrArn: string): string {
    return this.find(region, nameOrArn).codeDir;
  }

  /**
   * Runs the function on `payload` (JSON text) and answers as Invoke's RequestResponse does: the
   * result, or the error with `functionError`. `Event` invocations call this without awaiting it.
   */
  public async invoke(region: string, nameOrArn: string, payload: string): Promise<InvokeResult> {
    const fn = this.find(region, nameOrArn);
    let event: unknown;
    try {
      event = payload === '' ? {} : JSON.parse(payload);
    } catch (e) {
      throw new LambdaError('InvalidRequestContentException', `Could not parse request body into json: ${(e as Error).message}`);
    }
    if (this.stopped) throw new LambdaError('ServiceException', 'The local provider is stopping.', 500);
    const env = fn.idle.pop() ?? this.start(fn);
    if (env.idleTimer) clearTimeout(env.idleTimer);
    fn.busy.add(env);
    const requestId = randomUUID();
    const log: string[] = [];
    env.invocationLog = log;
    const write = (line: string) => {
      log.push(line);
      this.record(fn, line);
    };
    const started = Date.now();
    write(`START RequestId: ${requestId} Version: $LATEST`);
    const deadline = started + fn.timeoutSeconds * 1000;
    const answer = await new Promise<{ payload: string; error: boolean; keep: boolean }>((resolve) => {
      const done = (a: { payload: string; error: boolean; keep: boolean }) => {
        clearTimeout(timer);
        env.child.off('message', message);
        env.child.off('exit', exit);
        resolve(a);
      };
      const timer = setTimeout(() => {
        // Lambda's answer to a timed-out invocation (developer guide, "Troubleshoot invocation issues",
        // Sandbox.Timedout; the exact message text is NOT CONFIRMED against a live invocation).
        done({
          payload: JSON.stringify({
            errorType: 'Sandbox.Timedout',
            errorMessage: `RequestId: ${requestId} Error: Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`,
          }),
          error: true,
          keep: false,
        });
      }, fn.timeoutSeconds * 1000);
      const message = (m: any) => {
        if (m?.id !== requestId) return;
        if (m.error) done({ payload: JSON.stringify(m.error), error: true, keep: true });
        else done({ payload: String(m.result), error: false, keep: true });
      };
      const exit = (code: number | null, signal: string | null) => done({
        payload: JSON.stringify({
          errorType: 'Runtime.ExitError',
          errorMessage: `RequestId: ${requestId} Error: Runtime exited ${signal ? `with signal: ${signal}` : `with error: exit status ${code}`}`,
        }),
        error: true,
        keep: false,
      });
      env.child.on('message', message);
      env.child.once('exit', exit);
      const context = {
        functionName: fn.name,
        functionVersion: '$LATEST',
        invokedFunctionArn: fn.arn,
        memoryLimitInMB: String(fn.memorySize),
        awsRequestId: requestId,
        logGroupName: `/aws/lambda/${fn.name}`,
        logStreamName: `local/${fn.name}`,
      };
      try {
        env.child.send({ id: requestId, event, deadline, context });
      } catch {
        // The child is gone: its exit answers.
      }
    });
    // Output the child wrote just before answering arrives with it; let it be read first.
    await new Promise((r) => setImmediate(r));
    write(`END RequestId: ${requestId}`);
    write(`REPORT RequestId: ${requestId}\tDuration: ${(Date.now() - started).toFixed(2)} ms\tMemory Size: ${fn.memorySize} MB`);
    fn.busy.delete(env);
    env.invocationLog = undefined;
    if (answer.keep && !this.stopped && this.store(fn.region).get(fn.name) === fn && env.child.exitCode === null) {
      env.idleTimer = setTimeout(() => this.discard(fn, env), IDLE_MS);
      env.idleTimer.unref();
      fn.idle.push(env);
    } else {
      this.discard(fn, env);
    }
    return { payload: answer.payload, functionError: answer.error ? 'Unhandled' : undefined, log, requestId };
  }

  /** Stops every environment; no invocation is taken after this. */
  public stop(): void {
    this.stopped = true;
    for (const store of this.functions.values()) {
      for (const fn of store.values()) for (const env of [...fn.idle, ...fn.busy]) this.discard(fn, env);
    }
  }

  private start(fn: LambdaFunction): Environment {
    const running = [...this.functions.values()].flatMap((s) => [...s.values()]).reduce((n, f) => n + f.idle.length + f.busy.size, 0);
    if (running >= MAX_ENVIRONMENTS) {
      const idle = [...this.functions.values()].flatMap((s) => [...s.values()]).find((f) => f.idle.length > 0);
      if (!idle) throw new LambdaError('TooManyRequestsException', 'Rate Exceeded.', 429);
      // An idle environment of another function makes room, as Lambda reclaims idle ones.
      this.discard(idle, idle.idle[0]);
    }
    // The runtime's AWS SDK: the clients installed beside the provider, then the ones bundled with
    // the package for an app that has none (local/bundle-lambda-sdk.ts; lib/local/lambda-sdk, next
    // to the bundled provider, or built in a checkout).
    const sdk = [...require.resolve.paths('@aws-sdk/client-s3') ?? [],
      path.join(__dirname, 'lambda-sdk', 'node_modules'), path.join(__dirname, '..', '..', 'lib', 'local', 'lambda-sdk', 'node_modules')];
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      // The local provider's TLS nodes serve certificates of this machine's local CA: functions trust
      // it, as functions in AWS trust ElastiCache's certificates.
      NODE_EXTRA_CA_CERTS: localCa().caFile,
      ...this.options.env(),
      ...fn.environment,
      // The runtime's variables (developer guide, "Defined runtime environment variables"); none can be set by the function.
      AWS_SESSION_TOKEN: 'local',
      AWS_REGION: fn.region,
      AWS_DEFAULT_REGION: fn.region,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `local/${fn.name}`,
      AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      LAMBDA_TASK_ROOT: fn.codeDir,
      _HANDLER: fn.handler,
      TZ: ':UTC',
      NODE_PATH: sdk.filter((p) => fs.existsSync(p)).join(path.delimiter),
    };
    const [command, args] = withParentDeathSignal(process.execPath, [`--max-old-space-size=${fn.memorySize}`, this.runner]);
    const child = spawn(command, args, { cwd: fn.codeDir, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const environment: Environment = { child };
    for (const stream of [child.stdout!, child.stderr!]) {
      let rest = '';
      stream.setEncoding('utf-8');
      stream.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          environment.invocationLog?.push(line);
          this.record(fn, line);
          this.options.onLog?.(fn.region, fn.name, line);
        }
      });
    }
    child.on('error', () => undefined); // seen as its exit
    child.once('exit', () => {
      const i = fn.idle.indexOf(environment);
      if (i >= 0) fn.idle.splice(i, 1);
      if (environment.idleTimer) clearTimeout(environment.idleTimer);
    });
    return environment;
  }

  /** Keeps a line in the function's log, dropping the oldest past MAX_LOG_LINES. */
  private record(fn: LambdaFunction, line: string): void {
    fn.log.push(line);
    if (fn.log.length > MAX_LOG_LINES) fn.log.splice(0, fn.log.length - MAX_LOG_LINES);
  }

  private discard(fn: LambdaFunction, env: Environment): void {
    if (env.idleTimer) clearTimeout(env.idleTimer);
    const i = fn.idle.indexOf(env);
    if (i >= 0) fn.idle.splice(i, 1);
    fn.busy.delete(env);
    if (env.child.exitCode === null && env.child.signalCode === null) env.child.kill('SIGKILL');
  }

  private store(region: string): Map<string, LambdaFunction> {
    let store = this.functions.get(region);
    if (!store) {
      store = new Map();
      this.functions.set(region, store);
    }
    return store;
  }

  /** A function by name, ARN or partial ARN (`000000000000:function:name`), with an optional `:$LATEST` qualifier. */
  private find(region: string, id: string): LambdaFunction {
    const m = /^(?:(?:arn:aws:lambda:([a-z0-9-]+):)?(\d{12}):function:)?([a-zA-Z0-9_-]{1,64})(?::(\$LATEST|[a-zA-Z0-9_-]+))?$/.exec(id);
    if (!m) {
      throw new LambdaError('ValidationException', `1 validation error detected: Value '${id}' at 'functionName' failed to satisfy constraint: `
        + 'Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?');
    }
    const fn = this.store(region).get(m[3]);
    const arn = `arn:aws:lambda:${region}:${LOCAL_ACCOUNT}:function:${m[3]}`;
    // Versions and aliases are not emulated: only $LATEST (or no qualifier) names a function.
    if (!fn || (m[1] !== undefined && m[1] !== region) || (m[2] !== undefined && m[2] !== LOCAL_ACCOUNT) || (m[4] !== undefined && m[4] !== '$LATEST')) {
      throw new LambdaError('ResourceNotFoundException', `Function not found: ${arn}${m[4] !== undefined ? `:${m[4]}` : ''}`, 404);
    }
    return fn;
  }

  private configuration(f: LambdaFunction): Record<string, unknown> {
    return {
      FunctionName: f.name,
      FunctionArn: f.arn,
      Runtime: f.runtime,
      Role: f.role,
      Handler: f.handler,
      CodeSize: f.codeSize,
      Description: f.description,
      Timeout: f.timeoutSeconds,
      MemorySize: f.memorySize,
      LastModified: lambdaTime(f.lastModified),
      CodeSha256: f.codeSha256,
      Version: '$LATEST',
      Environment: { Variables: { ...f.environment } },
      TracingConfig: { Mode: 'PassThrough' },
      PackageType: 'Zip',
      Architectures: ['x86_64'],
      EphemeralStorage: { Size: 512 },
      LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${f.name}` },
      // Lambda creates a function Pending and makes it Active shortly after; the provider's functions are Active at once.
      State: 'Active',
      LastUpdateStatus: 'Successful',
    };
  }
}
