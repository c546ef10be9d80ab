import { Duration } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EngineVersion } from './engine';
import { RedisAuthentication, RedisAuthenticationKind } from '../../auth';

/**
 * AUTH tokens and user groups need encryption in transit; role-based access control (user groups)
 * needs Redis OSS 6.0 or later; a KMS key is used only for encryption at rest (ElastiCache user
 * guide, "Authenticating with the Valkey and Redis OSS AUTH command" and "Role-Based Access Control").
 */
export function checkSecurity(auth: RedisAuthentication, transit: boolean, atRest: boolean, key: kms.IKey | undefined, engine: EngineVersion): void {
  if (auth.kind !== RedisAuthenticationKind.NONE && !transit) {
    throw new Error(`authentication is ${auth.kind === RedisAuthenticationKind.AUTH_TOKEN ? 'RedisAuthentication.authToken()' : 'RedisAuthentication.userGroups()'} but transitEncryption is false; ElastiCache accepts AUTH tokens and user groups only with encryption in transit`);
  }
  if (auth.kind === RedisAuthenticationKind.USER_GROUPS) {
    if (!auth.userGroupIds || auth.userGroupIds.length === 0) {
      throw new Error('authentication is RedisAuthentication.userGroups([]) with no user group; give at least one user group id');
    }
    if (engine.major < 6) {
      throw new Error(`authentication is RedisAuthentication.userGroups() but engineVersion is ${engine.major}.x; role-based access control needs Redis OSS 6.0 or later`);
    }
  }
  if (key && !atRest) {
    throw new Error('encryptionKey is given but atRestEncryption is false; the key is only used for encryption at rest');
  }
}

/**
 * The AUTH token's rotation schedule: whole days from 1 to 1000, what a Secrets Manager rotation
 * schedule of `rate(N days)` takes (Secrets Manager user guide, "Rotation schedules").
 */
export function checkRotation(rotation: Duration | undefined): void {
  if (rotation === undefined || rotation.isUnresolved()) return;
  const days = rotation.toHours() / 24;
  if (!Number.isInteger(days) || days < 1 || days > 1000) {
    throw new Error(`authentication rotation is ${rotation.toHumanString()}; the AUTH token is rotated every whole number of days from 1 to 1000 (a Secrets Manager rotation schedule)`);
  }
}
