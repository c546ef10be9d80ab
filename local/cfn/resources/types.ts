/**
 * What the local CloudFormation engine asks of one resource type: create, update in place, delete,
 * which property changes need a replacement, and which properties it applies. One file per type
 * (local/cfn/resources/<service>-<type>.ts), registered in index.ts.
 */
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import type { LocalProvider } from '../../provider';

/** The Provider framework's two entry points, as the bundled handlers export them. */
export interface CustomResourceHandlers {
  onEvent(event: unknown): Promise<any>;
  isComplete(event: unknown): Promise<any>;
}

/** SDK clients for one region, pointed at the provider, made when first used. */
export class Clients {
  private made: Array<{ destroy(): void }> = [];
  private s3Client?: S3Client;
  private ecClient?: ElastiCacheClient;
  private r53Client?: Route53Client;

  constructor(private readonly endpoint: string, private readonly region: string) {}

  private options(region = this.region) {
    return { region, endpoint: this.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 };
  }

  public get s3(): S3Client {
    if (!this.s3Client) this.made.push(this.s3Client = new S3Client({ ...this.options(), forcePathStyle: true }));
    return this.s3Client;
  }

  public get elasticache(): ElastiCacheClient {
    if (!this.ecClient) this.made.push(this.ecClient = new ElastiCacheClient(this.options()));
    return this.ecClient;
  }

  /** Route 53 is global: its API is signed for us-east-1 whatever the stack's region. */
  public get route53(): Route53Client {
    if (!this.r53Client) this.made.push(this.r53Client = new Route53Client(this.options('us-east-1')));
    return this.r53Client;
  }

  public destroy(): void {
    for (const c of this.made) c.destroy();
    this.made = [];
  }
}

/** Where a resource lives and what it may use. */
export interface ResourceContext {
  readonly provider: LocalProvider;
  readonly region: string;
  readonly account: string;
  readonly stackName: string;
  readonly stackId: string;
  readonly logicalId: string;
  readonly type: string;
  readonly clients: Clients;
  /** The stack's template being deployed (custom resources find their functions in it). */
  readonly template: Record<string, any>;
  /** Handlers for `Custom::*` resources given by the caller of `deployStack` (tests), if any. */
  readonly customResources?: CustomResourceHandlers;
  /** Record AWS::Lambda::Function resources instead of creating them (`deployStack`'s `functions: 'record'`). */
  readonly recordFunctions?: boolean;
  /** The physical id and attributes of another resource of the stack, if created. */
  resource(logicalId: string): DeployedResource | undefined;
  /** A deterministic, unique-enough name for a resource without one, as CloudFormation generates (`stack-logicalid-RANDOM`). */
  generatedName(maxLength: number, lowerCase?: boolean): string;
}

/** A created (or updated) resource as the engine keeps it. */
export interface DeployedResource {
  readonly physicalId: string;
  /** Fn::GetAtt values by attribute name. */
  readonly attributes: Record<string, unknown>;
  /** The resolved properties it was last created or updated with (set by the engine). */
  readonly properties?: Record<string, any>;
  /** Set when the type is recorded only: why (for the stack event and `recorded()`). */
  readonly recorded?: string;
  /** Properties accepted without effect, with the reason (reported in the stack event). */
  readonly notes?: string;
}

export interface ResourceHandler {
  /**
   * The properties this handler applies or accepts (with a documented reason); any other property
   * fails the resource rather than being dropped. `'any'` for recorded types.
   */
  readonly properties: readonly string[] | 'any';
  /** Properties whose change needs a new physical resource (the resource reference's "Update requires: Replacement"). */
  readonly replaceOn?: readonly string[];
  /** The property that names the resource: a replacement that keeps the name is refused, as CloudFormation refuses it. */
  readonly nameProperty?: string;
  /** Whether DeletionPolicy Snapshot applies to this type. */
  readonly snapshots?: boolean;
  create(ctx: ResourceContext, props: Record<string, any>): Promise<DeployedResource>;
  /** Applies changed properties in place (no replacement needed); may answer a new physical id (then the old one is deleted in cleanup). */
  update(ctx: ResourceContext, current: DeployedResource, oldProps: Record<string, any>, props: Record<string, any>): Promise<DeployedResource>;
  /** Deletes the resource; with `snapshot`, after taking the final snapshot DeletionPolicy Snapshot asks for. */
  delete(ctx: ResourceContext, current: DeployedResource, props: Record<string, any>, snapshot: boolean): Promise<void>;
}

/** Why a resource failed: the text of its *_FAILED event; `physicalId` when something was made (a rollback deletes it). */
export class ResourceFailure extends Error {
  constructor(message: string, public readonly physicalId?: string) {
    super(message);
  }
}

/** Refuses properties the handler does not apply (dynamic references are resolved when it is called: local/cfn/dynamic.ts). */
export function checkProperties(type: string, handler: ResourceHandler, props: Record<string, any>): void {
  if (handler.properties !== 'any') {
    const unknown = Object.keys(props).filter((k) => !handler.properties.includes(k));
    if (unknown.length > 0) {
      throw new ResourceFailure(`The local provider does not apply ${unknown.join(', ')} of ${type}; `
        + 'it refuses the resource rather than deploy it without them.');
    }
  }
}

/** A template boolean (CloudFormation takes `true` and `"true"`). */
export function bool(value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ResourceFailure(`Value ${JSON.stringify(value)} is not a boolean`);
}

/** A template integer (CloudFormation takes `3` and `"3"`). */
export function int(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new ResourceFailure(`Value ${JSON.stringify(value)} is not an integer`);
  return n;
}

/** The message of an SDK or other error, for a stack event. */
export function reason(e: unknown): string {
  const err = e as { name?: string; message?: string };
  if (e instanceof ResourceFailure) return err.message ?? String(e);
  return err?.name && err.name !== 'Error' ? `${err.message} (Service: ${err.name})` : String(err?.message ?? e);
}
