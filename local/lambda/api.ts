/**
 * Lambda's REST-JSON API over `LocalLambda` (API reference, per action): CreateFunction,
 * GetFunction, GetFunctionConfiguration, DeleteFunction, ListFunctions and Invoke under
 * `/2015-03-31/functions`. Errors carry their name in `X-Amzn-ErrorType` and a JSON body
 * `{"Type": "User", "message": …}`.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { LambdaError, LocalLambda } from './functions';

/** Invoke's payload limits: 6 MB synchronous, 256 KB asynchronous (developer guide, "Lambda quotas"; the asynchronous limit was raised to 1 MB in 2025, NOT CONFIRMED here). */
const MAX_SYNC_PAYLOAD = 6_291_456;
const MAX_ASYNC_PAYLOAD = 262_144;
/** A .zip uploaded in the request: 50 MB (developer guide, "Lambda quotas"). */
const MAX_ZIP = 52_428_800;
/** The most the provider reads of a Lambda request body: a 50 MB .zip in base64 inside JSON. */
export const MAX_LAMBDA_BODY = Math.ceil(MAX_ZIP / 3) * 4 + 64 * 1024;
/** ListFunctions: up to 50 per page (API reference, ListFunctions `MaxItems`). */
const PAGE = 50;

export interface LambdaAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

type Headers = Record<string, string | string[] | undefined>;

/** Reads an object of the provider's S3 for CreateFunction's `S3Bucket`/`S3Key`: the file that holds it. */
export type S3Reader = (region: string, bucket: string, key: string, versionId?: string) => string;

export function lambdaErrorAnswer(e: { type?: string; code?: string; message: string; status: number }): LambdaAnswer {
  const type = e.type ?? e.code ?? 'ServiceException';
  return {
    status: e.status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': type },
    body: JSON.stringify({ Type: e.status >= 500 ? 'Service' : 'User', message: e.message }),
  };
}

function json(status: number, value: unknown, headers: Record<string, string> = {}): LambdaAnswer {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) };
}

function parse(body: Buffer): Record<string, any> {
  let input: unknown;
  try {
    input = body.length === 0 ? {} : JSON.parse(body.toString('utf-8'));
  } catch {
    throw new LambdaError('InvalidRequestContentException', 'Could not parse request body into json.');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new LambdaError('InvalidRequestContentException', 'The request body must be a JSON object.');
  return input as Record<string, any>;
}

export class LambdaApi {
  constructor(private readonly lambda: LocalLambda, private readonly tmpDir: string, private readonly readS3: S3Reader) {}

  /** Answers one request; a LambdaError becomes its error answer, anything else is thrown. */
  public async handle(region: string, method: string, url: string, headers: Headers, body: Buffer): Promise<LambdaAnswer> {
    try {
      return await this.route(region, method, url, headers, body);
    } catch (e) {
      if (e instanceof LambdaError) return lambdaErrorAnswer(e);
      throw e;
    }
  }

  private async route(region: string, method: string, url: string, headers: Headers, body: Buffer): Promise<LambdaAnswer> {
    const u = new URL(url, 'http://local');
    const m = /^\/2015-03-31\/functions\/?(?:([^/]+)(\/invocations|\/configuration)?\/?)?$/.exec(u.pathname);
    if (!m) throw new LambdaError('UnknownOperationException', `The local provider does not emulate Lambda's ${method} ${u.pathname}.`, 404);
    const name = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
    const qualified = (n: string) => (u.searchParams.get('Qualifier') ? `${n}:${u.searchParams.get('Qualifier')}` : n);
    if (name === undefined) {
      if (method === 'POST') return json(201, await this.create(region, parse(body)));
      if (method === 'GET') {
        const all = this.lambda.listFunctions(region);
        const start = Number(u.searchParams.get('Marker') ?? 0);
        const max = Number(u.searchParams.get('MaxItems') ?? PAGE);
        if (!Number.isInteger(start) || start < 0 || start > all.length) throw new LambdaError('InvalidParameterValueException', 'Invalid Marker.');
        if (!Number.isInteger(max) || max < 1 || max > 10_000) throw new LambdaError('InvalidParameterValueException', 'MaxItems must be between 1 and 10000.');
        const end = start + Math.min(max, PAGE);
        return json(200, { Functions: all.slice(start, end), NextMarker: end < all.length ? String(end) : undefined });
      }
    } else if (m[2] === '/invocations') {
      if (method === 'POST') return this.invoke(region, qualified(name), headers, body);
    } else if (m[2] === '/configuration') {
      if (method === 'GET') return json(200, this.lambda.getFunction(region, qualified(name)));
    } else if (method === 'GET') {
      const configuration = this.lambda.getFunction(region, qualified(name));
      // Code.Location is a presigned URL to the .zip in AWS; the provider has none to give.
      return json(200, { Configuration: configuration, Code: { RepositoryType: 'S3', Location: '' }, Tags: {} });
    } else if (method === 'DELETE') {
      this.lambda.deleteFunction(region, qualified(name));
      return { status: 204, headers: {}, body: '' };
    }
    throw new LambdaError('UnknownOperationException', `The local provider does not emulate Lambda's ${method} ${u.pathname}.`, 404);
  }

  private async create(region: string, input: Record<string, any>): Promise<Record<string, unknown>> {
    for (const required of ['FunctionName', 'Role', 'Code']) {
      if (input[required] === undefined) {
        throw new LambdaError('ValidationException', `1 validation error detected: Value null at '${required[0].toLowerCase()}${required.slice(1)}' failed to satisfy constraint: Member must not be null`);
      }
    }
    if ((input.PackageType ?? 'Zip') !== 'Zip' || input.Code.ImageUri !== undefined) {
      throw new LambdaError('InvalidParameterValueException', 'The local provider runs .zip functions only, not container images.');
    }
    if (typeof input.Runtime !== 'string' || typeof input.Handler !== 'string') {
      throw new LambdaError('InvalidParameterValueException', 'Runtime and Handler are required for .zip functions.');
    }
    const variables = input.Environment?.Variables ?? {};
    if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) {
      throw new LambdaError('InvalidParameterValueException', 'Environment.Variables must be a map of strings.');
    }
    const { ZipFile: zip, S3Bucket: bucket, S3Key: key, S3ObjectVersion: version } = input.Code;
    const options = {
      region,
      name: String(input.FunctionName),
      handler: input.Handler,
      runtime: input.Runtime,
      environment: variables,
      timeoutSeconds: input.Timeout,
      memorySize: input.MemorySize,
      role: String(input.Role),
      description: input.Description,
    };
    if (typeof zip === 'string' && bucket === undefined) {
      const data = Buffer.from(zip, 'base64');
      if (data.length > MAX_ZIP) throw new LambdaError('RequestEntityTooLargeException', `Request must be smaller than ${MAX_ZIP} bytes for the CreateFunction operation`, 413);
      fs.mkdirSync(this.tmpDir, { recursive: true });
      const file = path.join(this.tmpDir, `${randomUUID()}.zip`);
      fs.writeFileSync(file, data);
      try {
        return await this.lambda.createFunction({ ...options, zipFile: file });
      } finally {
        fs.rmSync(file, { force: true });
      }
    }
    if (typeof bucket === 'string' && typeof key === 'string' && zip === undefined) {
      let file: string;
      try {
        file = this.readS3(region, bucket, key, version);
      } catch (e) {
        // The message Lambda gives for an S3 error (NOT CONFIRMED word for word).
        const code = (e as { code?: string }).code ?? 'InternalError';
        throw new LambdaError('InvalidParameterValueException', `Error occurred while GetObject. S3 Error Code: ${code}. S3 Error Message: ${(e as Error).message}`);
      }
      return this.lambda.createFunction({ ...options, zipFile: file });
    }
    throw new LambdaError('InvalidParameterValueException', 'Please provide a source for function code: either ZipFile, or S3Bucket and S3Key.');
  }

  private async invoke(region: string, name: string, headers: Headers, body: Buffer): Promise<LambdaAnswer> {
    const type = String(headers['x-amz-invocation-type'] ?? 'RequestResponse');
    const logType = String(headers['x-amz-log-type'] ?? 'None');
    if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
      throw new LambdaError('InvalidParameterValueException', `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: `
        + 'Member must satisfy enum value set: [Event, RequestResponse, DryRun]');
    }
    const limit = type === 'Event' ? MAX_ASYNC_PAYLOAD : MAX_SYNC_PAYLOAD;
    if (body.length > limit) {
      throw new LambdaError('RequestTooLargeException', `Request must be smaller than ${limit} bytes for the InvokeFunction operation`, 413);
    }
    const payload = body.toString('utf-8');
    // Checked before anything runs, for every type: the function exists and the payload is JSON.
    this.lambda.getFunction(region, name);
    try {
      if (payload !== '') JSON.parse(payload);
    } catch (e) {
      throw new LambdaError('InvalidRequestContentException', `Could not parse request body into json: ${(e as Error).message}`);
    }
    if (type === 'DryRun') return { status: 204, headers: {}, body: '' };
    if (type === 'Event') {
      // Queued and run later; its result is only in the function's log. Lambda retries a failed
      // asynchronous invocation twice; the provider does NOT.
      setImmediate(() => {
        this.lambda.invoke(region, name, payload).catch((e) => process.stderr.write(`local provider: Lambda ${name}: asynchronous invocation failed: ${(e as Error).message}\n`));
      });
      return { status: 202, headers: { 'x-amzn-requestid': randomUUID() }, body: '' };
    }
    const result = await this.lambda.invoke(region, name, payload);
    const out: Record<string, string> = { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST', 'x-amzn-requestid': result.requestId };
    if (result.functionError) out['x-amz-function-error'] = result.functionError;
    // LogType Tail: the last 4 KB of the invocation's log, base64 (API reference, Invoke `LogResult`).
    if (logType === 'Tail') out['x-amz-log-result'] = Buffer.from(result.log.join('\n') + '\n').subarray(-4096).toString('base64');
    return { status: 200, headers: out, body: result.payload };
  }
}
