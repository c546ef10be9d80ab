import { Duration } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/**
 * How clients authenticate to the group.
 */
export enum RedisAuthenticationKind {
  /** Redis AUTH with a token. */
  AUTH_TOKEN = 'auth-token',
  /** Role-based access control with ElastiCache user groups. */
  USER_GROUPS = 'user-groups',
  /** No authentication. */
  NONE = 'none',
}

/**
 * Options for Redis AUTH.
 */
export interface AuthTokenOptions {
  /**
   * The secret whose string value is the AUTH token: 16 to 128 printable characters, of which the
   * only punctuation allowed is `!`, `&`, `#`, `$`, `^`, `<`, `>` and `-`.
   *
   * @default - a 64-character alphanumeric secret is generated
   */
  readonly secret?: secretsmanager.ISecret;

  /**
   * The KMS key that encrypts the generated secret. Only used when no `secret` is given.
   *
   * @default - the AWS managed key of Secrets Manager (`aws/secretsmanager`)
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Rotate the token on this schedule with a Secrets Manager rotation function (whole days, 1 to
   * 1000). The function runs in the group's subnets: ElastiCache's ROTATE makes the nodes accept
   * the old and the new token, the function tests the new one, moves `AWSCURRENT` to it, then SET
   * makes the old one stop working. Clients that read the secret again when a connection is
   * refused (`WRONGPASS`) never fail. The first rotation runs when the schedule is deployed.
   *
   * The function calls the Secrets Manager and ElastiCache APIs from those subnets: they need a
   * route to them (a NAT gateway, or interface VPC endpoints; see `rotationEndpoints`).
   *
   * @default - no rotation
   */
  readonly rotation?: Duration;

  /**
   * With `rotation`: add interface VPC endpoints for Secrets Manager and ElastiCache (private DNS
   * on) in the group's subnets, for subnets with no other route to those APIs. A VPC can have only
   * one endpoint with private DNS per service, so leave this off when it has them already.
   *
   * @default false
   */
  readonly rotationEndpoints?: boolean;
}

/**
 * How clients authenticate to a replication group. Both kinds of authentication need encryption in
 * transit.
 */
export class RedisAuthentication {
  /**
   * Redis AUTH: clients send a token kept in Secrets Manager.
   */
  public static authToken(options: AuthTokenOptions = {}): RedisAuthentication {
    if (options.secret && options.encryptionKey) {
      throw new Error('RedisAuthentication.authToken() was given both secret and encryptionKey; the key only encrypts a generated secret, so give one or the other');
    }
    return new RedisAuthentication(RedisAuthenticationKind.AUTH_TOKEN, options.secret, undefined, options.encryptionKey,
      options.rotation, options.rotationEndpoints);
  }

  /**
   * Role-based access control: clients sign in as users of these ElastiCache user groups
   * (Redis OSS 6.0 and later).
   */
  public static userGroups(userGroupIds: string[]): RedisAuthentication {
    return new RedisAuthentication(RedisAuthenticationKind.USER_GROUPS, undefined, [...userGroupIds], undefined, undefined, undefined);
  }

  /**
   * No authentication: anyone who can reach the port can read and write. Only the security group
   * protects the data.
   */
  public static none(): RedisAuthentication {
    return new RedisAuthentication(RedisAuthenticationKind.NONE, undefined, undefined, undefined, undefined, undefined);
  }

  private constructor(
    /** The kind of authentication. */
    public readonly kind: RedisAuthenticationKind,
    /** The AUTH token's secret, when given. */
    public readonly secret: secretsmanager.ISecret | undefined,
    /** The user group ids, for role-based access control. */
    public readonly userGroupIds: string[] | undefined,
    /** The key that encrypts a generated AUTH token secret. */
    public readonly encryptionKey: kms.IKey | undefined,
    /** How often the AUTH token is rotated, when it is. */
    public readonly rotation: Duration | undefined,
    /** Whether the rotation function gets interface VPC endpoints for Secrets Manager and ElastiCache. */
    public readonly rotationEndpoints: boolean | undefined,
  ) {}
}
