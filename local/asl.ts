/**
 * The ASL interpreter the local provider runs state machines on (aws-local-stepfunctions, JSONPath
 * definitions), and what its two runners share: local/sfn.ts (a deployment's state machine run
 * in-process by a test) and local/stepfunctions.ts (the Step Functions API's executions). Waits and
 * retry intervals run on the provider's clock; `arn:aws:states:::aws-sdk:<service>:<action>` tasks
 * are bound to the real SDK clients sent to the provider.
 */
import * as elasticache from '@aws-sdk/client-elasticache';
import * as route53 from '@aws-sdk/client-route-53';
import * as s3 from '@aws-sdk/client-s3';
import type { StateMachine as StateMachineClass } from 'aws-local-stepfunctions' with { 'resolution-mode': 'import' };
import type { LocalProvider } from './provider';

// The package is an ES module with a CommonJS build; its types are declared for the ES module, so
// this CommonJS file imports the types and requires the CommonJS build.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const { StateMachine } = require('aws-local-stepfunctions') as { StateMachine: typeof StateMachineClass };

// aws-local-stepfunctions 3 uses Promise.withResolvers (Node 22+); Node 20 lacks it.
if (typeof (Promise as any).withResolvers !== 'function') {
  (Promise as any).withResolvers = function withResolvers<T>() {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

const SERVICES: Record<string, { name: string; module: any; client: any; extra?: Record<string, unknown> }> = {
  elasticache: { name: 'ElastiCache', module: elasticache, client: elasticache.ElastiCacheClient },
  s3: { name: 'S3', module: s3, client: s3.S3Client, extra: { forcePathStyle: true } },
  route53: { name: 'Route53', module: route53, client: route53.Route53Client },
};

/** The context field that holds the run's times on the provider's clock. */
const SIMULATED = 'LocalProviderClock';

/** An error a Task state fails with: `name` is the state's Error, `message` its Cause. */
export class TaskError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** The error name Step Functions gives an AWS SDK integration's error. */
export function sdkErrorName(service: string, error: { name?: string }): string {
  const base = (error.name ?? 'Unknown').replace(/(Fault|Exception)$/, '');
  return `${service}.${base}Exception`;
}

/**
 * The definition's text with `$$.Execution.StartTime` and `$$.State.EnteredTime` read from context
 * fields kept on the provider's clock (see `clockContext`): aws-local-stepfunctions sets the first
 * to the host's time and has no second.
 */
export function onProviderClock(text: string): string {
  return text
    .split('$$.Execution.StartTime').join(`$$.${SIMULATED}.StartTime`)
    .split('$$.State.EnteredTime').join(`$$.${SIMULATED}.EnteredTime`);
}

/** The context fields `onProviderClock` reads, for a run started at `started` (simulated ms). */
export function clockContext(provider: LocalProvider, started: number): Record<string, unknown> {
  return {
    [SIMULATED]: {
      StartTime: new Date(started).toISOString(),
      // Read when a state's paths are evaluated, which is when it is entered.
      get EnteredTime() { return new Date(provider.clock.now()).toISOString(); },
    },
  };
}

/**
 * Wait states' `Seconds` and Retry intervals (simulated seconds) as real milliseconds at the clock's
 * speed, for the interpreter's `waitTimeOverrides` and `retryIntervalOverrides`. Top-level states only.
 */
export function clockOverrides(definition: any, speed: number): { waits: Record<string, number>; retryIntervals: Record<string, number[]> } {
  const waits: Record<string, number> = {};
  const retryIntervals: Record<string, number[]> = {};
  for (const [name, state] of Object.entries<any>(definition.States ?? {})) {
    if (state.Type === 'Wait' && typeof state.Seconds === 'number') {
      waits[name] = (state.Seconds * 1000) / speed;
    }
    if (state.Retry) {
      retryIntervals[name] = state.Retry.map((r: any) => ((r.IntervalSeconds ?? 1) * 1000) / speed);
    }
  }
  return { waits, retryIntervals };
}

/**
 * The handler of an `arn:aws:states:::aws-sdk:<service>:<action>` Task (undefined for another
 * resource): the real SDK v3 client of the service sent to the provider, without the SDK's own
 * retries; its errors are named `<Service>.<Name>Exception`. Clients are kept in `clients`, to be
 * destroyed by the caller when the run ends.
 */
export function awsSdkTask(state: string, arn: string, clientConfig: Record<string, unknown>, clients: Map<string, any>):
((input: any) => Promise<any>) | undefined {
  const sdk = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([a-zA-Z0-9]+)$/.exec(arn);
  if (!sdk) return undefined;
  const service = SERVICES[sdk[1]];
  if (!service) throw new Error(`state ${state}: the local provider does not emulate ${sdk[1]}`);
  const action = sdk[2][0].toUpperCase() + sdk[2].slice(1);
  const Command = service.module[`${action}Command`];
  if (!Command) throw new Error(`state ${state}: ${sdk[1]} has no action ${action}`);
  return async (input) => {
    let client = clients.get(sdk[1]);
    if (!client) {
      client = new service.client({ ...clientConfig, ...service.extra });
      clients.set(sdk[1], client);
    }
    try {
      const { $metadata: _, ...out } = await client.send(new Command(input));
      return JSON.parse(JSON.stringify(out));
    } catch (e) {
      throw new TaskError(sdkErrorName(service.name, e as Error), (e as Error).message);
    }
  };
}

