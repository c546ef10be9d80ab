/**
 * Where custom resource providers answer CloudFormation: the request's `ResponseURL`. In AWS it is a
 * presigned S3 URL; here an HTTPS endpoint on 127.0.0.1, with a certificate from this machine's local
 * CA (functions run by the provider trust it, local/lambda/functions.ts), and an unguessable token
 * per request in its path. A provider PUTs its response there (the CDK Provider framework does with
 * `https.request`); a wrong token is refused as S3 refuses a bad signature (403).
 *
 * User guide, "CloudFormation custom resource request and response reference": the response is JSON
 * with Status (SUCCESS or FAILED), Reason (required when FAILED), PhysicalResourceId, StackId,
 * RequestId, LogicalResourceId, NoEcho and Data; "the total size of the response body can't exceed
 * 4096 bytes"; a request without a response before ServiceTimeout (1 to 3600 seconds, default 3600)
 * fails.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as https from 'https';
import * as net from 'net';
import * as path from 'path';
import { issueNodeCertificate } from '../tls';

/**
 * The host name of ResponseURLs. CDK's Provider framework (and the `cfn-response` module) send the
 * response to the URL's host name on port 443, whatever port the URL names: functions run by the
 * provider reach this name on the provider's port through their runner (local/lambda/runner.ts,
 * `CDK_ELASTICACHE_BACKUP_CFN_RESPONSE`), as functions in AWS reach S3's presigned URL.
 */
export const RESPONSE_HOST = 'cloudformation-custom-resource-response-local.s3.amazonaws.com';

/** The response body limit (user guide, see above). */
export const MAX_RESPONSE_BYTES = 4096;

export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId?: string;
  readonly Data?: Record<string, unknown>;
  readonly NoEcho?: boolean;
}

interface Pending {
  resolve(r: CustomResourceResponse): void;
  reject(e: Error): void;
}

/** An open request: its URL and the response, when it comes (rejected when the response is invalid). */
export interface ResponseSlot {
  readonly url: string;
  readonly response: Promise<CustomResourceResponse>;
  /** Stops waiting (the request timed out or the stack operation was cancelled). */
  close(): void;
}

export class CustomResourceResponses {
  private readonly pending = new Map<string, Pending>();
  private server?: https.Server;
  private port = 0;
  private readonly sockets = new Set<{ destroy(): void }>();

  constructor(private readonly dir: string) {}

  /** Opens a response URL for one request. */
  public async open(): Promise<ResponseSlot> {
    await this.start();
    const token = randomBytes(24).toString('hex');
    let pending!: Pending;
    const response = new Promise<CustomResourceResponse>((resolve, reject) => {
      pending = { resolve, reject };
    });
    // Whoever awaits it sees its outcome; an abandoned one must not be an unhandled rejection.
    response.catch(() => undefined);
    this.pending.set(token, pending);
    return { url: `https://${RESPONSE_HOST}/cloudformation-response/${token}`, response, close: () => this.pending.delete(token) };
  }

  /** Where the endpoint listens (`127.0.0.1:PORT`), once started. */
  public get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** What functions need to reach it (see RESPONSE_HOST). */
  public functionEnv(): Record<string, string> {
    return this.server ? { CDK_ELASTICACHE_BACKUP_CFN_RESPONSE: `${RESPONSE_HOST}=${this.address}` } : {};
  }

  public async stop(): Promise<void> {
    for (const p of this.pending.values()) p.reject(new Error('the local provider stopped'));
    this.pending.clear();
    for (const s of this.sockets) s.destroy();
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  public async start(): Promise<void> {
    if (this.server) return;
    const cert = issueNodeCertificate(path.join(this.dir, 'cfn-response-tls'), [RESPONSE_HOST, 'localhost'], ['127.0.0.1']);
    const options = { cert: fs.readFileSync(cert.certFile), key: fs.readFileSync(cert.keyFile) };
    const server = https.createServer(options, (req, res) => this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  private handle(req: import('http').IncomingMessage, res: import('http').ServerResponse): void {
    const error = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
    };
    const token = /^\/cloudformation-response\/([0-9a-f]{48})$/.exec((req.url ?? '').split('?')[0])?.[1];
    const pending = token ? this.pending.get(token) : undefined;
    if (req.method !== 'PUT' || !pending) {
      req.resume();
      error(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_RESPONSE_BYTES + 1) chunks.push(c);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      res.writeHead(200).end();
      this.pending.delete(token!);
      if (size > MAX_RESPONSE_BYTES) {
        pending.reject(new Error(`Response object is too long (${size} bytes; the total size of the response body can't exceed ${MAX_RESPONSE_BYTES} bytes).`));
        return;
      }
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf-8'));
      } catch {
        pending.reject(new Error('Invalid response object: the response is not JSON.'));
        return;
      }
      if (body?.Status !== 'SUCCESS' && body?.Status !== 'FAILED') {
        pending.reject(new Error(`Invalid response object: Status must be SUCCESS or FAILED, got ${JSON.stringify(body?.Status)}.`));
        return;
      }
      pending.resolve(body);
    });
  }
}
