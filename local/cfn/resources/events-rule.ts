/**
 * AWS::Events::Rule on the default event bus, in the provider's EventBridge (local/eventbridge.ts):
 * schedule rules fire their targets on the simulated clock, pattern rules receive Step Functions
 * status changes. Ref is the rule's name, attribute Arn (resource reference, "Return values"). Name
 * and EventBusName require replacement; the rest updates in place (PutRule, PutTargets).
 */
import { ResourceContext, ResourceFailure, ResourceHandler } from './types';
import { EventBridgeError, RuleTarget } from '../../eventbridge';

const NO_EFFECT: Record<string, string> = {
  // A target's role is what EventBridge assumes to call it; the local provider checks no IAM.
  RoleArn: 'the local provider checks no IAM',
};

/** Target properties delivered as EventBridge would; any other (retry policy, DLQ, ...) fails the resource. */
const TARGET_KEYS = ['Id', 'Arn', 'Input', 'InputPath', 'InputTransformer', 'RoleArn'];

function put(ctx: ResourceContext, name: string, props: Record<string, any>): void {
  if (props.EventBusName !== undefined && props.EventBusName !== 'default') {
    throw new ResourceFailure(`The local provider emulates the default event bus only, not ${JSON.stringify(props.EventBusName)}.`);
  }
  const targets: RuleTarget[] = props.Targets ?? [];
  for (const t of targets) {
    const unknown = Object.keys(t).filter((k) => !TARGET_KEYS.includes(k));
    if (unknown.length) throw new ResourceFailure(`The local provider does not apply ${unknown.join(', ')} of the targets of AWS::Events::Rule.`);
  }
  try {
    ctx.provider.eventBridge.putRule(ctx.region, {
      name, scheduleExpression: props.ScheduleExpression, eventPattern: props.EventPattern, state: props.State, description: props.Description,
    });
    // The template's Targets are the rule's whole set: targets no longer listed go (RemoveTargets).
    ctx.provider.eventBridge.putTargets(ctx.region, name, targets, { replaceAll: true });
  } catch (e) {
    if (e instanceof EventBridgeError) throw new ResourceFailure(`${e.message} (Service: EventBridge, Status Code: 400, Error Code: ${e.code})`);
    throw e;
  }
}

export const eventsRule: ResourceHandler = {
  properties: ['Name', 'Description', 'ScheduleExpression', 'EventPattern', 'State', 'Targets', 'EventBusName'],
  replaceOn: ['Name', 'EventBusName'],
  nameProperty: 'Name',

  async create(ctx, props) {
    // A generated name: CloudFormation's stack-logicalid-RANDOM, within the 64 characters a rule name may have.
    const name: string = props.Name ?? ctx.generatedName(64);
    put(ctx, name, props);
    return { physicalId: name, attributes: { Arn: ctx.provider.eventBridge.rule(ctx.region, name).arn }, notes: notes(props) };
  },

  async update(ctx, current, _old, props) {
    put(ctx, current.physicalId, props);
    return { ...current, notes: notes(props) };
  },

  async delete(ctx, current) {
    ctx.provider.eventBridge.deleteRule(ctx.region, current.physicalId);
  },
};

function notes(props: Record<string, any>): string | undefined {
  return (props.Targets ?? []).some((t: any) => t.RoleArn !== undefined) ? `Targets' RoleArn accepted without effect: ${NO_EFFECT.RoleArn}` : undefined;
}
