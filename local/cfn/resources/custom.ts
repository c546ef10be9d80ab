/**
 * Custom resources (`Custom::*`, `AWS::CloudFormation::CustomResource`), three ways:
 * - with the stack's functions created in the provider's Lambda (the CDK CLI path, `deployStack`
 *   with `functions: 'create'`): as CloudFormation does, the request goes to the function named by
 *   ServiceToken (an asynchronous invoke) with a ResponseURL served by the provider
 *   (local/cfn/responses.ts), and the resource waits for the response up to ServiceTimeout. For a
 *   CDK Provider framework resource that is the framework's own onEvent function from its asset,
 *   which invokes the user's handler and, with isComplete, starts the framework's waiter state
 *   machine in the provider's Step Functions: its retries and waits run as in AWS;
 * - with handlers given to `deployStack` (tests run them from source): called in this process, as
 *   the framework would call them (onEvent, then isComplete until complete);
 * - with functions recorded only (`deployStack`'s default): this repository's bundled handlers
 *   (assets/custom-resources/index.js), in this process, when the framework's onEvent function's code
 *   asset is that bundle (same asset hash); any other function is refused with the reason.
 * SNS-backed custom resources are not emulated.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import { CustomResourceHandlers, DeployedResource, ResourceContext, ResourceFailure, ResourceHandler } from './types';
import { until } from '../../poll';

/** The environment is process-wide: one custom resource request runs at a time. */
let queue: Promise<unknown> = Promise.resolve();

function serialized<T>(call: () => Promise<T>): Promise<T> {
  const run = queue.then(call, call);
  queue = run.catch(() => undefined);
  return run;
}

/** Runs a handler call with the stack's region and the provider's endpoint variables. */
async function inStackEnvironment<T>(ctx: ResourceContext, call: () => Promise<T>): Promise<T> {
  return serialized(async () => {
    const vars = { ...ctx.provider.env(), AWS_REGION: ctx.region, AWS_DEFAULT_REGION: ctx.region };
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    try {
      return await call();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
}

/**
 * Loads a module at run time, from the provider's own location, without a bundler (esbuild bundles
 * the `serve` command) taking it in: aws-cdk-lib is the package's peer dependency, and the handler
 * bundle is loaded as shipped.
 */
const load = createRequire(__filename);

/** assets/custom-resources of this package: up from here (local/cfn/resources in a checkout, lib/local when bundled). */
function bundleDir(): string | undefined {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'assets', 'custom-resources');
    if (fs.existsSync(path.join(candidate, 'index.js'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

let bundleHash: string | undefined;

/** The CDK asset hash of the bundled handlers (as `lambda.Code.fromAsset` computes it: the source fingerprint). */
function bundledAssetHash(dir: string): string {
  if (bundleHash === undefined) {
    const { FileSystem } = load('aws-cdk-lib') as typeof import('aws-cdk-lib');
    bundleHash = FileSystem.fingerprint(dir, { exclude: ['.is_custom_resource'] });
  }
  return bundleHash;
}

/** The logical id of the stack's Lambda function whose Arn is `arn`. */
function functionWithArn(ctx: ResourceContext, arn: string): string | undefined {
  return Object.keys(ctx.template.Resources).find((id) => ctx.template.Resources[id].Type === 'AWS::Lambda::Function'
    && ctx.resource(id)?.attributes.Arn === arn);
}

function bundledHandlers(ctx: ResourceContext, serviceToken: string): CustomResourceHandlers {
  const framework = functionWithArn(ctx, serviceToken);
  if (!framework) {
    throw new ResourceFailure(`The ServiceToken ${serviceToken} is not a function of this stack; the local provider runs only this library's bundled handlers.`);
  }
  const env = ctx.resource(framework)?.properties?.Environment?.Variables ?? {};
  const onEventId = env.USER_ON_EVENT_FUNCTION_ARN ? functionWithArn(ctx, env.USER_ON_EVENT_FUNCTION_ARN) : undefined;
  const fn = onEventId ? ctx.resource(onEventId)?.properties : undefined;
  const dir = bundleDir();
  const hash = dir ? bundledAssetHash(dir) : undefined;
  if (!fn || fn.Handler !== 'index.onEvent' || !dir || fn.Code?.S3Key !== `${hash}.zip`) {
    throw new ResourceFailure(`The function behind ${ctx.type} ${ctx.logicalId} is not this library's bundled custom-resources handler `
      + `(assets/custom-resources${hash ? ` with asset hash ${hash}` : ', not built: run the bundle:lambda task'}); `
      + 'the local provider does not run other Lambda code yet.');
  }
  try {
    return load(path.join(dir, 'index.js')) as CustomResourceHandlers;
  } catch (e) {
    // The bundle leaves the AWS SDK out (Lambda's runtime has it): it must be installed next to the provider.
    throw new ResourceFailure(`The bundled custom-resources handler could not be loaded (${(e as Error).message.split('\n')[0]}); `
      + 'it needs the AWS SDK for JavaScript v3 clients it uses (@aws-sdk/client-elasticache, -s3, -cloudformation) installed.');
  }
}

/** The request CloudFormation sends (user guide, "Custom resource request objects"); ResponseURL added by the caller. */
function requestEvent(ctx: ResourceContext, requestType: 'Create' | 'Update' | 'Delete', props: Record<string, any>,
  current?: DeployedResource, oldProps?: Record<string, any>): Record<string, any> {
  const serviceToken = props.ServiceToken;
  if (typeof serviceToken !== 'string') throw new ResourceFailure('Properties validation failed for resource: required key [ServiceToken] not found');
  // ServiceTimeout is CloudFormation's, not the provider's: it is not passed on.
  const strip = (p: Record<string, any>) => Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'ServiceToken' && k !== 'ServiceTimeout'));
  return {
    RequestType: requestType,
    ServiceToken: serviceToken,
    ResourceType: ctx.type,
    LogicalResourceId: ctx.logicalId,
    ResourceProperties: { ServiceToken: serviceToken, ...strip(props) },
    StackId: ctx.stackId,
    RequestId: randomUUID(),
    ...(current ? { PhysicalResourceId: current.physicalId } : {}),
    ...(oldProps ? { OldResourceProperties: { ServiceToken: oldProps.ServiceToken, ...strip(oldProps) } } : {}),
  };
}

/**
 * Sends the request to the Lambda function named by ServiceToken, as CloudFormation does: an
 * asynchronous invoke with a ResponseURL, then waits for the response PUT there, at most
 * ServiceTimeout seconds (1 to 3600, default 3600) on the provider's clock. A function that fails
 * without answering is, as in AWS, a request without a response: it times out.
 */
async function viaLambda(ctx: ResourceContext, event: Record<string, any>, props: Record<string, any>,
  current?: DeployedResource): Promise<DeployedResource> {
  const timeout = props.ServiceTimeout === undefined ? 3600 : Number(props.ServiceTimeout);
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 3600) {
    throw new ResourceFailure(`Properties validation failed for resource ${ctx.logicalId}: ServiceTimeout must be an integer from 1 to 3600 seconds, got ${JSON.stringify(props.ServiceTimeout)}`);
  }
  const slot = await ctx.provider.cfnResponses.open();
  let timer: NodeJS.Timeout | undefined;
  try {
    const fnRegion = event.ServiceToken.split(':')[3];
    void ctx.provider.lambda.invoke(fnRegion, event.ServiceToken, JSON.stringify({ ...event, ResponseURL: slot.url })).catch(() => undefined);
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ResourceFailure(`CloudFormation did not receive a response from your Custom Resource within ${timeout} seconds `
        + `(ServiceTimeout). Please check your logs for requestId [${event.RequestId}].`)), realTimeout(ctx, timeout));
      timer.unref?.();
    });
    let response;
    try {
      response = await Promise.race([slot.response, expired]);
    } catch (e) {
      if (e instanceof ResourceFailure) throw e;
      throw new ResourceFailure((e as Error).message);
    }
    if (response.Status === 'FAILED') {
      throw new ResourceFailure(`Received response status [FAILED] from custom resource. Message returned: ${response.Reason ?? '(no reason)'}`
        + ` (RequestId: ${event.RequestId})`, response.PhysicalResourceId);
    }
    const physicalId = response.PhysicalResourceId ?? current?.physicalId;
    if (!physicalId) throw new ResourceFailure('Invalid PhysicalResourceId: the custom resource answered SUCCESS without one.');
    return { physicalId, attributes: { ...response.Data } };
  } finally {
    if (timer) clearTimeout(timer);
    slot.close();
  }
}

/**
 * How long to wait, in real milliseconds. The timeout is on the simulated clock, but functions run
 * in real time (their work is not sped up): a provider whose work takes a real second would lose a
 * simulated ten minutes at the default speed. So the wait is never shorter than the timeout in real
 * seconds, up to two real minutes (a provider that never answers then fails within that).
 */
function realTimeout(ctx: ResourceContext, seconds: number): number {
  return Math.max(ctx.provider.clock.real(seconds * 1000), Math.min(seconds * 1000, 120_000));
}

/** Whether the stack's function behind `arn` was created in the provider's Lambda (not recorded only). */
function deployedFunction(ctx: ResourceContext, arn: string): boolean {
  if (ctx.recordFunctions || !/^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[^:]+$/.test(arn)) return false;
  try {
    ctx.provider.lambda.getFunction(arn.split(':')[3], arn);
    return true;
  } catch {
    return false;
  }
}

async function request(ctx: ResourceContext, requestType: 'Create' | 'Update' | 'Delete', props: Record<string, any>,
  current?: DeployedResource, oldProps?: Record<string, any>): Promise<DeployedResource> {
  const event = requestEvent(ctx, requestType, props, current, oldProps);
  const serviceToken: string = event.ServiceToken;
  if (!ctx.customResources && deployedFunction(ctx, serviceToken)) return viaLambda(ctx, event, props, current);
  if (!ctx.customResources && !ctx.recordFunctions) {
    throw new ResourceFailure(`The ServiceToken ${serviceToken} of ${ctx.logicalId} is not a Lambda function of the local provider `
      + '(SNS-backed custom resources are not emulated).');
  }
  const handlers = ctx.customResources ?? bundledHandlers(ctx, serviceToken);
  const out = (await inStackEnvironment(ctx, () => handlers.onEvent(event))) ?? {};
  // The framework's defaults: a new resource without an id gets the request id; otherwise the id stays.
  const physicalId: string = out.PhysicalResourceId ?? current?.physicalId ?? event.RequestId;
  const done = await until(`${ctx.logicalId} complete`, async () => {
    // As the Provider framework does: every key of onEvent's answer (e.g. the deadline) reaches isComplete.
    const r = await inStackEnvironment(ctx, () => handlers.isComplete({ ...event, ...out, PhysicalResourceId: physicalId }));
    return r?.IsComplete ? r : undefined;
  }, 3_600_000, 50);
  return { physicalId, attributes: { ...out.Data, ...done.Data } };
}

export const customResource: ResourceHandler = {
  properties: 'any',

  create(ctx, props) {
    return request(ctx, 'Create', props);
  },

  update(ctx, current, oldProps, props) {
    return request(ctx, 'Update', props, current, oldProps);
  },

  async delete(ctx, current, props) {
    await request(ctx, 'Delete', props, current);
  },
};
