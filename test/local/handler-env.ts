/**
 * For test files that call the Lambda handlers in-process: one local provider for the file, the
 * handlers' environment (endpoint variables, region) pointing at it, and an ElastiCache client; all
 * undone after the file. Register it before the file's own hooks, which then see it set.
 */
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { LocalProvider, LocalProviderOptions } from '../../local/provider';

export interface HandlerEnvironment {
  readonly provider: LocalProvider;
  readonly ec: ElastiCacheClient;
}

export function handlerEnvironment(region: string, options: LocalProviderOptions = { speed: 600 }): HandlerEnvironment {
  const env = {} as { provider: LocalProvider; ec: ElastiCacheClient };
  const saved = { ...process.env };
  beforeAll(async () => {
    env.provider = await LocalProvider.start(options);
    Object.assign(process.env, env.provider.env(), { AWS_REGION: region });
    env.ec = new ElastiCacheClient({});
  });
  afterAll(async () => {
    env.ec?.destroy();
    await env.provider?.stop();
    process.env = saved;
  });
  return env;
}
