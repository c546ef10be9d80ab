/**
 * `StandbyRestore`'s check of a restored standby, before anything points at it. It runs in the
 * standby's VPC and connects the way applications do: to the endpoint applications would use (the
 * configuration endpoint in cluster mode, else the primary endpoint), with TLS when the group has
 * in-transit encryption, with the AUTH token when it has one. Then it proves the data is there and
 * is the export's:
 * - the key count (DBSIZE, summed over the shards' primaries) is within the export's: at most the
 *   keys its RDB headers counted, at least those less the keys that carried an expiry (they may have
 *   expired since);
 * - every shard's sample key (the first key its RDB file holds, one without an expiry) exists: a
 *   group seeded from another export, or an empty one, does not have them.
 * Anything else fails the run with `StandbyCheckFailed`, and DNS is not moved.
 *
 * Bundled on its own (assets/standby-check) with ioredis, the Redis client of the local provider
 * too: Redis Cluster routing and TLS are a library's job, not this file's.
 */
import Redis, { Cluster } from 'ioredis';
import { secretString, StepError } from './steps-common';
import { CheckStandbyInput, CheckStandbyOutput, STANDBY_CHECK_FAILED } from '../../src/private/standby-restore-contract';

class CheckFailed extends StepError {
  constructor(message: string) {
    super(STANDBY_CHECK_FAILED, message);
  }
}

/** The Lambda entry point (`index.checkStandby` of assets/standby-check). */
export async function checkStandby(input: CheckStandbyInput): Promise<CheckStandbyOutput> {
  const group = input.group;
  if (group?.Status !== 'available') {
    throw new CheckFailed(`standby ${input.replicationGroupId} is ${group?.Status ?? 'gone'}, not available`);
  }
  const clustered = group.ClusterEnabled === true;
  const endpoint = clustered ? group.ConfigurationEndpoint : group.NodeGroups?.[0]?.PrimaryEndpoint;
  if (!endpoint?.Address || !endpoint.Port) {
    throw new CheckFailed(`standby ${input.replicationGroupId} reports no ${clustered ? 'configuration' : 'primary'} endpoint`);
  }
  const password = input.authTokenSecretArn ? await secretString(input.authTokenSecretArn) : undefined;
  const options = {
    password,
    tls: group.TransitEncryptionEnabled ? {} : undefined,
    connectTimeout: 10_000,
    maxRetriesPerRequest: 2,
  };
  const manifest = input.manifest;
  const client: Redis | Cluster = clustered
    // ElastiCache's TLS certificates name the endpoints, so the nodes are reached by name (dnsLookup
    // passes the name through), as ElastiCache's ioredis guidance has it.
    ? new Cluster([{ host: endpoint.Address, port: endpoint.Port }], {
      lazyConnect: true, dnsLookup: (address, callback) => callback(null, address), redisOptions: options,
    })
    : new Redis({ host: endpoint.Address, port: endpoint.Port, lazyConnect: true, ...options });
  try {
    await client.connect();
    const primaries = client instanceof Cluster ? client.nodes('master') : [client];
    if (primaries.length !== manifest.shards.length) {
      throw new CheckFailed(`standby ${input.replicationGroupId} has ${primaries.length} shard primaries; export ${manifest.runName} has ${manifest.shards.length} shards`);
    }
    let keys = 0;
    for (const node of primaries) keys += await node.dbsize();
    const expires = manifest.shards.reduce((sum, sh) => sum + (sh.expires ?? 0), 0);
    const expected = manifest.keyCount === undefined ? null : { min: manifest.keyCount - expires, max: manifest.keyCount };
    if (expected && (keys < expected.min || keys > expected.max)) {
      throw new CheckFailed(`standby ${input.replicationGroupId} holds ${keys} keys; export ${manifest.runName} held ${manifest.keyCount}`
        + ` (${expires} with an expiry), so between ${expected.min} and ${expected.max} were expected`);
    }
    const sampleKeys = manifest.shards.map((sh) => sh.sampleKey).filter((k): k is string => k !== undefined);
    for (const key of sampleKeys) {
      if (await client.exists(key) !== 1) {
        throw new CheckFailed(`standby ${input.replicationGroupId} lacks key '${key}', which export ${manifest.runName} holds: its data is not that export's`);
      }
    }
    if (!expected && sampleKeys.length === 0) {
      throw new CheckFailed(`export ${manifest.runName}'s manifest has neither a key count nor sample keys: the standby's data cannot be proved to be the export's`);
    }
    return { endpoint: { address: endpoint.Address, port: endpoint.Port }, keys, expected, sampleKeys, checkedAt: new Date().toISOString() };
  } catch (e) {
    if (e instanceof CheckFailed) throw e;
    throw new CheckFailed(`could not check standby ${input.replicationGroupId} at ${endpoint.Address}:${endpoint.Port}: ${(e as Error).message}`);
  } finally {
    client.disconnect();
  }
}
