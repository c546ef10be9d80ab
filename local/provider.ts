/**
 * The local provider: one HTTP endpoint on 127.0.0.1 that answers the AWS SDK as ElastiCache
 * would, for any number of regions, backed by real redis-server processes.
 *
 * The service and region of a request are read from its SigV4 credential scope
 * (`Credential=AKID/20261121/eu-west-1/elasticache/aws4_request`), as AWS itself routes them.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { CustomResourceResponses } from './cfn/responses';
import { Clock } from './clock';
import { CLOUDFORMATION_XMLNS, CloudFormationModel } from './cloudformation';
import { CloudWatchError, LocalCloudWatch } from './cloudwatch';
import { DnsServer } from './dns';
import { ec2ErrorXml, handleEc2 } from './ec2';
import { handleElastiCache } from './elasticache/api';
import { ElastiCacheEngine, Timings } from './elasticache/engine';
import { errorXml, ServiceError } from './elasticache/query';
import { LocalEventBridge } from './eventbridge';
import { LambdaApi, lambdaErrorAnswer, MAX_LAMBDA_BODY } from './lambda/api';
import { LocalLambda } from './lambda/functions';
import { killRedisIn } from './orphans';
import { DataDirLock, lockDataDir } from './owner';
import { ClientGone, clientGone, discardRest, gate, MAX_API_BODY, readBody, RequestRefused, Route } from './request';
import { useLocalDns } from './resolve';
import { Route53, Route53Error } from './route53';
import { handleS3, receiveS3Body, s3ErrorResponse } from './s3/api';
import { S3Error, S3Store, serviceUnavailable } from './s3/store';
import { LocalSecretsManager } from './secretsmanager';
import { LocalSns, SNS_XMLNS } from './sns';
import { LocalSsm } from './ssm';
import { LocalStepFunctions } from './stepfunctions';
import { LocalSts, STS_XMLNS } from './sts';

export interface LocalProviderOptions {
  /**
   * Where node data and snapshots live. The provider locks it (a `provider.lock` file naming its
   * process) and refuses a folder another running provider holds.
   * @default a new temporary folder
   */
  readonly dataDir?: string;
  /** Remove the data folder on stop. @default true for the temporary folder, false for a given `dataDir` */
  readonly removeDataDir?: boolean;
  /** Simulated milliseconds per real millisecond. @default 600 (one real second is ten simulated minutes) */
  readonly speed?: number;
  /** Simulated time at start (ms since the epoch). @default now */
  readonly startTime?: number;
  /** Simulated durations of operations. */
  readonly timings?: Partial<Timings>;
  /** The account id in ARNs. @default '000000000000' */
  readonly account?: string;
  /** Simulated time S3 takes to replicate an object to another bucket, before its size counts. @default 5 minutes */
  readonly replicationDelay?: number;
  /**
   * Simulated time S3 replication adds per GiB of the object. S3 publishes no rate (see
   * `ReplicationTiming`); the default is an ASSUMPTION: one stream across regions at about 35 MB/s.
   * @default 30 seconds
   */
  readonly replicationPerGiB?: number;
  /** Simulated time a Route 53 change stays PENDING before it is INSYNC. @default 60 seconds */
  readonly dnsSyncDelay?: number;
  /**
   * Real milliseconds a TCP connection to the DNS server may go without a complete query before
   * it is closed. @default 10000
   */
  readonly dnsIdleTimeout?: number;
  /**
   * Whether real time passing drives what falls due (automatic snapshots), as when run as a
   * process; tests that move the clock themselves with `clock.advance` leave it off.
   * @default false
   */
  readonly tickClock?: boolean;
}

export class LocalProvider {
  /** Starts the provider on a port the OS gives. */
  public static async start(options: LocalProviderOptions = {}): Promise<LocalProvider> {
    const provider = new LocalProvider(options);
    try {
      await provider.listen();
      if (options.tickClock) provider.clock.tick();
    } catch (e) {
      provider.lock.release();
      throw e;
    }
    return provider;
  }

  public readonly clock: Clock;
  public readonly dataDir: string;
  /** S3: one bucket namespace, each bucket in a region. */
  public readonly s3: S3Store;
  /** Route 53 (global). */
  public readonly route53: Route53;
  /**
   * The DNS server (UDP and TCP on `dns.host`:`dns.port`) that answers the hosted zones' records
   * once their change is INSYNC; `dns.sources` takes more names.
   */
  public readonly dns: DnsServer;
  /** STS (global): the caller's identity and assumed roles, for the CDK CLI. */
  public readonly sts = new LocalSts();
  /** SSM Parameter Store, per region (the CDK bootstrap version parameter). */
  public readonly ssm: LocalSsm;
  /** Secrets Manager, per region. */
  public readonly secretsManager: LocalSecretsManager;
  /** SNS topics and the messages published to them (`sns.published(topicArn)`). */
  public readonly sns: LocalSns;
  /** CloudWatch metrics and alarms, per region; Lambda log lines in the embedded metric format feed it. */
  public readonly cloudwatch: LocalCloudWatch;
  /** Lambda functions, run in child processes (`lambda.createFunction`, `lambda.invoke`). */
  public readonly lambda: LocalLambda;
  /** Step Functions state machines and their executions, run in this process (local/stepfunctions.ts). */
  public readonly stepFunctions: LocalStepFunctions;
  /** The ResponseURLs of custom resource requests (local/cfn/responses.ts). */
  public readonly cfnResponses: CustomResourceResponses;
  /** EventBridge's default bus: schedule rules on the simulated clock, Step Functions status changes (local/eventbridge.ts). */
  public readonly eventBridge: LocalEventBridge;
  private readonly lambdaApi: LambdaApi;
  private readonly engines = new Map<string, ElastiCacheEngine>();
  /** Regions in a regional outage (`regionalOutage`). */
  private readonly outages = new Set<string>();
  private readonly stacks = new Map<string, CloudFormationModel>();
  private readonly server: http.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly ownsDataDir: boolean;
  private readonly lock: DataDirLock;
  private port = 0;
  /** Undoes this process's resolution of names through the DNS server (see resolve.ts). */
  private releaseDns?: () => void;
  /** The PID of a provider that died holding the data folder, whose lock this one took over. */
  public readonly previousOwner?: number;

  private constructor(private readonly options: LocalProviderOptions) {
    this.clock = new Clock(options.startTime ?? Date.now(), options.speed ?? 600);
    this.ownsDataDir = options.removeDataDir ?? options.dataDir === undefined;
    this.dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'elasticache-local-'));
    // One provider per folder: two would overwrite each other's nodes and objects.
    this.lock = lockDataDir(this.dataDir);
    this.previousOwner = this.lock.previousOwner;
    if (this.previousOwner !== undefined) {
      // Nodes of the dead provider that are still running would write into this folder.
      killRedisIn(this.dataDir);
    }
    this.s3 = new S3Store(path.join(this.dataDir, 's3'), this.clock, {
      delay: options.replicationDelay ?? 5 * 60_000,
      perGiB: options.replicationPerGiB ?? 30_000,
    });
    this.route53 = new Route53(this.clock, options.dnsSyncDelay ?? 60_000);
    this.ssm = new LocalSsm(() => this.clock.now());
    this.secretsManager = new LocalSecretsManager(() => this.clock.now());
    this.sns = new LocalSns(() => this.clock.now());
    this.cloudwatch = new LocalCloudWatch(() => this.clock.now());
    this.lambda = new LocalLambda({
      dir: path.join(this.dataDir, 'lambda'),
      // The provider's endpoints, and its DNS server, through which functions resolve endpoint names.
      // and CloudFormation's custom resource response endpoint (local/cfn/responses.ts).
      env: () => ({ ...this.env(), CDK_ELASTICACHE_BACKUP_DNS: this.dns.address, ...this.cfnResponses.functionEnv() }),
      // CloudWatch Logs turns a log line in the embedded metric format into metrics.
      onLog: (region, _fn, line) => {
        if (line.startsWith('{') && line.includes('"_aws"')) this.cloudwatch.recordEmf(region, line);
      },
    });
    this.stepFunctions = new LocalStepFunctions(this);
    this.cfnResponses = new CustomResourceResponses(this.dataDir);
    this.eventBridge = new LocalEventBridge(this);
    this.lambdaApi = new LambdaApi(this.lambda, path.join(this.dataDir, 'lambda', 'uploads'),
      (region, bucket, key) => this.s3.getObject(this.s3.bucket(bucket, region), key).file);
    // Route 53's zones, and every region's ElastiCache endpoint names (`<r>.cache.amazonaws.com`).
    this.dns = new DnsServer([
      (name) => this.route53.lookup(name),
      (name) => {
        for (const engine of this.engines.values()) {
          const found = engine.dnsLookup(name);
          if (found) return found;
        }
        return undefined;
      },
    ], { idleTimeoutMs: options.dnsIdleTimeout });
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** The provider's endpoint, e.g. `http://127.0.0.1:40123`. */
  public get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * The environment that points unchanged SDK clients and the AWS CLI at this provider.
   */
  public env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_ELASTICACHE: this.endpoint,
      AWS_ENDPOINT_URL_S3: this.endpoint,
      AWS_ENDPOINT_URL_ROUTE_53: this.endpoint,
      AWS_ENDPOINT_URL_CLOUDFORMATION: this.endpoint,
      AWS_ENDPOINT_URL_STS: this.endpoint,
      // The CDK CLI's availability zone lookup (local/ec2.ts).
      AWS_ENDPOINT_URL_EC2: this.endpoint,
      AWS_ENDPOINT_URL_SSM: this.endpoint,
      // The SDKs' variable names are the service ids, upper case, spaces as underscores (SDKs and Tools
      // reference guide, "Service-specific endpoints"; @smithy/core getEndpointUrlConfig).
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.endpoint,
      AWS_ENDPOINT_URL_SNS: this.endpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH: this.endpoint,
      AWS_ENDPOINT_URL_LAMBDA: this.endpoint,
      AWS_ENDPOINT_URL_SFN: this.endpoint,
      // The CDK CLI builds the TemplateURL of a change set from this variable, not AWS_ENDPOINT_URL_S3
      // (local/cdk-cli-calls.md, "Traps"); CloudFormation reads the template from the provider's own S3.
      AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION: this.endpoint,
      // The CDK CLI sends telemetry to AWS unless told not to; the local provider has no AWS.
      // (Path-style S3: the CLI, from 2.1138.0, uses it by itself for a loopback endpoint.)
      CDK_DISABLE_CLI_TELEMETRY: '1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
      // The AWS CLI v1 reads its region from AWS_DEFAULT_REGION only.
      AWS_DEFAULT_REGION: 'us-east-1',
    };
  }

  /** The ElastiCache engine of a region (created on first use). */
  public elasticache(region: string): ElastiCacheEngine {
    let engine = this.engines.get(region);
    if (!engine) {
      engine = new ElastiCacheEngine({
        region,
        account: this.options.account ?? '000000000000',
        dataDir: path.join(this.dataDir, region, 'elasticache'),
        clock: this.clock,
        timings: this.options.timings,
        s3: this.s3,
      });
      this.engines.set(region, engine);
    }
    return engine;
  }

  /**
   * Declares a regional outage in `region` (a fault, for tests and the DR drill): from now on the
   * region's ElastiCache and S3 answer every request with HTTP 503 `ServiceUnavailable`, every
   * redis-server node of its ElastiCache is killed with SIGKILL (a power loss: no final save) and
   * its engine stops its clock work (no automatic snapshot; snapshots and exports in flight fail),
   * S3 replication from the region stops (what it had not delivered never is) and replication to
   * it is held. Route 53 (global) and every other region keep working; the region's other services
   * (CloudFormation, Lambda, Step Functions, ...) are not affected (not modelled). Resolves once the
   * region's nodes have exited. Declaring it again does nothing.
   *
   * Why 503 rather than a dropped connection: AWS lists `ServiceUnavailable` (HTTP 503, "The request
   * has failed due to a temporary failure of the server") among the errors common to every API, and
   * S3's error codes include it ("Service is unable to handle request"); it is what an endpoint
   * whose service behind it is gone answers, and every SDK treats it as a transient error: it
   * retries with backoff (standard mode: 3 attempts in all) and then fails with a typed
   * `ServiceUnavailable` error that a workflow can tell apart, instead of a socket error. Both
   * fail fast; neither hangs. (What AWS endpoints answer during a real regional outage varies with
   * the failure: errors, timeouts, or DNS failures. UNCONFIRMED which.)
   * @throws when `region` is not a region name
   */
  public async regionalOutage(region: string): Promise<void> {
    checkRegionName(region);
    if (this.outages.has(region)) return;
    this.outages.add(region);
    this.s3.regionDown(region);
    await this.elasticache(region).regionalOutage();
  }

  /**
   * Ends a regional outage: the region's ElastiCache and S3 answer again, replication held for the
   * region is delivered, and its groups recover as after a node failure (their nodes come back
   * empty: see ElastiCacheEngine.endRegionalOutage). Does nothing for a region not in an outage.
   */
  public async endRegionalOutage(region: string): Promise<void> {
    checkRegionName(region);
    if (!this.outages.delete(region)) return;
    this.s3.regionUp(region);
    await this.elasticache(region).endRegionalOutage();
  }

  /** Whether `region` is in a regional outage. */
  public inOutage(region: string): boolean {
    return this.outages.has(region);
  }

  /** CloudFormation's stacks in a region (created on first use). */
  public cloudformation(region: string): CloudFormationModel {
    let model = this.stacks.get(region);
    if (!model) {
      model = new CloudFormationModel(region, this.options.account ?? '000000000000', this.clock, this);
      this.stacks.set(region, model);
    }
    return model;
  }

  private async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    try {
      await this.dns.start();
      await this.cfnResponses.start();
    } catch (e) {
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
      await this.dns.stop();
      throw e;
    }
    // Code in this process (tests' clients, Lambda handlers run in-process) resolves the endpoint
    // names and hosted zones through it, as code in a VPC does through the VPC's resolver.
    this.releaseDns = useLocalDns(this.dns.address);
  }

  /**
   * Answers one request. Whatever happens to it fails that request only: a client that goes away
   * mid-request is dropped, a client's error gets the service's 4xx, and anything else is the
   * provider's own fault, a 500 whose detail goes to stderr and never to the client.
   */
  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.on('error', () => undefined); // the client went away while it was answered
    req.on('error', () => undefined); // seen by the reader below as a rejected read
    const { route, refusal } = gate(req);
    this.serve(req, res, route, refusal).catch((e) => {
      const known = e instanceof RequestRefused || e instanceof S3Error || e instanceof Route53Error || e instanceof ServiceError;
      if (e instanceof ClientGone || clientGone(req, res)) {
        res.destroy();
        return;
      }
      if (!known) {
        process.stderr.write(`local provider: internal error answering ${req.method} ${req.url}: ${(e as Error)?.stack ?? e}\n`);
      }
      const answer = errorAnswer(route.service, req.method ?? 'GET', known ? e : undefined);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // The rest of a refused body is discarded before the connection closes (a bounded "lingering
      // close"): closing while the client still writes resets the connection, and the client then
      // sees EPIPE or ECONNRESET instead of the error it was answered.
      if (!req.complete) answer.headers.connection = 'close';
      res.writeHead(answer.status, answer.headers);
      if (req.complete) {
        res.end(answer.body);
      } else {
        res.write(answer.body);
        discardRest(req, () => res.end());
      }
    });
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse, route: Route, refusal?: RequestRefused): Promise<void> {
    if (refusal) throw refusal;
    const { service, region } = route;
    if (this.outages.has(region) && (service === 's3' || service === 'elasticache')) {
      // A regional outage (see regionalOutage): answered before the body is read.
      throw service === 's3' ? serviceUnavailable()
        : new ServiceError('ServiceUnavailable', 'The request has failed due to a temporary failure of the server.', 503);
    }
    if (service === 's3') {
      const body = await receiveS3Body(this.s3, req);
      try {
        await this.s3.pump();
        const answer = handleS3(this.s3, region, req, body);
        if (answer.file) {
          await sendFile(res, answer.status, answer.headers, answer.file, answer.range);
        } else {
          res.writeHead(answer.status, answer.headers).end(answer.body);
        }
      } finally {
        // An upload the store did not take (the request failed) leaves no file behind.
        if ('file' in body) fs.rmSync(body.file, { force: true });
      }
      return;
    }
    if (service === 'lambda') {
      const answer = await this.lambdaApi.handle(region, req.method ?? 'GET', req.url ?? '/', req.headers, await readBody(req, MAX_LAMBDA_BODY));
      res.writeHead(answer.status, answer.headers).end(answer.body);
      return;
    }
    const amzTarget = req.headers['x-amz-target'];
    // CloudWatch signs as `monitoring`.
    if (service === 'monitoring') {
      const encoding = req.headers['content-encoding'];
      const answer = this.cloudwatch.handle(region, typeof amzTarget === 'string' ? amzTarget : undefined, await readBody(req, MAX_API_BODY),
        typeof encoding === 'string' ? encoding : undefined, MAX_API_BODY);
      res.writeHead(answer.status, answer.headers).end(answer.body);
      return;
    }
    const text = (await readBody(req, MAX_API_BODY)).toString('utf-8');
    if (service === 'secretsmanager') {
      const answer = this.secretsManager.handle(region, typeof amzTarget === 'string' ? amzTarget : undefined, text);
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' }).end(answer.body);
      return;
    }
    // Step Functions signs as `states`.
    if (service === 'states') {
      const answer = this.stepFunctions.handle(region, typeof amzTarget === 'string' ? amzTarget : undefined, text);
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' }).end(answer.body);
      return;
    }
    if (service === 'sns') {
      const xml = this.sns.handle(region, text);
      res.writeHead(200, { 'content-type': 'text/xml' }).end(xml);
      return;
    }
    if (service === 'route53') {
      const answer = this.route53.handle(req.method ?? 'GET', req.url ?? '/', text);
      res.writeHead(answer.status, answer.headers).end(answer.body);
      return;
    }
    if (service === 'ec2') {
      const xml = handleEc2(region, text);
      res.writeHead(200, { 'content-type': 'text/xml' }).end(xml);
      return;
    }
    if (service === 'sts') {
      // The answer first: an error must be answered before any header is written.
      const xml = this.sts.handle(text);
      res.writeHead(200, { 'content-type': 'text/xml' }).end(xml);
      return;
    }
    if (service === 'ssm') {
      const target = req.headers['x-amz-target'];
      const answer = this.ssm.handle(region, typeof target === 'string' ? target : undefined, text);
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' }).end(answer.body);
      return;
    }
    if (service === 'cloudformation') {
      const xml = this.cloudformation(region).handle(text);
      res.writeHead(200, { 'content-type': 'text/xml' }).end(xml);
      return;
    }
    if (service !== 'elasticache') {
      throw new ServiceError('NotImplemented', `The local provider does not emulate ${service} yet.`, 501);
    }
    const xml = await handleElastiCache(this.elasticache(region), text);
    res.writeHead(200, { 'content-type': 'text/xml' }).end(xml);
  }

  /**
   * Stops every node, closes the endpoint, releases the data folder and removes it (when it made
   * it), except for the files named in `keep` (e.g. the log of a provider that crashed).
   */
  public async stop(keep: string[] = []): Promise<void> {
    this.clock.stopTicking();
    this.lambda.stop();
    await this.cfnResponses.stop();
    await Promise.all([...this.engines.values()].map((e) => e.stop()));
    this.s3.stop();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.releaseDns?.();
    await this.dns.stop();
    this.lock.release();
    if (this.ownsDataDir) {
      const kept = keep.filter((name) => fs.existsSync(path.join(this.dataDir, name)));
      if (kept.length === 0) {
        fs.rmSync(this.dataDir, { recursive: true, force: true });
      } else {
        for (const name of fs.readdirSync(this.dataDir).filter((n) => !kept.includes(n))) {
          fs.rmSync(path.join(this.dataDir, name), { recursive: true, force: true });
        }
      }
    }
  }
}

/** Refuses what is not an AWS region name (e.g. `eu-west-1`, `us-gov-west-1`, `ap-southeast-4`). */
function checkRegionName(region: string): void {
  if (typeof region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(region)) {
    throw new Error(`region '${region}' is not an AWS region name: expected lower-case words and a number joined by '-', e.g. eu-west-1`);
  }
}

/**
 * The answer to a failed request in its service's error shape. `error` is a client's error (or a
 * refusal); without one it is the provider's own fault: a 500 with the service's generic message,
 * which names no file or path.
 */
function errorAnswer(
  service: string, method: string, error?: Error & { code: string; status: number },
): { status: number; headers: Record<string, string>; body?: string | Buffer } {
  if (service === 's3') {
    const e = error instanceof S3Error ? error
      : error ? new S3Error(error.code, error.message, error.status)
        : new S3Error('InternalError', 'We encountered an internal error. Please try again.', 500);
    const answer = s3ErrorResponse(e, method);
    return { status: answer.status, headers: { ...answer.headers }, body: answer.body };
  }
  // AWS common errors: InternalFailure, HTTP 500, "The request processing has failed because of an unknown error, exception or failure."
  const e = error ?? { code: 'InternalFailure', message: 'The request processing has failed because of an unknown error, exception or failure.', status: 500 };
  const headers = { 'content-type': 'text/xml' };
  if (service === 'route53') {
    return { status: e.status, headers, body: Route53.errorBody(new Route53Error(e.code, e.message, e.status)) };
  }
  const serviceError = new ServiceError(e.code, e.message, e.status);
  if (service === 'lambda') return lambdaErrorAnswer(e);
  if (service === 'monitoring') return new CloudWatchError(e.code, e.message, e.status).answer();
  if (service === 'secretsmanager') {
    return { status: e.status, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ __type: e.code, message: e.message }) };
  }
  if (service === 'states') {
    return { status: e.status, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: JSON.stringify({ __type: e.code, message: e.message }) };
  }
  if (service === 'ssm') {
    return { status: e.status, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify({ __type: e.code, message: e.message }) };
  }
  if (service === 'ec2') {
    return { status: e.status, headers, body: ec2ErrorXml(e.code, e.message) };
  }
  const xmlns = service === 'cloudformation' ? CLOUDFORMATION_XMLNS : service === 'sts' ? STS_XMLNS : service === 'sns' ? SNS_XMLNS : undefined;
  return { status: e.status, headers, body: errorXml(serviceError, xmlns) };
}

/** Sends a file as the body, streamed; a file that fails mid-way ends the connection (the client sees a short body). */
async function sendFile(res: http.ServerResponse, status: number, headers: Record<string, string>, file: string,
  range?: { start: number; end: number }): Promise<void> {
  const stream = fs.createReadStream(file, range);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => {
      res.writeHead(status, headers);
      stream.pipe(res);
    });
    stream.once('error', (e) => {
      if (res.headersSent) res.destroy();
      reject(e);
    });
    res.once('close', () => {
      stream.destroy();
      resolve();
    });
  });
}
