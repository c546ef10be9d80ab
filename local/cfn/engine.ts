/**
 * The local CloudFormation engine: runs a stack operation (create, update, delete) as
 * CloudFormation does, resource by resource through the per-type handlers (resources/), in
 * dependency order (Ref, Fn::GetAtt, Fn::Sub, DependsOn; independent resources in parallel),
 * deleting in reverse order, writing a stack event for every transition, and rolling back a failed
 * create (ROLLBACK_IN_PROGRESS -> ROLLBACK_COMPLETE) or update (UPDATE_ROLLBACK_IN_PROGRESS ->
 * UPDATE_ROLLBACK_COMPLETE).
 *
 * Statuses, reasons and their order follow the CloudFormation User Guide ("Stack status codes",
 * "Resource status codes", "Update behaviors of stack resources"): an update that needs a
 * replacement creates the new resource first and deletes the old one in the cleanup phase
 * (UPDATE_COMPLETE_CLEANUP_IN_PROGRESS), with the UpdateReplacePolicy; removed resources are deleted
 * in cleanup with their DeletionPolicy (Retain: DELETE_SKIPPED; Snapshot: a final snapshot).
 */
import type { LocalStack, StackResource } from '../cloudformation';
import type { LocalProvider } from '../provider';
import { handlerFor } from './resources';
import { checkProperties, Clients, CustomResourceHandlers, DeployedResource, reason, ResourceContext, ResourceFailure } from './resources/types';
import { dependencies, NotReady, Resolver, ResolverSource, sameValue } from './template';

/** A parameter value as the stack keeps it: the value given (or the default) and, for SSM-typed ones, what it resolved to. */
export interface ParameterValue {
  readonly key: string;
  readonly value: string;
  readonly resolved?: string;
}

export interface OperationContext {
  readonly provider: LocalProvider;
  readonly region: string;
  readonly account: string;
  readonly customResources?: CustomResourceHandlers;
  /** Record AWS::Lambda::Function resources instead of creating them (see lambda-function.ts). */
  readonly recordFunctions?: boolean;
  /** Exports of the region, by name (Fn::ImportValue). */
  exportValue(name: string): string | undefined;
}

/** The effective value of parameters for the resolver (CommaDelimitedList and List<> types are lists). */
export function parameterMap(template: Record<string, any>, params: readonly ParameterValue[]): Map<string, string | string[]> {
  const map = new Map<string, string | string[]>();
  for (const p of params) {
    const type: string = template.Parameters?.[p.key]?.Type ?? 'String';
    const v = p.resolved ?? p.value;
    map.set(p.key, type === 'CommaDelimitedList' || /^List</.test(type) || /Value<List</.test(type) || /Value<CommaDelimitedList>/.test(type)
      ? v.split(',') : v);
  }
  return map;
}

type Phase = 'create' | 'update' | 'delete';

/** One run of a stack operation. */
export class StackRun {
  private readonly clients: Clients;

  constructor(private readonly ctx: OperationContext, private readonly stack: LocalStack) {
    this.clients = new Clients(ctx.provider.endpoint, ctx.region);
  }

  /** Creates the stack's resources from `template` (the stack is in CREATE_IN_PROGRESS); rolls back on failure. */
  public async create(template: Record<string, any>, body: string, params: ParameterValue[]): Promise<void> {
    const stack = this.stack;
    try {
      stack.template = template;
      stack.templateBody = body;
      stack.parameters = params;
      this.stackEvent('CREATE_IN_PROGRESS', 'User Initiated');
      const resolver = this.resolver(template, params);
      const failed = await this.apply(resolver, 'create');
      if (failed.length === 0) {
        stack.outputs = this.outputs(resolver);
        this.stackEvent('CREATE_COMPLETE');
        return;
      }
      this.stackEvent('ROLLBACK_IN_PROGRESS', `The following resource(s) failed to create: [${failed.join(', ')}]. Rollback requested by user.`);
      const ok = await this.deleteResources(template, [...stack.resources.keys()], 'rollback');
      this.stackEvent(ok ? 'ROLLBACK_COMPLETE' : 'ROLLBACK_FAILED', ok ? undefined : 'The following resource(s) failed to delete during rollback.');
    } catch (e) {
      this.internalError(e, 'ROLLBACK_FAILED');
    } finally {
      this.clients.destroy();
    }
  }

  /** Updates the stack to `template`: changed resources updated or replaced, cleanup after; rolls back on failure. */
  public async update(template: Record<string, any>, body: string, params: ParameterValue[]): Promise<void> {
    const stack = this.stack;
    const before = {
      template: stack.template,
      body: stack.templateBody,
      params: stack.parameters,
      outputs: stack.outputs,
      resources: new Map(stack.resources),
    };
    try {
      stack.template = template;
      stack.templateBody = body;
      stack.parameters = params;
      this.stackEvent('UPDATE_IN_PROGRESS', 'User Initiated');
      const resolver = this.resolver(template, params);
      const failed = await this.apply(resolver, 'update', before.resources);
      if (failed.length === 0) {
        stack.outputs = this.outputs(resolver);
        this.stackEvent('UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
        await this.cleanup(before.template, before.resources, template);
        this.stackEvent('UPDATE_COMPLETE');
        return;
      }
      this.stackEvent('UPDATE_ROLLBACK_IN_PROGRESS', `The following resource(s) failed to update: [${failed.join(', ')}]. `);
      const ok = await this.revert(before.resources, before.template);
      stack.template = before.template;
      stack.templateBody = before.body;
      stack.parameters = before.params;
      stack.outputs = before.outputs;
      if (!ok) {
        this.stackEvent('UPDATE_ROLLBACK_FAILED', 'The following resource(s) failed to update during rollback.');
        return;
      }
      this.stackEvent('UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
      await this.removeNew(before.resources, template);
      this.stackEvent('UPDATE_ROLLBACK_COMPLETE');
    } catch (e) {
      this.internalError(e, 'UPDATE_ROLLBACK_FAILED');
    } finally {
      this.clients.destroy();
    }
  }

  /** Deletes the stack's resources in reverse dependency order, with their DeletionPolicy. */
  public async delete(retain: ReadonlySet<string> = new Set()): Promise<void> {
    const stack = this.stack;
    try {
      this.stackEvent('DELETE_IN_PROGRESS', 'User Initiated');
      const ok = await this.deleteResources(stack.template, [...stack.resources.keys()], 'delete', retain);
      if (ok) {
        stack.outputs = [];
        this.stackEvent('DELETE_COMPLETE');
      } else {
        const failed = [...stack.resources.values()].filter((r) => r.status === 'DELETE_FAILED').map((r) => r.logicalId);
        this.stackEvent('DELETE_FAILED', `The following resource(s) failed to delete: [${failed.join(', ')}]. `);
      }
    } catch (e) {
      this.internalError(e, 'DELETE_FAILED');
    } finally {
      this.clients.destroy();
    }
  }

  // ---- resources -----------------------------------------------------------------------------

  /**
   * Creates (and, for an update, updates or replaces) every resource of the template in dependency
   * order. Returns the logical ids that failed; after the first failure nothing new is started.
   */
  private async apply(resolver: Resolver, phase: Phase, previous?: Map<string, StackResource>): Promise<string[]> {
    const template = resolver.template;
    const ids = Object.keys(template.Resources).filter((id) => resolver.included(template.Resources[id]));
    const deps = dependencies(template, ids);
    const done = new Set<string>();
    const failed: string[] = [];
    const running = new Map<string, Promise<void>>();
    const pending = new Set(ids);
    for (;;) {
      if (failed.length === 0) {
        for (const id of [...pending]) {
          if (![...deps.get(id)!].every((d) => done.has(d))) continue;
          pending.delete(id);
          const task = this.applyOne(resolver, id, phase, previous?.get(id)).then((ok) => {
            if (ok) done.add(id);
            else failed.push(id);
            running.delete(id);
          });
          running.set(id, task);
        }
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
    return failed;
  }

  private async applyOne(resolver: Resolver, id: string, phase: Phase, previous: StackResource | undefined): Promise<boolean> {
    const entry = resolver.template.Resources[id];
    const type: string = entry.Type;
    const handler = handlerFor(type, this.ctx);
    const ctx = this.resourceContext(id, type, resolver.template);
    let props: Record<string, any> = {};
    const resolveProps = () => {
      try {
        props = resolver.resolve(entry.Properties ?? {});
      } catch (e) {
        if (e instanceof NotReady) throw new ResourceFailure(`Template error: ${e.what} is not available to ${id}`);
        throw e;
      }
      checkProperties(type, handler, props);
    };

    if (!previous || phase === 'create') {
      this.resourceEvent(id, type, '', 'CREATE_IN_PROGRESS');
      try {
        resolveProps();
        const made = await handler.create(ctx, props);
        this.keep(id, type, made, props, 'CREATE_COMPLETE');
        this.resourceEvent(id, type, made.physicalId, 'CREATE_COMPLETE', describe(made));
        return true;
      } catch (e) {
        const physicalId = e instanceof ResourceFailure && e.physicalId ? e.physicalId : '';
        if (physicalId) this.keep(id, type, { physicalId, attributes: {} }, props, 'CREATE_FAILED');
        this.resourceEvent(id, type, physicalId, 'CREATE_FAILED', reason(e));
        return false;
      }
    }

    // An existing resource: unchanged, updated in place, or replaced.
    try {
      resolveProps();
    } catch (e) {
      this.resourceEvent(id, type, previous.physicalId, 'UPDATE_FAILED', reason(e));
      return false;
    }
    if (previous.type === type && sameValue(previous.properties ?? {}, props)) return true;
    const old = previous.properties ?? {};
    const changed = Object.keys({ ...old, ...props }).filter((k) => !sameValue(old[k], props[k]));
    const replace = previous.type !== type || changed.some((k) => handler.replaceOn?.includes(k));
    const current: DeployedResource = {
      physicalId: previous.physicalId, attributes: previous.attributes, properties: old, recorded: previous.recorded,
    };
    if (replace) {
      const name = handler.nameProperty ? props[handler.nameProperty] : undefined;
      if (name !== undefined && String(name).toLowerCase() === previous.physicalId.toLowerCase()) {
        this.resourceEvent(id, type, previous.physicalId, 'UPDATE_FAILED',
          `CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename ${previous.physicalId} and update the stack again.`);
        return false;
      }
      this.resourceEvent(id, type, previous.physicalId, 'UPDATE_IN_PROGRESS', 'Requested update requires the creation of a new physical resource; hence creating one.');
      try {
        const made = await handler.create(ctx, props);
        this.keep(id, type, made, props, 'UPDATE_COMPLETE', previous);
        this.resourceEvent(id, type, made.physicalId, 'UPDATE_IN_PROGRESS', 'Resource creation Initiated');
        this.resourceEvent(id, type, made.physicalId, 'UPDATE_COMPLETE', describe(made));
        return true;
      } catch (e) {
        this.resourceEvent(id, type, previous.physicalId, 'UPDATE_FAILED', reason(e));
        return false;
      }
    }
    this.resourceEvent(id, type, previous.physicalId, 'UPDATE_IN_PROGRESS');
    try {
      const updated = await handler.update(ctx, current, old, props);
      // A new physical id from an in-place update (a custom resource's answer): the old one is deleted in cleanup.
      this.keep(id, type, updated, props, 'UPDATE_COMPLETE', updated.physicalId !== previous.physicalId ? previous : undefined);
      this.resourceEvent(id, type, updated.physicalId, 'UPDATE_COMPLETE', describe(updated));
      return true;
    } catch (e) {
      this.resourceEvent(id, type, previous.physicalId, 'UPDATE_FAILED', reason(e));
      return false;
    }
  }

  /** Records a resource's state; `replaced` is the resource it replaces (deleted in cleanup, or restored by a rollback). */
  private keep(id: string, type: string, made: DeployedResource, props: Record<string, any>, status: string, replaced?: StackResource): void {
    this.stack.resources.set(id, {
      logicalId: id,
      type,
      status,
      lastUpdated: this.stack.now(),
      physicalId: made.physicalId,
      attributes: made.attributes,
      properties: props,
      recorded: made.recorded,
      notes: made.notes,
      replaced,
    });
  }

  /** After a successful update: the replaced physical resources and the removed ones are deleted. */
  private async cleanup(oldTemplate: Record<string, any>, before: Map<string, StackResource>, template: Record<string, any>): Promise<void> {
    const stack = this.stack;
    const replaced: Array<{ id: string; old: StackResource }> = [];
    for (const r of stack.resources.values()) {
      if (r.replaced) replaced.push({ id: r.logicalId, old: r.replaced });
    }
    for (const { id, old } of replaced) {
      const policy = template.Resources[id]?.UpdateReplacePolicy ?? 'Delete';
      await this.deleteOne(old, policy, 'cleanup');
      const current = stack.resources.get(id);
      if (current) stack.resources.set(id, { ...current, replaced: undefined });
    }
    const removed = [...before.keys()].filter((id) => !template.Resources[id] || !this.includedIn(template, id));
    await this.deleteResources(oldTemplate, removed, 'cleanup');
  }

  private includedIn(template: Record<string, any>, id: string): boolean {
    try {
      return this.resolver(template, this.stack.parameters).included(template.Resources[id]);
    } catch {
      return false;
    }
  }

  /** Undoes an update that failed: in-place updates applied back; resources created new are deleted in the cleanup phase. */
  private async revert(before: Map<string, StackResource>, oldTemplate: Record<string, any>): Promise<boolean> {
    const stack = this.stack;
    let ok = true;
    for (const r of [...stack.resources.values()].reverse()) {
      const prev = before.get(r.logicalId);
      // Added and replacement resources are deleted in the rollback's cleanup (removeNew).
      if (!prev || r.replaced || r.physicalId !== prev.physicalId) continue;
      if (sameValue(r.properties ?? {}, prev.properties ?? {})) {
        stack.resources.set(r.logicalId, prev);
        continue;
      }
      // Updated in place: back to the properties it had.
      const handler = handlerFor(r.type, this.ctx);
      const ctx = this.resourceContext(r.logicalId, r.type, oldTemplate);
      this.resourceEvent(r.logicalId, r.type, r.physicalId, 'UPDATE_IN_PROGRESS');
      try {
        const back = await handler.update(ctx, r, r.properties ?? {}, prev.properties ?? {});
        stack.resources.set(r.logicalId, { ...prev, attributes: back.attributes, status: 'UPDATE_COMPLETE', lastUpdated: stack.now() });
        this.resourceEvent(r.logicalId, r.type, r.physicalId, 'UPDATE_COMPLETE');
      } catch (e) {
        ok = false;
        stack.resources.set(r.logicalId, { ...r, status: 'UPDATE_FAILED' });
        this.resourceEvent(r.logicalId, r.type, r.physicalId, 'UPDATE_FAILED', reason(e));
      }
    }
    return ok;
  }

  /** After an update's rollback: the resources it created (added ones, new replacements) are deleted; the previous ones are current again. */
  private async removeNew(before: Map<string, StackResource>, newTemplate: Record<string, any>): Promise<void> {
    const stack = this.stack;
    const added = [...stack.resources.keys()].filter((id) => !before.has(id));
    await this.deleteResources(newTemplate, added, 'cleanup');
    for (const r of [...stack.resources.values()]) {
      if (r.replaced) {
        await this.deleteOne({ ...r, replaced: undefined }, 'Delete', 'cleanup');
        stack.resources.set(r.logicalId, r.replaced);
      }
    }
    // Failed creations that left nothing are forgotten; the rest is as it was.
    for (const id of [...stack.resources.keys()]) {
      if (!before.has(id)) stack.resources.delete(id);
    }
  }

  /**
   * Deletes `ids` in reverse dependency order of `template` (independent ones in parallel), each
   * with its DeletionPolicy. Returns whether all went (or were skipped).
   */
  private async deleteResources(template: Record<string, any>, ids: string[], why: 'delete' | 'rollback' | 'cleanup',
    retain: ReadonlySet<string> = new Set()): Promise<boolean> {
    const present = ids.filter((id) => this.stack.resources.has(id));
    // Who depends on whom, among what is deleted: a resource goes after everything that refers to it.
    const known = present.filter((id) => template.Resources?.[id]);
    let deps: Map<string, Set<string>>;
    try {
      deps = dependencies(template, known);
    } catch {
      deps = new Map(known.map((id) => [id, new Set<string>()]));
    }
    for (const id of present) if (!deps.has(id)) deps.set(id, new Set());
    const dependents = new Map<string, Set<string>>(present.map((id) => [id, new Set<string>()]));
    for (const [id, set] of deps) for (const d of set) dependents.get(d)?.add(id);
    const gone = new Set<string>();
    let ok = true;
    const pending = new Set(present);
    const running = new Map<string, Promise<void>>();
    for (;;) {
      for (const id of [...pending]) {
        if (![...dependents.get(id)!].every((d) => gone.has(d))) continue;
        pending.delete(id);
        const r = this.stack.resources.get(id)!;
        // RetainResources of a DeleteStack retry keeps those resources whatever their policy.
        const policy = retain.has(id) ? 'Retain' : template.Resources?.[id]?.DeletionPolicy ?? 'Delete';
        running.set(id, this.deleteOne(r, policy, why).then((deleted) => {
          if (deleted) {
            gone.add(id);
            if (this.stack.resources.get(id)?.physicalId === r.physicalId) this.stack.resources.delete(id);
          } else {
            ok = false;
          }
          running.delete(id);
        }));
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
    // Dependents that failed keep what they depend on.
    return ok && pending.size === 0;
  }

  /** Deletes one physical resource with a DeletionPolicy / UpdateReplacePolicy. Returns false when it failed. */
  private async deleteOne(r: StackResource, policy: string, why: 'delete' | 'rollback' | 'cleanup'): Promise<boolean> {
    if (policy === 'Retain' || (policy === 'RetainExceptOnCreate' && why !== 'rollback')) {
      this.resourceEvent(r.logicalId, r.type, r.physicalId, 'DELETE_SKIPPED');
      return true;
    }
    const handler = handlerFor(r.type, this.ctx);
    this.resourceEvent(r.logicalId, r.type, r.physicalId, 'DELETE_IN_PROGRESS');
    try {
      if (r.physicalId) {
        await handler.delete(this.resourceContext(r.logicalId, r.type, this.stack.template), r, r.properties ?? {}, policy === 'Snapshot' && handler.snapshots === true);
      }
      this.resourceEvent(r.logicalId, r.type, r.physicalId, 'DELETE_COMPLETE');
      return true;
    } catch (e) {
      if (this.stack.resources.get(r.logicalId)?.physicalId === r.physicalId) {
        this.stack.resources.set(r.logicalId, { ...r, status: 'DELETE_FAILED' });
      }
      this.resourceEvent(r.logicalId, r.type, r.physicalId, 'DELETE_FAILED', reason(e));
      return false;
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  public resolver(template: Record<string, any>, params: readonly ParameterValue[]): Resolver {
    const stack = this.stack;
    const source: ResolverSource = {
      ref: (id) => {
        const r = stack.resources.get(id);
        if (!r || !r.physicalId) throw new NotReady(id);
        return r.physicalId;
      },
      getAtt: (id, attr) => {
        const r = stack.resources.get(id);
        if (!r) throw new NotReady(`${id}.${attr}`);
        const v = r.attributes[attr];
        if (v !== undefined) return v;
        if (r.recorded) return `${id}.${attr}`;
        throw new ResourceFailure(`Template error: resource ${id} does not support attribute type ${attr} in Fn::GetAtt`);
      },
      importValue: (name) => {
        const v = this.ctx.exportValue(name);
        if (v === undefined) throw new ResourceFailure(`No export named ${name} found.`);
        stack.imports.add(name);
        return v;
      },
    };
    const pseudo = { region: this.ctx.region, account: this.ctx.account, stackName: stack.name, stackId: stack.id };
    return new Resolver(template, parameterMap(template, params), pseudo, source);
  }

  private outputs(resolver: Resolver): LocalStack['outputs'] {
    const outputs: LocalStack['outputs'] = [];
    for (const [key, o] of Object.entries<any>(resolver.template.Outputs ?? {})) {
      if (!resolver.included(o)) continue;
      try {
        const value = resolver.resolve(o.Value);
        outputs.push({
          OutputKey: key,
          OutputValue: Array.isArray(value) ? value.join(',') : String(value),
          Description: o.Description,
          ExportName: o.Export ? String(resolver.resolve(o.Export.Name)) : undefined,
        });
      } catch (e) {
        // An output that cannot be resolved is left out (CloudFormation would have refused the template).
        process.stderr.write(`local provider: output ${key} of ${this.stack.name}: ${reason(e)}\n`);
      }
    }
    return outputs;
  }

  private resourceContext(id: string, type: string, template: Record<string, any>): ResourceContext {
    const stack = this.stack;
    return {
      provider: this.ctx.provider,
      region: this.ctx.region,
      account: this.ctx.account,
      stackName: stack.name,
      stackId: stack.id,
      logicalId: id,
      type,
      clients: this.clients,
      template,
      customResources: this.ctx.customResources,
      recordFunctions: this.ctx.recordFunctions,
      resource: (other) => stack.resources.get(other),
      generatedName: (max, lower) => generatedName(stack.name, id, max, lower),
    };
  }

  private stackEvent(status: string, why?: string): void {
    this.stack.setStatus(status as any, why);
    this.stack.addEvent({ logicalId: this.stack.name, physicalId: this.stack.id, type: 'AWS::CloudFormation::Stack', status, reason: why });
  }

  private resourceEvent(id: string, type: string, physicalId: string, status: string, why?: string): void {
    const r = this.stack.resources.get(id);
    if (r && r.physicalId === physicalId && !status.startsWith('DELETE_COMPLETE')) {
      this.stack.resources.set(id, { ...r, status, lastUpdated: this.stack.now() });
    }
    this.stack.addEvent({ logicalId: id, physicalId, type, status, reason: why });
  }

  /** A fault of the engine itself: the stack ends in `status`, with the fault as its reason (and on stderr). */
  private internalError(e: unknown, status: string): void {
    process.stderr.write(`local provider: CloudFormation engine fault in ${this.stack.name}: ${(e as Error)?.stack ?? e}\n`);
    this.stackEvent(status, `Internal failure of the local CloudFormation engine: ${reason(e)}`);
  }
}

function describe(made: DeployedResource): string | undefined {
  return [made.recorded, made.notes].filter(Boolean).join('; ') || undefined;
}

/**
 * A name for a resource without one, in CloudFormation's pattern (`<stack>-<logicalId>-<RANDOM>`,
 * each part shortened to fit), valid for the strictest of the services here (letters, digits and
 * single hyphens, starting with a letter).
 */
export function generatedName(stackName: string, logicalId: string, max: number, lowerCase = false): string {
  const suffix = Math.random().toString(36).slice(2, 14).toUpperCase().padEnd(12, 'X');
  const room = Math.max(2, max - suffix.length - 2);
  const clean = (s: string) => s.replace(/[^A-Za-z0-9-]/g, '').replace(/-+/g, '-');
  let stackPart = clean(stackName);
  let idPart = clean(logicalId);
  while (stackPart.length + idPart.length > room) {
    if (stackPart.length >= idPart.length) stackPart = stackPart.slice(0, -1);
    else idPart = idPart.slice(0, -1);
  }
  let name = [stackPart, idPart, suffix].filter(Boolean).join('-').replace(/-+/g, '-');
  if (!/^[A-Za-z]/.test(name)) name = `r${name}`.slice(0, max);
  return lowerCase ? name.toLowerCase() : name;
}
