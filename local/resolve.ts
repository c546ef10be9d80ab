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
 * The provider registers its server on start and removes it on stop (LocalProvider); apps started
 * with `serve`'s variables register `CDK_ELASTICACHE_BACKUP_DNS` through its NODE_OPTIONS preload
 * (resolve-hook.ts); the provider's Lambda functions through their runner (lambda/runner.ts, which
 * embeds `installLocalLookup`'s source).
 */

/** The registered servers, kept on the process: jest evaluates this module once per test file, while `dns` is one module for the process. */
export interface LocalDnsRegistry {
  readonly servers: string[];
}

/**
 * Puts the lookup in place, once per process, and returns the registry of servers. While no server
 * is registered it is the system's lookup. Done when this module is loaded, so that a library that
 * keeps a reference to `dns.lookup` from its own loading (ioredis' Cluster does, for its startup
 * nodes) and is loaded after it gets this one: the repository's jest setup loads it first.
 *
 * Self-contained (it requires what it uses and refers to nothing outside itself): the Lambda runner
 * embeds its source text.
 */
export function installLocalLookup(): LocalDnsRegistry {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const dns: typeof import('dns') = require('dns');
  const net: typeof import('net') = require('net');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const key = Symbol.for('cdk-elasticache-backup.local-dns');
  const store = globalThis as unknown as Record<symbol, LocalDnsRegistry | undefined>;
  const existing = store[key];
  if (existing) return existing;
  const registry: LocalDnsRegistry = { servers: [] };
  store[key] = registry;
  const system = dns.lookup;
  /** The A records of `hostname` from the first registered server that has them. */
  const resolveLocally = async (hostname: string): Promise<string[] | undefined> => {
    for (const server of [...registry.servers]) {
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
  };
  const lookup = (hostname: string, options: unknown, callback?: unknown): void => {
    const cb = (typeof options === 'function' ? options : callback) as (err: Error | null, address: unknown, family?: number) => void;
    const opts = (typeof options === 'object' && options !== null ? options : typeof options === 'number' ? { family: options } : {}) as
      { family?: number | string; all?: boolean };
    const fallback = () => (system as any)(hostname, options, callback);
    // Addresses, localhost and IPv6-only questions are not the provider's to answer.
    if (registry.servers.length === 0 || typeof cb !== 'function' || !hostname || net.isIP(hostname) !== 0 || hostname === 'localhost'
      || opts.family === 6 || opts.family === 'IPv6') {
      fallback();
      return;
    }
    resolveLocally(hostname).then((addresses) => {
      if (!addresses) {
        fallback();
      } else if (opts.all) {
        cb(null, addresses.map((address) => ({ address, family: 4 })));
      } else {
        cb(null, addresses[0], 4);
      }
    }, () => fallback());
  };
  (dns as any).lookup = lookup;
  return registry;
}

installLocalLookup();

/**
 * Makes `dns.lookup` in this process ask the DNS server at `address` (`host:port`) first, before the
 * system's resolver. Returns a function that undoes it.
 */
export function useLocalDns(address: string): () => void {
  const { servers } = installLocalLookup();
  servers.push(address);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const i = servers.indexOf(address);
    if (i >= 0) servers.splice(i, 1);
  };
}
