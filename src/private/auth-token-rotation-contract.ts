/**
 * What the AUTH token rotation function (lambda/handlers/auth-token-rotation.ts) and the construct
 * that deploys it (RedisReplicationGroup with `RedisAuthentication.authToken({ rotation })`) share.
 */

/** The environment variable that names the replication group whose AUTH token the function rotates. */
export const GROUP_ID_ENV = 'REPLICATION_GROUP_ID';

/** The length of a generated AUTH token (GetRandomPassword; alphanumeric, as ElastiCache accepts 16 to 128). */
export const TOKEN_LENGTH = 64;
