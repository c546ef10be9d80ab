/**
 * Deploys a synthesized stack template into the local provider in process, the way `cdk deploy`
 * does it through the CloudFormation API: one change set, executed by the local CloudFormation
 * engine (local/cfn/engine.ts), with the same per-type handlers (local/cfn/resources/). Tests and
 * the drill use it to deploy without the CDK CLI, and to run the library's custom resources
 * through handlers loaded from source.
 *
 * Deployed for real: see local/cfn/resources/index.ts (S3 buckets and bucket policies, ElastiCache
 * replication groups, Route 53 hosted zones, SSM parameters, secrets, SNS topics, CloudWatch
 * alarms, `Custom::*` through the given handlers; Lambda functions only with `functions: 'create'`,
 * since the template's code assets are not published here). Every other type is recorded only (a
 * name and an ARN, so references resolve), and listed by the stack's `recorded()`.
 */
import { parameterMap } from './cfn/engine';
import { CustomResourceHandlers } from './cfn/resources/types';
import { NotReady, Resolver, ResolverSource } from './cfn/template';
import { LocalStack } from './cloudformation';
import { LocalProvider } from './provider';

export type { CustomResourceHandlers } from './cfn/resources/types';

export interface DeployOptions {
  readonly stackName: string;
  readonly region: string;
  /** @deprecated the provider's account is used */
  readonly account?: string;
  /** Runs `Custom::*` resources in process (from source); without it, only the bundled handlers are run. */
  readonly customResources?: CustomResourceHandlers;
  /**
   * `record` (the default): AWS::Lambda::Function resources are recorded only, since a synthesized
   * template's code assets are not published to the provider's S3 in process; `create`: they are
   * created in the provider's Lambda (code from `Code.ZipFile`, or an S3 object the caller put there).
   */
  readonly functions?: 'create' | 'record';
  /** Parameter values (the others keep their defaults). */
  readonly parameters?: Record<string, string>;
}

/** A deployed stack: physical ids and attributes of its resources, and a resolver for its intrinsics. */
export class Deployment {
  public readonly refs = new Map<string, string>();
  public readonly attrs = new Map<string, string>();
  /** Resources recorded only: any attribute of theirs resolves to a placeholder. */
  public readonly recorded = new Set<string>();
  private readonly resolver: Resolver;

  constructor(public readonly stack: LocalStack, public readonly region: string, public readonly account: string) {
    for (const r of stack.resources.values()) {
      this.refs.set(r.logicalId, r.physicalId);
      for (const [k, v] of Object.entries(r.attributes)) {
        if (typeof v === 'string' || typeof v === 'number') this.attrs.set(`${r.logicalId}.${k}`, String(v));
      }
      if (r.recorded) this.recorded.add(r.logicalId);
    }
    const source: ResolverSource = {
      ref: (id) => {
        const v = this.refs.get(id);
        if (v === undefined) throw new NotReady(id);
        return v;
      },
      getAtt: (id, attr) => {
        const v = stack.resources.get(id)?.attributes[attr] ?? (this.recorded.has(id) ? `${id}.${attr}` : undefined);
        if (v === undefined) throw new NotReady(`${id}.${attr}`);
        return v;
      },
      importValue: (name) => {
        throw new NotReady(`export ${name}`);
      },
    };
    this.resolver = new Resolver(stack.template, parameterMap(stack.template, stack.parameters),
      { region, account, stackName: stack.name, stackId: stack.id }, source);
  }

  public get template(): any {
    return this.stack.template;
  }

  public get stackName(): string {
    return this.stack.name;
  }

  /** Resolves CloudFormation intrinsics against what is deployed. */
  public resolve(value: any): any {
    return this.resolver.resolve(value);
  }

  /** The logical id of the resource whose `Fn::GetAtt ... Arn` is `arn`. */
  public logicalIdOfArn(arn: string): string | undefined {
    for (const [key, value] of this.attrs) {
      if (value === arn && key.endsWith('.Arn')) return key.slice(0, -'.Arn'.length);
    }
    return undefined;
  }
}

/** Deploys (creates, or updates) a synthesized stack template into the local provider; throws when the deployment failed (after its rollback). */
export async function deployStack(provider: LocalProvider, template: any, options: DeployOptions): Promise<Deployment> {
  const model = provider.cloudformation(options.region);
  const result = await model.deploy(options.stackName, template, {
    customResources: options.customResources, parameters: options.parameters, recordFunctions: (options.functions ?? 'record') === 'record',
  });
  if (!result.succeeded) {
    throw new Error(`deploying ${options.stackName} failed (${result.stack.status}): ${result.failures.join('; ') || result.stack.statusReason}`);
  }
  return new Deployment(result.stack, options.region, options.account ?? '000000000000');
}

/** Deletes a stack deployed with `deployStack` (its resources in reverse order, with their DeletionPolicy); throws when it failed. */
export async function destroyStack(provider: LocalProvider, stackName: string, region: string): Promise<void> {
  const stack = await provider.cloudformation(region).destroy(stackName);
  if (stack && stack.status !== 'DELETE_COMPLETE') {
    throw new Error(`deleting ${stackName} failed (${stack.status}): ${stack.statusReason}`);
  }
}
