/**
 * Preloaded into Node processes (`NODE_OPTIONS=--require=<this file, bundled>`, printed by `serve`)
 * so that an application resolves the local provider's names (ElastiCache endpoints, hosted zones)
 * through its DNS server, `CDK_ELASTICACHE_BACKUP_DNS`, as it would resolve them through its VPC's
 * resolver in AWS; other names go to the system's resolver (see resolve.ts).
 */
import { useLocalDns } from './resolve';

const address = process.env.CDK_ELASTICACHE_BACKUP_DNS;
if (address) useLocalDns(address);
