/**
 * STS, as far as the AWS CDK CLI asks it (local/cdk-cli-calls.md): GetCallerIdentity (the account the
 * CLI deploys to, and the partition from the caller's ARN) and AssumeRole (the bootstrap roles the CLI
 * assumes for publishing and deploying), over the AWS Query protocol (`Version=2011-06-15`) with
 * STS's shapes and errors. There is one account, `LOCAL_ACCOUNT`, and no IAM: every role of that
 * account can be assumed by anyone, and credentials are never checked.
 */
import { randomBytes } from 'crypto';
import { QueryParams, resultXml, ServiceError } from './elasticache/query';

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
/** The local provider's only account. */
export const LOCAL_ACCOUNT = '000000000000';
/** The caller every request is from (credentials are not checked). */
export const LOCAL_CALLER_ARN = `arn:aws:iam::${LOCAL_ACCOUNT}:user/local`;

/** AssumeRole's DurationSeconds: 900 s to 12 hours (the role's maximum, which the provider does not model), 1 hour by default. */
const MIN_DURATION = 900;
const MAX_DURATION = 43_200;
const DEFAULT_DURATION = 3600;

function validationError(message: string): ServiceError {
  return new ServiceError('ValidationError', message);
}

function credentialId(prefix: string): string {
  return prefix + randomBytes(8).toString('hex').toUpperCase();
}

export class LocalSts {
  /**
   * @param now the time credentials expire from: the host's clock, since the client compares the
   *   expiration with its own clock (the provider's simulated clock runs ahead of it)
   */
  constructor(private readonly now: () => number = Date.now) {}

  /** Answers one Query request (the form-encoded body). */
  public handle(body: string): string {
    const p = new QueryParams(new URLSearchParams(body));
    switch (p.action) {
      case 'GetCallerIdentity':
        return resultXml('GetCallerIdentity', { UserId: 'AIDALOCALPROVIDERUSER', Account: LOCAL_ACCOUNT, Arn: LOCAL_CALLER_ARN }, STS_XMLNS);
      case 'AssumeRole':
        return resultXml('AssumeRole', this.assumeRole(p), STS_XMLNS);
      default:
        // AWS common errors: InvalidAction, HTTP 400.
        throw new ServiceError('InvalidAction', `Could not find operation ${p.action || '(none)'} for version 2011-06-15`);
    }
  }

  private assumeRole(p: QueryParams): Record<string, unknown> {
    const roleArn = p.str('RoleArn');
    const session = p.str('RoleSessionName');
    if (!roleArn) throw validationError("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
    if (!session) throw validationError("1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null");
    // RoleSessionName: 2 to 64 characters of [\w+=,.@-] (API reference, AssumeRole).
    if (!/^[\w+=,.@-]{2,64}$/.test(session)) {
      throw validationError(`1 validation error detected: Value '${session}' at 'roleSessionName' failed to satisfy constraint: `
        + 'Member must satisfy regular expression pattern: [\\w+=,.@-]*');
    }
    const m = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/.exec(roleArn);
    if (!m) throw validationError(`${roleArn} is invalid`);
    if (m[2] !== LOCAL_ACCOUNT) {
      // Another account's role: the local provider has none, as an account without the trust would refuse.
      throw new ServiceError('AccessDenied', `User: ${LOCAL_CALLER_ARN} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
    }
    const duration = p.int('DurationSeconds') ?? DEFAULT_DURATION;
    if (duration < MIN_DURATION || duration > MAX_DURATION) {
      throw validationError(`1 validation error detected: Value '${duration}' at 'durationSeconds' failed to satisfy constraint: `
        + `Member must have value ${duration < MIN_DURATION ? `greater than or equal to ${MIN_DURATION}` : `less than or equal to ${MAX_DURATION}`}`);
    }
    const roleId = `AROALOCAL${Buffer.from(m[3]).toString('hex').slice(0, 12).toUpperCase()}`;
    return {
      Credentials: {
        AccessKeyId: credentialId('ASIA'),
        SecretAccessKey: randomBytes(30).toString('base64'),
        SessionToken: randomBytes(48).toString('base64'),
        Expiration: new Date(this.now() + duration * 1000),
      },
      AssumedRoleUser: {
        AssumedRoleId: `${roleId}:${session}`,
        Arn: `arn:${m[1]}:sts::${LOCAL_ACCOUNT}:assumed-role/${m[3]}/${session}`,
      },
    };
  }
}
