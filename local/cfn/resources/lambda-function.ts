/**
 * AWS::Lambda::Function, in the provider's Lambda (local/lambda/functions.ts: Node.js functions run
 * in child processes). The code comes from `Code.S3Bucket`/`Code.S3Key` (an object of the
 * provider's S3, e.g. an asset zip the CDK CLI published into the bootstrap bucket), or from
 * `Code.ZipFile`, inline source that CloudFormation writes to a file named `index` with the
 * runtime's extension (resource reference, `Code.ZipFile`; for Node.js: index.js). Ref is the
 * function name; attribute Arn (resource reference, "Return values").
 *
 * FunctionName requires replacement. Any other change (code, handler, environment, ...) is applied
 * by deleting the function and creating it again under its name: the local Lambda has no
 * UpdateFunctionCode/UpdateFunctionConfiguration, and an invocation during the update fails.
 *
 * `deployStack` (local/deploy.ts) records functions by default instead (`functions: 'record'`):
 * it deploys a synthesized template whose code assets were never published to S3. The CDK CLI's
 * deployments (through the CloudFormation API) always create them.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { recorded } from './recorded';
import { DeployedResource, int, ResourceContext, ResourceFailure, ResourceHandler } from './types';

const NO_EFFECT: Record<string, string> = {
  Tags: 'function tags are not stored',
  Architectures: 'functions run on the local machine\'s architecture',
  // CDK puts a function in the VPC (subnets, security groups) when it must reach a group's nodes.
  VpcConfig: 'functions run on the local machine and reach every node, resolving endpoint names through the provider\'s DNS server as functions in a VPC do; no subnets or security groups apply',
  LoggingConfig: 'function logs are kept by the local Lambda (lambda.logs), not sent to CloudWatch Logs',
};

const RECORDED = 'recorded only: deployStack was asked to record Lambda functions (functions: \'record\'; their code assets are not published)';

function notes(props: Record<string, any>): string | undefined {
  const given = Object.keys(NO_EFFECT).filter((k) => props[k] !== undefined);
  return given.length ? given.map((k) => `${k} accepted without effect: ${NO_EFFECT[k]}`).join('; ') : undefined;
}

function failure(e: unknown): ResourceFailure {
  if (e instanceof ResourceFailure) return e;
  const err = e as { type?: string; message: string };
  return new ResourceFailure(`${err.message} (Service: AWSLambda${err.type ? `; Error Code: ${err.type}` : ''})`);
}

/** Creates the function under `name` from the template's properties. */
async function make(ctx: ResourceContext, name: string, props: Record<string, any>): Promise<DeployedResource> {
  const code = props.Code ?? {};
  const unknownCode = Object.keys(code).filter((k) => !['S3Bucket', 'S3Key', 'ZipFile'].includes(k));
  if (unknownCode.length) throw new ResourceFailure(`The local provider does not apply Code.${unknownCode.join(', Code.')} of AWS::Lambda::Function.`);
  const variables = props.Environment?.Variables ?? {};
  const unknownEnv = Object.keys(props.Environment ?? {}).filter((k) => k !== 'Variables');
  if (unknownEnv.length) throw new ResourceFailure(`The local provider does not apply Environment.${unknownEnv.join(', Environment.')} of AWS::Lambda::Function.`);
  const options = {
    region: ctx.region,
    name,
    handler: props.Handler,
    runtime: props.Runtime,
    environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])),
    timeoutSeconds: int(props.Timeout),
    memorySize: int(props.MemorySize),
    role: props.Role,
    description: props.Description,
  };
  let config: Record<string, unknown>;
  if (typeof code.ZipFile === 'string' && code.S3Bucket === undefined) {
    if (typeof props.Runtime !== 'string' || !props.Runtime.startsWith('nodejs')) {
      throw new ResourceFailure(`The local provider writes inline code (Code.ZipFile) for Node.js runtimes only, not ${props.Runtime}.`);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-lambda-'));
    try {
      fs.writeFileSync(path.join(dir, 'index.js'), code.ZipFile);
      config = await ctx.provider.lambda.createFunction({ ...options, codeDir: dir }).catch((e) => { throw failure(e); });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  } else if (typeof code.S3Bucket === 'string' && typeof code.S3Key === 'string' && code.ZipFile === undefined) {
    let file: string;
    try {
      file = ctx.provider.s3.getObject(ctx.provider.s3.bucket(code.S3Bucket, ctx.region), code.S3Key).file;
    } catch (e) {
      // The words are Lambda's CreateFunction error for an S3 failure (NOT CONFIRMED word for word, as in local/lambda/api.ts).
      throw new ResourceFailure(`Error occurred while GetObject. S3 Error Code: ${(e as any).code ?? (e as any).name}. `
        + `S3 Error Message: ${(e as Error).message} (s3://${code.S3Bucket}/${code.S3Key})`);
    }
    config = await ctx.provider.lambda.createFunction({ ...options, zipFile: file }).catch((e) => { throw failure(e); });
  } else {
    throw new ResourceFailure('Please provide a source for function code: either Code.ZipFile, or Code.S3Bucket and Code.S3Key.');
  }
  return { physicalId: name, attributes: { Arn: config.FunctionArn }, notes: notes(props) };
}

export const lambdaFunction: ResourceHandler = {
  properties: ['FunctionName', 'Handler', 'Runtime', 'Code', 'Role', 'Environment', 'Timeout', 'MemorySize', 'Description', ...Object.keys(NO_EFFECT)],
  replaceOn: ['FunctionName'],
  nameProperty: 'FunctionName',

  async create(ctx, props) {
    return make(ctx, props.FunctionName ?? ctx.generatedName(64), props);
  },

  async update(ctx, current, old, props) {
    // A function recorded by an earlier deployment is created now.
    if (!current.recorded) await lambdaFunction.delete(ctx, current, old, false);
    return make(ctx, current.recorded ? props.FunctionName ?? ctx.generatedName(64) : current.physicalId, props);
  },

  async delete(ctx, current) {
    if (current.recorded) return;
    try {
      ctx.provider.lambda.deleteFunction(ctx.region, current.physicalId);
    } catch (e) {
      if ((e as { type?: string }).type !== 'ResourceNotFoundException') throw failure(e);
    }
  },
};

/** A function recorded only (`deployStack`'s `functions: 'record'`): as every recorded type, with the reason. */
export const recordedFunction: ResourceHandler = {
  properties: 'any',
  async create(ctx, props) {
    return { ...(await recorded.create(ctx, props)), recorded: RECORDED };
  },
  async update(ctx, current, old, props) {
    return { ...(await recorded.update(ctx, current, old, props)), recorded: RECORDED };
  },
  async delete(ctx, current) {
    // A function an earlier deployment created is deleted; a recorded one was never made.
    if (!current.recorded) await lambdaFunction.delete(ctx, current, {}, false);
  },
};
