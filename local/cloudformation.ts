/**
 * CloudFormation, as far as the library's handlers ask it about their own stack: stacks with their
 * status, template and resources, answered over the AWS Query protocol (DescribeStacks,
 * DescribeStackResource, DescribeStackResources, GetTemplate) with CloudFormation's shapes and errors.
 *
 * The model holds what a deployment has done; whoever deploys (the local deployer, or a test playing
 * CloudFormation's part) moves stacks through their statuses with `setStatus`, as CloudFormation
 * does during create, update, cleanup, rollback and delete.
 */
import { randomUUID } from 'crypto';
import { Clock } from './clock';
import { QueryParams, resultXml, ServiceError } from './elasticache/query';

export const CLOUDFORMATION_XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

/**
 * Stack statuses (the API reference's `StackStatus` enumeration).
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Stack.html
 */
export const STACK_STATUSES = [
  'CREATE_IN_PROGRESS', 'CREATE_FAILED', 'CREATE_COMPLETE', 'ROLLBACK_IN_PROGRESS', 'ROLLBACK_FAILED', 'ROLLBACK_COMPLETE',
  'DELETE_IN_PROGRESS', 'DELETE_FAILED', 'DELETE_COMPLETE', 'UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
  'UPDATE_COMPLETE', 'UPDATE_FAILED', 'UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_FAILED',
  'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_COMPLETE', 'REVIEW_IN_PROGRESS', 'IMPORT_IN_PROGRESS',
  'IMPORT_COMPLETE', 'IMPORT_ROLLBACK_IN_PROGRESS', 'IMPORT_ROLLBACK_FAILED', 'IMPORT_ROLLBACK_COMPLETE',
] as const;
export type StackStatus = typeof STACK_STATUSES[number];

export interface StackResource {
  readonly logicalId: string;
  readonly physicalId: string;
  readonly type: string;
  /** e.g. CREATE_COMPLETE, UPDATE_COMPLETE, DELETE_SKIPPED. */
  readonly status: string;
  readonly lastUpdated: Date;
}

/** One stack: its status, its current template and its resources by logical id. */
export class LocalStack {
  public readonly resources = new Map<string, StackResource>();
  public readonly created: Date;
  private currentStatus: StackStatus = 'CREATE_IN_PROGRESS';

  constructor(public readonly name: string, public readonly id: string, public template: Record<string, any>, private readonly clock: Clock) {
    this.created = new Date(clock.now());
  }

  public get status(): StackStatus {
    return this.currentStatus;
  }

  public setStatus(status: StackStatus): this {
    this.currentStatus = status;
    return this;
  }

  /** Records a resource's physical id (and status) as CloudFormation does when it creates, updates or replaces it. */
  public setResource(logicalId: string, physicalId: string, status: string = 'CREATE_COMPLETE'): this {
    const type = this.template.Resources?.[logicalId]?.Type ?? this.resources.get(logicalId)?.type;
    if (type === undefined) {
      throw new Error(`stack ${this.name} has no resource ${logicalId} in its template`);
    }
    this.resources.set(logicalId, { logicalId, physicalId, type, status, lastUpdated: new Date(this.clock.now()) });
    return this;
  }

  /** Forgets a resource, as CloudFormation does once it has deleted (or skipped deleting) it. */
  public removeResource(logicalId: string): this {
    this.resources.delete(logicalId);
    return this;
  }
}

export class CloudFormationModel {
  private readonly stacks = new Map<string, LocalStack>();

  constructor(public readonly region: string, private readonly account: string, private readonly clock: Clock) {}

  /** Starts a stack's creation (status CREATE_IN_PROGRESS) with its template. */
  public createStack(name: string, template: Record<string, any>): LocalStack {
    if (this.find(name)) {
      throw new ServiceError('AlreadyExistsException', `Stack [${name}] already exists`);
    }
    const id = `arn:aws:cloudformation:${this.region}:${this.account}:stack/${name}/${randomUUID()}`;
    const stack = new LocalStack(name, id, template, this.clock);
    this.stacks.set(id, stack);
    return stack;
  }

  /** A stack by name (live stacks only) or by stack id (deleted ones too), as CloudFormation looks them up. */
  public find(nameOrId: string): LocalStack | undefined {
    const byId = this.stacks.get(nameOrId);
    if (byId) return byId;
    return [...this.stacks.values()].find((s) => s.name === nameOrId && s.status !== 'DELETE_COMPLETE');
  }

  public stack(nameOrId: string): LocalStack {
    const stack = this.find(nameOrId);
    if (!stack) {
      throw new ServiceError('ValidationError', `Stack with id ${nameOrId} does not exist`);
    }
    return stack;
  }

  /** Answers one Query API request. */
  public handle(body: string): string {
    const params = new QueryParams(new URLSearchParams(body));
    const action = params.action;
    switch (action) {
      case 'DescribeStacks': {
        const name = params.str('StackName');
        const stacks = name === undefined
          ? [...this.stacks.values()].filter((s) => s.status !== 'DELETE_COMPLETE')
          : [this.stack(name)];
        return this.result(action, {
          Stacks: stacks.map((s) => ({ StackId: s.id, StackName: s.name, CreationTime: s.created, StackStatus: s.status })),
        });
      }
      case 'DescribeStackResource': {
        const stack = this.stack(params.required('StackName'));
        const logicalId = params.required('LogicalResourceId');
        const r = stack.resources.get(logicalId);
        if (!r) {
          throw new ServiceError('ValidationError', `Resource ${logicalId} does not exist for stack ${stack.name}`);
        }
        return this.result(action, { StackResourceDetail: { ...this.resourceShape(stack, r), LastUpdatedTimestamp: r.lastUpdated } });
      }
      case 'DescribeStackResources': {
        const stack = this.stack(params.required('StackName'));
        const logicalId = params.str('LogicalResourceId');
        const resources = [...stack.resources.values()].filter((r) => logicalId === undefined || r.logicalId === logicalId);
        return this.result(action, { StackResources: resources.map((r) => ({ ...this.resourceShape(stack, r), Timestamp: r.lastUpdated })) });
      }
      case 'GetTemplate': {
        const stage = params.str('TemplateStage');
        if (stage !== undefined && stage !== 'Original' && stage !== 'Processed') {
          throw new ServiceError('ValidationError', `1 validation error detected: Value '${stage}' at 'templateStage' failed to satisfy constraint: Member must satisfy enum value set: [Original, Processed]`);
        }
        const stack = this.stack(params.required('StackName'));
        return this.result(action, { TemplateBody: JSON.stringify(stack.template), StagesAvailable: ['Original', 'Processed'] });
      }
      default:
        throw new ServiceError('InvalidAction', `The action ${action || '(none)'} is not valid for this web service.`);
    }
  }

  private resourceShape(stack: LocalStack, r: StackResource): Record<string, unknown> {
    return {
      StackName: stack.name,
      StackId: stack.id,
      LogicalResourceId: r.logicalId,
      PhysicalResourceId: r.physicalId,
      ResourceType: r.type,
      ResourceStatus: r.status,
    };
  }

  private result(action: string, result: Record<string, unknown>): string {
    return resultXml(action, result, CLOUDFORMATION_XMLNS);
  }
}
