/**
 * The provider's request layer, before any service sees a request: who may call (the gate), which
 * service and region a request is for, and how much of a body is held in memory.
 *
 * The gate. The provider listens on 127.0.0.1, but a browser on the same machine can still reach
 * it: a cross-site form POST (no preflight for form-encoded bodies) could call ElastiCache's Query
 * API, and a DNS-rebinding page could read answers. AWS refuses requests that are not signed; the
 * provider does not check signatures (any credentials work), but it requires what a browser page
 * cannot send: a SigV4-shaped `Authorization` header (or presigned-URL query parameters), a
 * loopback `Host`, and no `Origin` (browsers send one on cross-origin requests; the AWS SDKs, the
 * AWS CLI and the CDK CLI never do).
 */
import * as http from 'http';

/** The credential scope of a SigV4 signature: `AKID/20261121/eu-west-1/elasticache/aws4_request`. */
const SCOPE = '[^/\\s,]+/\\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request';
/**
 * The header the SDKs, the AWS CLI (botocore) and the CDK CLI send: algorithm, then Credential,
 * SignedHeaders and Signature (AWS General Reference, "Signature Version 4: add the signature to
 * the HTTP request").
 */
const SIGV4_HEADER = new RegExp(`^AWS4-HMAC-SHA256 Credential=${SCOPE}, ?SignedHeaders=[a-z0-9;-]+, ?Signature=[0-9a-f]{64}$`);
const SIGV4_SCOPE = new RegExp(`^${SCOPE}$`);
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * The most the provider holds in memory for a Query API (ElastiCache, CloudFormation) or Route 53
 * request body. AWS publishes no limit on the request itself; the largest legitimate bodies are
 * far smaller (a CloudFormation TemplateBody of its 51,200-byte maximum, form-encoded; a Route 53
 * change batch within its 1,000 records and 32,000 value characters).
 */
export const MAX_API_BODY = 1024 * 1024;

/** A request refused before (or while) its body is read, answered in the service's error shape. */
export class RequestRefused extends Error {
  constructor(public readonly code: string, message: string, public readonly status: number) {
    super(message);
  }
}

export interface Route {
  /** The SigV4 service name: `elasticache`, `s3`, `route53`, `cloudformation`, … */
  readonly service: string;
  readonly region: string;
}

/** The service a request is for when its signature does not say (to answer in that service's error shape). */
function guessService(req: http.IncomingMessage): string {
  if (req.url?.startsWith('/2013-04-01/')) return 'route53';
  if (req.method === 'POST' && (req.url === '/' || req.url?.startsWith('/?'))) return 'elasticache';
  return 's3';
}

/**
 * Checks that the request comes from an AWS client on this machine, and finds its service and
 * region from its SigV4 credential scope, as AWS routes them.
 * @returns the route, or the refusal with the route its error is shaped for
 */
export function gate(req: http.IncomingMessage): { route: Route; refusal?: RequestRefused } {
  const fallback: Route = { service: guessService(req), region: 'us-east-1' };
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  if (!LOOPBACK_HOSTS.includes(host)) {
    return { route: fallback, refusal: new RequestRefused('AccessDenied', `The local provider answers only requests addressed to 127.0.0.1 or localhost, not to Host '${req.headers.host ?? ''}'.`, 403) };
  }
  const site = req.headers['sec-fetch-site'];
  if (req.headers.origin !== undefined || (site !== undefined && site !== 'none' && site !== 'same-origin')) {
    return { route: fallback, refusal: new RequestRefused('AccessDenied', `The local provider refuses requests from a browser page (Origin '${req.headers.origin ?? site}').`, 403) };
  }
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const m = SIGV4_HEADER.exec(authorization);
    if (m) return { route: { region: m[1], service: m[2] } };
    const service = /^AWS4-HMAC-SHA256 Credential=[^/\s,]+\/\d{8}\/[a-z0-9-]+\/([a-z0-9-]+)\//.exec(authorization)?.[1] ?? fallback.service;
    return { route: { ...fallback, service }, refusal: malformedSignature(service) };
  }
  // A presigned URL carries the signature in its query string.
  const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  if (query.has('X-Amz-Algorithm') || query.has('X-Amz-Credential')) {
    const m = SIGV4_SCOPE.exec(query.get('X-Amz-Credential') ?? '');
    if (m && query.get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256' && /^[0-9a-f]{64}$/.test(query.get('X-Amz-Signature') ?? '')) {
      return { route: { region: m[1], service: m[2] } };
    }
    return { route: fallback, refusal: malformedSignature(fallback.service) };
  }
  return { route: fallback, refusal: missingSignature(fallback.service) };
}

/** AWS's answer to an unsigned request: S3 treats it as anonymous (denied), the others as unauthenticated. */
function missingSignature(service: string): RequestRefused {
  return service === 's3'
    ? new RequestRefused('AccessDenied', 'Access Denied', 403)
    // AWS common errors (e.g. the ElastiCache API reference, "Common Errors"): MissingAuthenticationToken, HTTP 403.
    : new RequestRefused('MissingAuthenticationToken', 'The request must contain either a valid (registered) AWS access key ID or X.509 certificate.', 403);
}

function malformedSignature(service: string): RequestRefused {
  return service === 's3'
    ? new RequestRefused('AuthorizationHeaderMalformed', 'The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.', 400)
    // AWS common errors: IncompleteSignature, HTTP 400.
    : new RequestRefused('IncompleteSignature', 'The request signature does not conform to AWS standards.', 400);
}

/** The refusal of a body over `limit` bytes (not confirmed against AWS, which documents none for these APIs). */
export function tooLarge(limit: number): RequestRefused {
  return new RequestRefused('RequestEntityTooLarge', `The request body exceeds the local provider's limit of ${limit} bytes.`, 413);
}

/** Raised when the client went away before it had sent its whole request. */
export class ClientGone extends Error {}

/**
 * Feeds the body to `onChunk` as it arrives. Unlike `for await`, a failure (thrown by `onChunk`)
 * stops reading without destroying the socket, so the error can still be answered.
 * @throws ClientGone when the client goes away first
 */
export function consume(req: http.IncomingMessage, onChunk: (chunk: Buffer) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (error?: unknown) => {
      req.off('data', data);
      req.off('end', end);
      req.off('close', close);
      req.off('error', done);
      if (error === undefined) {
        resolve();
      } else {
        req.pause();
        reject(error);
      }
    };
    const data = (chunk: Buffer) => {
      try {
        onChunk(chunk);
      } catch (e) {
        done(e);
      }
    };
    const end = () => done();
    const close = () => {
      if (!req.complete) done(new ClientGone('the client closed the connection before it had sent its request'));
    };
    req.on('data', data);
    req.on('end', end);
    req.on('close', close);
    req.on('error', done);
    if (req.complete && req.readableEnded) done();
  });
}

/** Reads a whole body, refusing one over `limit` bytes (announced or received) without holding more. */
export async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const announced = Number(req.headers['content-length']);
  if (announced > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  await consume(req, (chunk) => {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

/** How much of a refused body is read and thrown away, at most, before its connection is closed. */
const LINGER_BYTES = 16 * 1024 * 1024;
const LINGER_MS = 2000;

/**
 * Reads and discards the rest of a refused request body, then calls `done` (which ends the answer
 * and so closes the connection): at most LINGER_BYTES or LINGER_MS, whichever comes first, so a
 * client uploading gigabytes cannot hold the connection.
 */
export function discardRest(req: http.IncomingMessage, done: () => void): void {
  let discarded = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    req.off('data', data);
    req.off('end', finish);
    req.off('close', finish);
    done();
  };
  const data = (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > LINGER_BYTES) finish();
  };
  const timer = setTimeout(finish, LINGER_MS);
  req.on('data', data);
  req.on('end', finish);
  req.on('close', finish);
  req.resume();
  if (req.complete) finish();
}

/** Whether the client went away before its request was answered (an aborted upload, a timeout, Ctrl-C). */
export function clientGone(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  return (req.destroyed && !req.complete) || res.destroyed || req.socket.destroyed;
}
