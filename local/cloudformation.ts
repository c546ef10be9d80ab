/**
 * CloudFormation, as the AWS CDK CLI (local/cdk-cli-calls.md) and the library's handlers use it,
 * over the AWS Query protocol (`Version=2010-05-15`) with CloudFormation's shapes and errors:
 * change sets (CreateChangeSet, DescribeChangeSet, ExecuteChangeSet, DeleteChangeSet,
 * ListChangeSets), stacks (DescribeStacks, DeleteStack, GetTemplate, DescribeStackEvents,
 * DescribeStackResource(s), ListStackResources, UpdateTerminationProtection, ListExports).
 *
 * A change set is computed when it is created (its status is CREATE_COMPLETE, or FAILED when it
 * holds no changes, by the time CreateChangeSet answers); executing it runs the stack operation in
 * the provider's process (local/cfn/engine.ts) while the caller polls DescribeStacks and
 * DescribeStackEvents.
 *
 * Tests may still play CloudFormation's part themselves: `createStack`, `setStatus` and
 * `setResource` move a stack as CloudFormation would, without deploying anything.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import { ParameterValue, StackRun } from './cfn/engine';
import { handlerFor } from './cfn/resources';
import { CustomResourceHandlers } from './cfn/resources/types';
import { checkRules, dependencies, parseTemplate, Resolver, sameValue, validationError } from './cfn/template';
import { Clock } from './clock';
import { QueryParams, resultXml, ServiceError } from './elasticache/query';
import type { LocalProvider } from './provider';

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

/** Statuses from which a stack can be updated (the others are in progress, or a failed create or delete). */
const UPDATABLE: readonly string[] = ['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE', 'IMPORT_ROLLBACK_COMPLETE'];

/** CloudFormation quotas: a TemplateBody of 51,200 bytes, a template in S3 of 1 MB (User Guide, "CloudFormation quotas"). */
const MAX_TEMPLATE_BODY = 51_200;
const MAX_TEMPLATE_URL_OBJECT = 1_000_000;

export interface StackResource {
  readonly logicalId: string;
  readonly physicalId: string;
  readonly type: string;
  /** e.g. CREATE_COMPLETE, UPDATE_COMPLETE, DELETE_FAILED. */
  readonly status: string;
  readonly lastUpdated: Date;
  /** Fn::GetAtt values. */
  readonly attributes: Record<string, unknown>;
  /** The resolved properties it was last created or updated with. */
  readonly properties?: Record<string, any>;
  /** Why it is recorded only (not deployed), for types the local provider does not emulate. */
  readonly recorded?: string;
  /** Properties accepted without effect, with the reason. */
  readonly notes?: string;
  /** During an update: the physical resource this one replaced, deleted in cleanup. */
  readonly replaced?: StackResource;
}

export interface StackEvent {
  readonly EventId: string;
  readonly StackId: string;
  readonly StackName: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId: string;
  readonly ResourceType: string;
  readonly Timestamp: Date;
  readonly ResourceStatus: string;
  readonly ResourceStatusReason?: string;
}

export interface StackOutput {
  readonly OutputKey: string;
  readonly OutputValue: string;
  readonly Description?: string;
  readonly ExportName?: string;
}

export interface ResourceChange {
  readonly Action: 'Add' | 'Modify' | 'Remove';
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceType: string;
  readonly Replacement?: 'True' | 'False' | 'Conditional';
  readonly PolicyAction?: string;
  readonly Scope: string[];
  readonly Details: Array<Record<string, unknown>>;
}

export interface ChangeSet {
  readonly id: string;
  readonly name: string;
  readonly stackId: string;
  readonly type: 'CREATE' | 'UPDATE';
  readonly created: Date;
  readonly template: Record<string, any>;
  readonly body: string;
  readonly parameters: ParameterValue[];
  readonly capabilities: string[];
  readonly tags: Array<{ Key: string; Value: string }>;
  readonly description?: string;
  readonly changes: ResourceChange[];
  status: 'CREATE_PENDING' | 'CREATE_IN_PROGRESS' | 'CREATE_COMPLETE' | 'DELETE_COMPLETE' | 'FAILED';
  statusReason?: string;
  executionStatus: 'UNAVAILABLE' | 'AVAILABLE' | 'EXECUTE_IN_PROGRESS' | 'EXECUTE_COMPLETE' | 'EXECUTE_FAILED' | 'OBSOLETE';
}

/** One stack: its status, its current template and parameters, its resources by logical id, its events and change sets. */
export class LocalStack {
  public readonly resources = new Map<string, StackResource>();
  public readonly created: Date;
  public lastUpdated?: Date;
  public deleted?: Date;
  /** The template body as it was given (GetTemplate answers it verbatim). */
  public templateBody?: string;
  public parameters: ParameterValue[] = [];
  public outputs: StackOutput[] = [];
  public capabilities: string[] = [];
  public tags: Array<{ Key: string; Value: string }> = [];
  public description?: string;
  public roleArn?: string;
  public terminationProtection = false;
  public changeSetId?: string;
  /** Export names this stack imports (Fn::ImportValue): their stacks cannot remove them. */
  public readonly imports = new Set<string>();
  public readonly changeSets = new Map<string, ChangeSet>();
  /** Oldest first; DescribeStackEvents answers newest first. */
  public readonly events: StackEvent[] = [];
  /** The operation running, if any. */
  public operation?: Promise<void>;
  private currentStatus: StackStatus = 'CREATE_IN_PROGRESS';
  private reason?: string;
  private lastEventTime = 0;

  /**
   * Stack times (creation, events, change sets) are the host's, not the simulated clock's: the CDK
   * CLI compares event timestamps with its own clock to know which events are new (as STS's
   * expirations are compared with the client's clock).
   */
  constructor(public readonly name: string, public readonly id: string, public template: Record<string, any>, _clock?: Clock) {
    this.created = new Date();
  }

  public get status(): StackStatus {
    return this.currentStatus;
  }

  public get statusReason(): string | undefined {
    return this.reason;
  }

  public setStatus(status: StackStatus, reason?: string): this {
    this.currentStatus = status;
    this.reason = reason;
    if (status.startsWith('UPDATE_') || status.startsWith('ROLLBACK_')) this.lastUpdated = this.now();
    if (status === 'DELETE_COMPLETE') this.deleted = this.now();
    return this;
  }

  /** The simulated time; never earlier than the last event, so events keep their order. */
  public now(): Date {
    return new Date(Math.max(Date.now(), this.lastEventTime));
  }

  public addEvent(e: { logicalId: string; physicalId: string; type: string; status: string; reason?: string }): void {
    // Every event gets its own millisecond, later than the one before.
    const t = Math.max(Date.now(), this.lastEventTime + 1);
    this.lastEventTime = t;
    this.events.push({
      EventId: e.logicalId === this.name && e.type === 'AWS::CloudFormation::Stack' ? randomUUID() : `${e.logicalId}-${e.status}-${new Date(t).toISOString()}`,
      StackId: this.id,
      StackName: this.name,
      LogicalResourceId: e.logicalId,
      PhysicalResourceId: e.physicalId,
      ResourceType: e.type,
      Timestamp: new Date(t),
      ResourceStatus: e.status,
      ResourceStatusReason: e.reason,
    });
  }

  /** Records a resource's physical id (and status) as CloudFormation does when it creates, updates or replaces it. */
  public setResource(logicalId: string, physicalId: string, status: string = 'CREATE_COMPLETE'): this {
    const type = this.template.Resources?.[logicalId]?.Type ?? this.resources.get(logicalId)?.type;
    if (type === undefined) {
      throw new Error(`stack ${this.name} has no resource ${logicalId} in its template`);
    }
    const previous = this.resources.get(logicalId);
    this.resources.set(logicalId, {
      logicalId, physicalId, type, status, lastUpdated: this.now(), attributes: previous?.attributes ?? {}, properties: previous?.properties,
    });
    return this;
  }

  /** Forgets a resource, as CloudFormation does once it has deleted (or skipped deleting) it. */
  public removeResource(logicalId: string): this {
    this.resources.delete(logicalId);
    return this;
  }

  /** The resources recorded only (types the local provider does not emulate), with the reason. */
  public recorded(): Array<{ logicalId: string; type: string; reason: string }> {
    return [...this.resources.values()].filter((r) => r.recorded).map((r) => ({ logicalId: r.logicalId, type: r.type, reason: r.recorded! }));
  }
}

/** The outcome of `deploy`: the stack and, when it failed, why. */
export interface DeployResult {
  readonly stack: LocalStack;
  readonly succeeded: boolean;
  /** The reasons of the failed resources' events, when it failed. */
  readonly failures: string[];
}

export class CloudFormationModel {
  private readonly stacks = new Map<string, LocalStack>();

  constructor(public readonly region: string, private readonly account: string, clock?: Clock, private readonly provider?: LocalProvider) {
    void clock; // stack times are the host's (see LocalStack)
  }

  /** Starts a stack's creation (status CREATE_IN_PROGRESS) with its template, without deploying anything (for tests playing CloudFormation). */
  public createStack(name: string, template: Record<string, any>): LocalStack {
    if (this.find(name)) {
      throw new ServiceError('AlreadyExistsException', `Stack [${name}] already exists`);
    }
    const id = `arn:aws:cloudformation:${this.region}:${this.account}:stack/${name}/${randomUUID()}`;
    const stack = new LocalStack(name, id, template);
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

  /** The value of an export of this region. */
  public exportValue(name: string): string | undefined {
    return this.exports().find((e) => e.Name === name)?.Value;
  }

  private exports(): Array<{ Name: string; Value: string; ExportingStackId: string }> {
    return [...this.stacks.values()].filter((s) => s.status !== 'DELETE_COMPLETE')
      .flatMap((s) => s.outputs.filter((o) => o.ExportName).map((o) => ({ Name: o.ExportName!, Value: o.OutputValue, ExportingStackId: s.id })));
  }

  /**
   * Deploys a template as one change set, executed and waited for (what `cdk deploy` does, in
   * process): the stack is created, or updated when it exists. SSM-typed parameters that cannot be
   * resolved are left without a value (a reference to one fails the resource) unless `strictParameters`.
   */
  public async deploy(name: string, template: Record<string, any>,
    options: { customResources?: CustomResourceHandlers; parameters?: Record<string, string>; recordFunctions?: boolean } = {},
  ): Promise<DeployResult> {
    const existing = this.find(name);
    const type = existing && existing.status !== 'REVIEW_IN_PROGRESS' ? 'UPDATE' : 'CREATE';
    const cs = this.createChangeSet({
      stackName: name,
      changeSetName: `local-deploy-${randomUUID()}`,
      type,
      body: JSON.stringify(template),
      parameters: Object.entries(options.parameters ?? {}).map(([k, v]) => ({ ParameterKey: k, ParameterValue: v })),
      capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
      tags: [],
      lenientSsm: true,
    });
    const stack = this.stack(cs.stackId);
    if (cs.status === 'FAILED') {
      if (/didn't contain changes/.test(cs.statusReason ?? '')) {
        stack.changeSets.delete(cs.id);
        return { stack, succeeded: true, failures: [] };
      }
      throw new Error(`change set for ${name} failed: ${cs.statusReason}`);
    }
    this.executeChangeSet(cs, options.customResources, options.recordFunctions);
    await stack.operation;
    const succeeded = stack.status === 'CREATE_COMPLETE' || stack.status === 'UPDATE_COMPLETE';
    const since = cs.created.getTime();
    const failures = stack.events.filter((e) => e.Timestamp.getTime() >= since && /_FAILED$/.test(e.ResourceStatus) && e.ResourceStatusReason)
      .map((e) => `${e.LogicalResourceId} ${e.ResourceStatus}: ${e.ResourceStatusReason}`);
    return { stack, succeeded, failures };
  }

  /** Deletes a stack and waits for it (in process). */
  public async destroy(nameOrId: string): Promise<LocalStack | undefined> {
    const stack = this.find(nameOrId);
    if (!stack) return undefined;
    this.startDelete(stack);
    await stack.operation;
    return stack;
  }

  // ---- the API -------------------------------------------------------------------------------

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
        return this.result(action, { Stacks: stacks.map((s) => this.stackShape(s)) });
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
      case 'ListStackResources': {
        const stack = this.stack(params.required('StackName'));
        return this.result(action, {
          StackResourceSummaries: [...stack.resources.values()].map((r) => ({
            LogicalResourceId: r.logicalId,
            PhysicalResourceId: r.physicalId,
            ResourceType: r.type,
            LastUpdatedTimestamp: r.lastUpdated,
            ResourceStatus: r.status,
          })),
        });
      }
      case 'GetTemplate': {
        const stage = params.str('TemplateStage');
        if (stage !== undefined && stage !== 'Original' && stage !== 'Processed') {
          throw new ServiceError('ValidationError', `1 validation error detected: Value '${stage}' at 'templateStage' failed to satisfy constraint: Member must satisfy enum value set: [Original, Processed]`);
        }
        const csName = params.str('ChangeSetName');
        if (csName !== undefined) {
          const cs = this.changeSet(csName, params.str('StackName'));
          return this.result(action, { TemplateBody: cs.body, StagesAvailable: ['Original', 'Processed'] });
        }
        const stack = this.stack(params.required('StackName'));
        // The body as it was given: the CDK CLI compares it with its own (key order included).
        return this.result(action, { TemplateBody: stack.templateBody ?? JSON.stringify(stack.template), StagesAvailable: ['Original', 'Processed'] });
      }
      case 'CreateChangeSet': return this.result(action, this.createChangeSetRequest(params));
      case 'DescribeChangeSet': {
        const cs = this.changeSet(params.required('ChangeSetName'), params.str('StackName'));
        return this.result(action, this.changeSetShape(cs, params));
      }
      case 'ListChangeSets': {
        const stack = this.stack(params.required('StackName'));
        return this.result(action, {
          Summaries: [...stack.changeSets.values()].map((cs) => ({
            StackId: stack.id,
            StackName: stack.name,
            ChangeSetId: cs.id,
            ChangeSetName: cs.name,
            ExecutionStatus: cs.executionStatus,
            Status: cs.status,
            StatusReason: cs.statusReason,
            CreationTime: cs.created,
            Description: cs.description,
          })),
        });
      }
      case 'ExecuteChangeSet': {
        const cs = this.changeSet(params.required('ChangeSetName'), params.str('StackName'));
        this.executeChangeSet(cs, undefined);
        return this.result(action, {});
      }
      case 'DeleteChangeSet': {
        // Deleting a change set that is not there, by name, of a stack that exists succeeds: the CDK CLI
        // relies on it before deploying an existing stack (aws-cdk's cleanupOldChangeset: "Removing
        // existing change set with name ... if it exists", a DeleteChangeSet whose error fails the
        // deploy). UNCONFIRMED in the API reference, which does not say.
        const name = params.required('ChangeSetName');
        const stackName = params.str('StackName');
        if (!name.startsWith('arn:') && stackName && this.find(stackName) && ![...this.find(stackName)!.changeSets.values()].some((c) => c.name === name)) {
          return this.result(action, {});
        }
        const cs = this.changeSet(name, stackName);
        if (cs.executionStatus === 'EXECUTE_IN_PROGRESS') {
          throw new ServiceError('InvalidChangeSetStatus', `ChangeSet [${cs.id}] cannot be deleted in its current status of [EXECUTE_IN_PROGRESS]`);
        }
        this.stack(cs.stackId).changeSets.delete(cs.id);
        return this.result(action, {});
      }
      case 'DescribeStackEvents': {
        const stack = this.stack(params.required('StackName'));
        const events = [...stack.events].reverse();
        const start = params.str('NextToken') ? Number(Buffer.from(params.str('NextToken')!, 'base64').toString()) : 0;
        if (!Number.isInteger(start) || start < 0) throw validationError('Invalid NextToken');
        const page = events.slice(start, start + 100);
        const next = start + 100 < events.length ? Buffer.from(String(start + 100)).toString('base64') : undefined;
        return this.result(action, { StackEvents: page, NextToken: next });
      }
      case 'DeleteStack': {
        const name = params.required('StackName');
        const stack = this.find(name);
        // Deleting a stack that does not exist (or is gone) succeeds.
        if (stack && stack.status !== 'DELETE_COMPLETE' && stack.status !== 'DELETE_IN_PROGRESS') {
          if (stack.terminationProtection) {
            throw validationError(`Stack [${stack.name}] cannot be deleted while TerminationProtection is enabled`);
          }
          if (stack.status.endsWith('_IN_PROGRESS') && stack.status !== 'REVIEW_IN_PROGRESS') {
            throw validationError(`Stack [${stack.name}] is in ${stack.status} state and can not be deleted`);
          }
          // RetainResources: only for a stack whose deletion failed (API reference, DeleteStack).
          const retain = params.list('RetainResources', 'member');
          if (retain.length > 0 && stack.status !== 'DELETE_FAILED') {
            throw validationError(`Invalid operation on stack [${stack.id}]. RetainResources can only be specified when stack is in the DELETE_FAILED state.`);
          }
          const unknown = retain.filter((id) => !stack.resources.has(id));
          if (unknown.length > 0) throw validationError(`The specified resources to retain must be in a valid state. ${unknown.join(', ')} not found.`);
          this.startDelete(stack, new Set(retain));
        }
        return this.result(action, {});
      }
      case 'UpdateTerminationProtection': {
        const stack = this.stack(params.required('StackName'));
        stack.terminationProtection = params.bool('EnableTerminationProtection') ?? false;
        return this.result(action, { StackId: stack.id });
      }
      case 'ListExports':
        return this.result(action, { Exports: this.exports() });
      default:
        throw new ServiceError('InvalidAction', `The action ${action || '(none)'} is not valid for this web service (or not emulated by the local provider).`);
    }
  }

  // ---- change sets ---------------------------------------------------------------------------

  private createChangeSetRequest(p: QueryParams): Record<string, unknown> {
    const stackName = p.required('StackName');
    const changeSetName = p.required('ChangeSetName');
    const type = p.str('ChangeSetType') ?? 'UPDATE';
    if (type !== 'CREATE' && type !== 'UPDATE') {
      // IMPORT (resources to import) is not emulated.
      throw validationError(`1 validation error detected: Value '${type}' at 'changeSetType' failed to satisfy constraint: Member must satisfy enum value set: [CREATE, UPDATE]`
        + (type === 'IMPORT' ? ' (IMPORT is not emulated by the local provider)' : ''));
    }
    let body = p.str('TemplateBody');
    const url = p.str('TemplateURL');
    if (body !== undefined && Buffer.byteLength(body) > MAX_TEMPLATE_BODY) {
      throw validationError(`1 validation error detected: Value '${body.slice(0, 20)}...' at 'templateBody' failed to satisfy constraint: `
        + `Member must have length less than or equal to ${MAX_TEMPLATE_BODY}`);
    }
    if (body !== undefined && url !== undefined) throw validationError('Specify exactly one of TemplateBody, TemplateURL or UsePreviousTemplate.');
    if (body === undefined && url !== undefined) body = this.templateFromUrl(url);
    if (body === undefined && p.bool('UsePreviousTemplate')) {
      const stack = this.stack(stackName);
      body = stack.templateBody ?? JSON.stringify(stack.template);
    }
    if (body === undefined) throw validationError('Either Template URL or Template Body must be specified.');
    const cs = this.createChangeSet({
      stackName,
      changeSetName,
      type,
      body,
      parameters: p.structs('Parameters', 'member'),
      capabilities: p.list('Capabilities', 'member'),
      tags: p.structs('Tags', 'member').map((t) => ({ Key: t.Key, Value: t.Value ?? '' })),
      description: p.str('Description'),
      roleArn: p.str('RoleARN'),
    });
    return { Id: cs.id, StackId: cs.stackId };
  }

  /** The template object a TemplateURL names, read from the provider's own S3 (path-style or virtual-hosted URL; never fetched over the network). */
  private templateFromUrl(url: string): string {
    let bucket: string | undefined;
    let key: string | undefined;
    try {
      const u = new URL(url);
      const host = u.hostname;
      const path = decodeURIComponent(u.pathname.replace(/^\//, ''));
      const virtual = /^(.+)\.s3[.-](?:[a-z0-9-]+\.)?amazonaws\.com$/.exec(host);
      if (virtual) {
        bucket = virtual[1];
        key = path;
      } else {
        const slash = path.indexOf('/');
        bucket = slash < 0 ? path : path.slice(0, slash);
        key = slash < 0 ? '' : path.slice(slash + 1);
      }
    } catch {
      throw validationError('TemplateURL must be a supported URL.');
    }
    const object = bucket && key ? this.provider?.s3.tryBucket(bucket)?.objects.get(key) : undefined;
    if (!object) {
      // CloudFormation's answer when it cannot read the object.
      throw validationError('S3 error: Access Denied For more information check http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html');
    }
    if (object.size > MAX_TEMPLATE_URL_OBJECT) throw validationError(`Template may not exceed ${MAX_TEMPLATE_URL_OBJECT} bytes in size.`);
    return fs.readFileSync(object.file, 'utf-8');
  }

  /** Creates a change set, computed at once: CREATE_COMPLETE with its changes, or FAILED without any. */
  public createChangeSet(req: {
    stackName: string;
    changeSetName: string;
    type: 'CREATE' | 'UPDATE';
    body: string;
    parameters: Array<Record<string, string>>;
    capabilities: string[];
    tags: Array<{ Key: string; Value: string }>;
    description?: string;
    roleArn?: string;
    lenientSsm?: boolean;
  }): ChangeSet {
    if (!/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/.test(req.changeSetName)) {
      throw validationError(`1 validation error detected: Value '${req.changeSetName}' at 'changeSetName' failed to satisfy constraint: `
        + 'Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*');
    }
    if (!/^[a-zA-Z][-a-zA-Z0-9]{0,127}$/.test(req.stackName) && !req.stackName.startsWith('arn:')) {
      throw validationError(`1 validation error detected: Value '${req.stackName}' at 'stackName' failed to satisfy constraint: `
        + 'Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*');
    }
    const template = parseTemplate(req.body);
    this.checkCapabilities(template, req.capabilities);
    const existing = this.find(req.stackName);
    if (req.type === 'CREATE') {
      if (existing && existing.status !== 'REVIEW_IN_PROGRESS') {
        throw new ServiceError('AlreadyExistsException', `Stack [${existing.name}] already exists and cannot be created again with the changeSet [${req.changeSetName}].`);
      }
    } else {
      if (!existing) throw validationError(`Stack [${req.stackName}] does not exist`);
      if (existing.status === 'REVIEW_IN_PROGRESS' || !UPDATABLE.includes(existing.status)) {
        throw validationError(`Stack:${existing.id} is in ${existing.status} state and can not be updated.`);
      }
    }
    if (existing && [...existing.changeSets.values()].some((c) => c.name === req.changeSetName)) {
      throw new ServiceError('AlreadyExistsException', `ChangeSet [${req.changeSetName}] already exists`);
    }
    // Validated before a new stack is made: a refused change set leaves nothing behind.
    const parameters = this.parameters(template, req.parameters, req.type === 'UPDATE' ? existing!.parameters : [], req.lenientSsm ?? false);
    // References that resolve to nothing, and cycles, are template errors (refused here, as CloudFormation validates them).
    dependencies(template, Object.keys(template.Resources));
    // The Rules (e.g. CDK's CheckBootstrapVersion) hold for these parameter values.
    const probe = existing ?? new LocalStack(req.stackName, `arn:aws:cloudformation:${this.region}:${this.account}:stack/${req.stackName}/new`, { Resources: {} });
    checkRules(template, new StackRun({
      provider: this.provider!, region: this.region, account: this.account, exportValue: (n) => this.exportValue(n),
    }, probe).resolver(template, parameters));
    let stack = existing;
    if (!stack) {
      stack = this.createStack(req.stackName, { Resources: {} });
      stack.setStatus('REVIEW_IN_PROGRESS');
      stack.addEvent({ logicalId: stack.name, physicalId: stack.id, type: 'AWS::CloudFormation::Stack', status: 'REVIEW_IN_PROGRESS', reason: 'User Initiated' });
    }
    const cs: ChangeSet = {
      id: `arn:aws:cloudformation:${this.region}:${this.account}:changeSet/${req.changeSetName}/${randomUUID()}`,
      name: req.changeSetName,
      stackId: stack.id,
      type: req.type,
      created: new Date(),
      template,
      body: req.body,
      parameters,
      capabilities: req.capabilities,
      tags: req.tags,
      description: req.description,
      changes: [],
      status: 'CREATE_PENDING',
      executionStatus: 'UNAVAILABLE',
    };
    stack.changeSets.set(cs.id, cs);
    if (req.roleArn) stack.roleArn = req.roleArn;
    try {
      const changes = this.plan(stack, cs);
      (cs.changes as ResourceChange[]).push(...changes);
      const same = req.type === 'UPDATE' && changes.length === 0 && sameValue(stack.template, template)
        && sameValue(stack.parameters, parameters) && sameValue(stack.tags, req.tags);
      if (same) {
        cs.status = 'FAILED';
        cs.statusReason = 'The submitted information didn\'t contain changes. Submit different information to create a change set.';
      } else {
        cs.status = 'CREATE_COMPLETE';
        cs.executionStatus = 'AVAILABLE';
      }
    } catch (e) {
      cs.status = 'FAILED';
      cs.statusReason = (e as Error).message;
    }
    return cs;
  }

  /** The change set an ARN (or a name within a stack) names. */
  private changeSet(nameOrArn: string, stackName?: string): ChangeSet {
    if (nameOrArn.startsWith('arn:')) {
      for (const s of this.stacks.values()) {
        const cs = s.changeSets.get(nameOrArn);
        if (cs) return cs;
      }
    } else {
      if (!stackName) throw validationError('StackName must be specified if ChangeSetName is not specified as an ARN.');
      const stack = this.find(stackName);
      const cs = stack ? [...stack.changeSets.values()].find((c) => c.name === nameOrArn) : undefined;
      if (cs) return cs;
    }
    throw new ServiceError('ChangeSetNotFound', `ChangeSet [${nameOrArn}] does not exist`, 404);
  }

  /** Runs a change set (the stack operation goes on after this returns). */
  public executeChangeSet(cs: ChangeSet, customResources: CustomResourceHandlers | undefined, recordFunctions = false): void {
    const stack = this.stack(cs.stackId);
    if (cs.status !== 'CREATE_COMPLETE' || cs.executionStatus !== 'AVAILABLE') {
      throw new ServiceError('InvalidChangeSetStatus', `ChangeSet [${cs.id}] cannot be executed in its current status of [${cs.status}]`);
    }
    if (cs.type === 'CREATE' ? stack.status !== 'REVIEW_IN_PROGRESS' : !UPDATABLE.includes(stack.status)) {
      throw new ServiceError('InvalidChangeSetStatus', `ChangeSet [${cs.id}] cannot be executed in its current status of [${cs.status}]`
        + ` (stack ${stack.name} is ${stack.status})`);
    }
    if (!this.provider) throw new ServiceError('InvalidAction', 'This CloudFormation model has no provider to deploy into.');
    cs.executionStatus = 'EXECUTE_IN_PROGRESS';
    stack.changeSetId = cs.id;
    stack.capabilities = cs.capabilities;
    stack.tags = cs.tags;
    stack.description = cs.template.Description;
    const run = new StackRun({
      provider: this.provider,
      region: this.region,
      account: this.account,
      customResources,
      recordFunctions,
      exportValue: (name) => this.exportValue(name),
    }, stack);
    if (cs.type === 'CREATE') stack.setStatus('CREATE_IN_PROGRESS');
    else stack.setStatus('UPDATE_IN_PROGRESS');
    const operation = cs.type === 'CREATE' ? run.create(cs.template, cs.body, cs.parameters) : run.update(cs.template, cs.body, cs.parameters);
    stack.operation = operation.then(() => {
      const ok = stack.status === 'CREATE_COMPLETE' || stack.status === 'UPDATE_COMPLETE';
      cs.executionStatus = ok ? 'EXECUTE_COMPLETE' : 'EXECUTE_FAILED';
      // "After you execute a change set, CloudFormation removes all change sets that are associated with the stack" (User Guide, "Execute a change set").
      for (const other of [...stack.changeSets.keys()]) if (other !== cs.id) stack.changeSets.delete(other);
    });
  }

  private startDelete(stack: LocalStack, retain: ReadonlySet<string> = new Set()): void {
    if (!this.provider) throw new ServiceError('InvalidAction', 'This CloudFormation model has no provider to delete from.');
    const exports = stack.outputs.filter((o) => o.ExportName).map((o) => o.ExportName!);
    const importer = [...this.stacks.values()].find((s) => s !== stack && s.status !== 'DELETE_COMPLETE' && exports.some((e) => s.imports.has(e)));
    if (importer) {
      const name = exports.find((e) => importer.imports.has(e));
      stack.setStatus('DELETE_IN_PROGRESS', 'User Initiated');
      stack.addEvent({ logicalId: stack.name, physicalId: stack.id, type: 'AWS::CloudFormation::Stack', status: 'DELETE_IN_PROGRESS', reason: 'User Initiated' });
      const why = `Export ${name} cannot be deleted as it is in use by ${importer.name}`;
      stack.setStatus('DELETE_FAILED', why);
      stack.addEvent({ logicalId: stack.name, physicalId: stack.id, type: 'AWS::CloudFormation::Stack', status: 'DELETE_FAILED', reason: why });
      return;
    }
    stack.changeSets.clear();
    const run = new StackRun({ provider: this.provider, region: this.region, account: this.account, exportValue: (n) => this.exportValue(n) }, stack);
    stack.setStatus('DELETE_IN_PROGRESS');
    stack.operation = run.delete(retain);
  }

  /** Checks the capabilities a template needs (IAM resources), as CreateChangeSet does. */
  private checkCapabilities(template: Record<string, any>, capabilities: string[]): void {
    const iam = Object.values<any>(template.Resources).filter((r) => String(r.Type).startsWith('AWS::IAM::'));
    const named = iam.some((r) => ['RoleName', 'UserName', 'GroupName', 'ManagedPolicyName', 'InstanceProfileName'].some((k) => r.Properties?.[k] !== undefined));
    if (named && !capabilities.includes('CAPABILITY_NAMED_IAM')) {
      throw new ServiceError('InsufficientCapabilitiesException', 'Requires capabilities : [CAPABILITY_NAMED_IAM]');
    }
    if (iam.length > 0 && !capabilities.includes('CAPABILITY_IAM') && !capabilities.includes('CAPABILITY_NAMED_IAM')) {
      throw new ServiceError('InsufficientCapabilitiesException', 'Requires capabilities : [CAPABILITY_IAM]');
    }
  }

  /**
   * The parameter values of a change set: given, previous (UsePreviousValue) or default; checked
   * against the declaration (AllowedValues, AllowedPattern, Number); SSM-typed ones resolved from
   * the region's Parameter Store (CloudFormation User Guide, "Specify existing resources at runtime
   * with CloudFormation-supplied parameter types": the value is the parameter's name, ResolvedValue its value).
   */
  private parameters(template: Record<string, any>, given: Array<Record<string, string>>, previous: ParameterValue[],
    lenientSsm: boolean): ParameterValue[] {
    const declared = template.Parameters ?? {};
    const unknown = given.map((g) => g.ParameterKey).filter((k) => !(k in declared));
    if (unknown.length > 0) throw validationError(`Parameters: [${unknown.join(', ')}] do not exist in the template`);
    const out: ParameterValue[] = [];
    const missing: string[] = [];
    const unfetched: string[] = [];
    for (const [key, def] of Object.entries<any>(declared)) {
      const g = given.find((x) => x.ParameterKey === key);
      let value: string | undefined;
      if (g?.UsePreviousValue === 'true') {
        value = previous.find((p) => p.key === key)?.value;
        if (value === undefined) throw validationError(`Invalid input for parameter key ${key}. Cannot specify usePreviousValue as true for a parameter key not in the previous template`);
      } else if (g) {
        value = g.ParameterValue ?? '';
      } else if (def?.Default !== undefined) {
        value = Array.isArray(def.Default) ? def.Default.join(',') : String(def.Default);
      }
      if (value === undefined) {
        missing.push(key);
        continue;
      }
      const type = String(def?.Type ?? 'String');
      if (def?.AllowedValues && !/List/.test(type) && !def.AllowedValues.map(String).includes(value)) {
        throw validationError(`Parameter '${key}' must be one of AllowedValues`);
      }
      if (def?.AllowedPattern && !/List/.test(type) && !new RegExp(`^(?:${def.AllowedPattern})$`).test(value)) {
        throw validationError(`Parameter '${key}' must match pattern ${def.AllowedPattern}`);
      }
      if (type === 'Number' && (value === '' || Number.isNaN(Number(value)))) throw validationError(`Parameter '${key}' must be a number.`);
      if (type.startsWith('AWS::SSM::Parameter::Value<')) {
        const resolved = this.ssmValue(value);
        if (resolved === undefined) {
          if (!lenientSsm) unfetched.push(value);
          continue;
        }
        out.push({ key, value, resolved });
      } else {
        out.push({ key, value });
      }
    }
    if (missing.length > 0) throw validationError(`Parameters: [${missing.join(', ')}] must have values`);
    if (unfetched.length > 0) throw validationError(`Unable to fetch parameters [${unfetched.join(',')}] from parameter store for this account.`);
    return out;
  }

  private ssmValue(name: string): string | undefined {
    if (!this.provider) return undefined;
    const answer = this.provider.ssm.handle(this.region, 'AmazonSSM.GetParameter', JSON.stringify({ Name: name, WithDecryption: true }));
    return answer.status === 200 ? JSON.parse(answer.body).Parameter?.Value : undefined;
  }

  /** The resource changes a change set makes to its stack. */
  private plan(stack: LocalStack, cs: ChangeSet): ResourceChange[] {
    const template = cs.template;
    const run = new StackRun({
      provider: this.provider!, region: this.region, account: this.account, exportValue: (n) => this.exportValue(n),
    }, stack);
    const resolver: Resolver = run.resolver(template, cs.parameters);
    const included = Object.keys(template.Resources).filter((id) => resolver.included(template.Resources[id]));
    const changes: ResourceChange[] = [];
    if (cs.type === 'CREATE') {
      return included.map((id) => ({ Action: 'Add', LogicalResourceId: id, ResourceType: template.Resources[id].Type, Scope: [], Details: [] }));
    }
    const replaced = new Set<string>();
    const modified = new Set<string>();
    for (const id of included) {
      const entry = template.Resources[id];
      const current = stack.resources.get(id);
      if (!current) {
        changes.push({ Action: 'Add', LogicalResourceId: id, ResourceType: entry.Type, Scope: [], Details: [] });
        continue;
      }
      const handler = handlerFor(entry.Type);
      let props: Record<string, any>;
      let old = current.properties ?? {};
      try {
        props = resolver.resolve(entry.Properties ?? {});
      } catch {
        // Refers to something created by this change set (NotReady): compare the template's own text.
        props = entry.Properties ?? {};
        old = stack.template.Resources?.[id]?.Properties ?? {};
      }
      const names = Object.keys({ ...old, ...props }).filter((k) => !sameValue(old[k], props[k]));
      if (names.length === 0 && current.type === entry.Type) continue;
      const replacement = current.type !== entry.Type || names.some((k) => handler.replaceOn?.includes(k));
      if (replacement) replaced.add(id);
      modified.add(id);
      const policy = entry.UpdateReplacePolicy ?? 'Delete';
      changes.push({
        Action: 'Modify',
        LogicalResourceId: id,
        PhysicalResourceId: current.physicalId,
        ResourceType: entry.Type,
        Replacement: replacement ? 'True' : 'False',
        ...(replacement ? { PolicyAction: `ReplaceAnd${policy === 'Retain' ? 'Retain' : policy === 'Snapshot' ? 'Snapshot' : 'Delete'}` } : {}),
        Scope: ['Properties'],
        Details: names.map((name) => ({
          Target: { Attribute: 'Properties', Name: name, RequiresRecreation: handler.replaceOn?.includes(name) ? 'Always' : 'Never' },
          Evaluation: 'Static',
          ChangeSource: 'DirectModification',
        })),
      });
    }
    // Resources that refer to a replaced one change too, once its new id is known.
    const deps = dependencies(template, included);
    for (const id of included) {
      if (modified.has(id) || !stack.resources.has(id)) continue;
      const via = [...deps.get(id)!].filter((d) => replaced.has(d));
      if (via.length === 0) continue;
      changes.push({
        Action: 'Modify',
        LogicalResourceId: id,
        PhysicalResourceId: stack.resources.get(id)!.physicalId,
        ResourceType: template.Resources[id].Type,
        Replacement: 'Conditional',
        Scope: ['Properties'],
        Details: via.map((d) => ({ Target: { Attribute: 'Properties', RequiresRecreation: 'Conditional' }, Evaluation: 'Dynamic', ChangeSource: 'ResourceReference', CausingEntity: d })),
      });
    }
    for (const [id, r] of stack.resources) {
      if (included.includes(id)) continue;
      const policy = stack.template.Resources?.[id]?.DeletionPolicy ?? 'Delete';
      changes.push({
        Action: 'Remove',
        LogicalResourceId: id,
        PhysicalResourceId: r.physicalId,
        ResourceType: r.type,
        PolicyAction: policy === 'Retain' ? 'Retain' : policy === 'Snapshot' && handlerFor(r.type).snapshots ? 'Snapshot' : 'Delete',
        Scope: [],
        Details: [],
      });
    }
    return changes;
  }

  // ---- shapes --------------------------------------------------------------------------------

  private parameterShapes(template: Record<string, any>, params: ParameterValue[]): Array<Record<string, unknown>> {
    return params.map((p) => ({
      ParameterKey: p.key,
      ParameterValue: template.Parameters?.[p.key]?.NoEcho === true || template.Parameters?.[p.key]?.NoEcho === 'true' ? '****' : p.value,
      ResolvedValue: p.resolved,
    }));
  }

  private stackShape(s: LocalStack): Record<string, unknown> {
    return {
      StackId: s.id,
      StackName: s.name,
      ChangeSetId: s.changeSetId,
      Description: s.description,
      Parameters: this.parameterShapes(s.template, s.parameters),
      CreationTime: s.created,
      DeletionTime: s.deleted,
      LastUpdatedTime: s.lastUpdated,
      StackStatus: s.status,
      StackStatusReason: s.statusReason,
      DisableRollback: false,
      NotificationARNs: [],
      Capabilities: s.capabilities,
      Outputs: s.outputs,
      RoleARN: s.roleArn,
      Tags: s.tags,
      EnableTerminationProtection: s.terminationProtection,
      DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
    };
  }

  private changeSetShape(cs: ChangeSet, p: QueryParams): Record<string, unknown> {
    const stack = this.stack(cs.stackId);
    const changes = cs.changes.map((c) => ({ Type: 'Resource', ResourceChange: c }));
    const start = p.str('NextToken') ? Number(Buffer.from(p.str('NextToken')!, 'base64').toString()) : 0;
    if (!Number.isInteger(start) || start < 0) throw validationError('Invalid NextToken');
    const page = changes.slice(start, start + 100);
    const next = start + 100 < changes.length ? Buffer.from(String(start + 100)).toString('base64') : undefined;
    return {
      ChangeSetName: cs.name,
      ChangeSetId: cs.id,
      StackId: stack.id,
      StackName: stack.name,
      Description: cs.description,
      Parameters: this.parameterShapes(cs.template, cs.parameters),
      CreationTime: cs.created,
      ExecutionStatus: cs.executionStatus,
      Status: cs.status,
      StatusReason: cs.statusReason,
      NotificationARNs: [],
      Capabilities: cs.capabilities,
      Tags: cs.tags,
      Changes: page,
      NextToken: next,
      IncludeNestedStacks: false,
    };
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
