/**
 * Name resolution through the local provider's DNS server for code running in this process, as
 * code in a VPC resolves ElastiCache's endpoint names and private hosted zones through the VPC's
 * resolver.
 *
 * Node's `net` and `tls` resolve host names with `dns.lookup` (the system's resolver, which knows
 * nothing of the provider). While a provider's DNS server is registered here, `dns.lookup` first
 * asks it (over UDP, with Node's own `dns.Resolver`), and falls back to the system's resolver for
 * names it does not answer (REFUSED: not in its zones) or when it is unreachable. So a Redis client
 * given `master.<group>.<id>.euw1.cache.amazonaws.com`, or a private zone's name that is a CNAME to
 * it, connects to the node's loopback address, and follows a DNS cutover like an application would.
 *
 * The provider registers its server on start and removes it on stop (LocalProvider). A process of
 * its own (e.g. a Lambda function run by the provider) registers the address it is given in
 * `CDK_ELASTICACHE_BACKUP_DNS` with `useLocalDns`.
 */
// The module object itself (not a namespace copy of it): its `lookup` is what `net` calls.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import dns = require('dns');
import * as net from 'net';

/**
 * The registered servers and the system's lookup, kept on the process (not in this module): jest
 * evaluates this module once per test file, while `dns` is one module for the whole process.
 */
interface Registry {
  readonly servers: string[];
  readonly systemLookup: typeof dns.lookup;
}
const REGISTRY = Symbol.for('cdk-elasticache-backup.local-dns');

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/** Asks the registered servers in turn for the A records of `hostname`; undefined when none answers them. */
async function resolveLocally(servers: readonly string[], hostname: string): Promise<string[] | undefined> {
  for (const server of servers) {
    // A short timeout and one try: the server is on this machine, and a name it does not answer
    // falls back to the system's resolver.
    const resolver = new dns.promises.Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([server]);
    try {
      const addresses = await resolver.resolve4(hostname);
      if (addresses.length > 0) return addresses;
    } catch {
      // REFUSED (not its name), NXDOMAIN, NODATA, unreachable: the next server, then the system.
    }
  }
  return undefined;
}

function localLookup(hostname: string, options: unknown, callback?: unknown): void {
  const { servers, systemLookup } = registry();
  const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
  const opts: dns.LookupOptions = typeof options === 'object' && options !== null ? options as dns.LookupOptions
    : typeof options === 'number' ? { family: options } : {};
  const fallback = () => (systemLookup as any)(hostname, options, callback);
  // Addresses, localhost and IPv6-only questions are not the provider's to answer.
  if (servers.length === 0 || typeof cb !== 'function' || !hostname || net.isIP(hostname) !== 0 || hostname === 'localhost' || opts.family === 6 || opts.family === 'IPv6') {
    fallback();
    return;
  }
  resolveLocally([...servers], hostname).then((addresses) => {
    if (!addresses) {
      fallback();
      return;
    }
    if (opts.all) {
      cb(null, addresses.map((address) => ({ address, family: 4 })));
    } else {
      cb(null, addresses[0], 4);
    }
  }, () => fallback());
}

/**
 * Puts the lookup in place (once per process). While no server is registered it is the system's
 * lookup. Done when this module is loaded, so that a library that keeps a reference to `dns.lookup`
 * from its own loading (ioredis' Cluster does, for its startup nodes) and is loaded after this module
 * gets this one: the repository's jest setup loads it first (test/setup.ts).
 */
function registry(): Registry {
  const store = globalThis as unknown as Record<symbol, Registry | undefined>;
  let found = store[REGISTRY];
  if (!found) {
    found = { servers: [], systemLookup: dns.lookup };
    store[REGISTRY] = found;
    (dns as any).lookup = localLookup;
  }
  return found;
}
registry();

/**
 * Makes `dns.lookup` in this process ask the DNS server at `address` (`host:port`) first, before the
 * system's resolver. Returns a function that undoes it.
 */
export function useLocalDns(address: string): () => void {
  const { servers } = registry();
  servers.push(address);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const i = servers.indexOf(address);
    if (i >= 0) servers.splice(i, 1);
  };
}
