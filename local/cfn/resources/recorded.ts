/**
 * Types the local provider does not emulate (yet): recorded only. CloudFormation would create them;
 * the local provider gives each a physical id (Ref) and an ARN in the service's shape, so that
 * references resolve, and says so in the resource's event ("recorded only: ..."). Any other
 * attribute reads as `<LogicalId>.<Attribute>`.
 *
 * A type that gets emulated gets a handler file of its own in this folder, registered in index.ts;
 * it then stops being recorded. Lambda functions are still recorded here when `deployStack` is
 * asked to (lambda-function.ts), and the other cases below stay for types not yet emulated.
 */
import { ResourceContext, ResourceHandler } from './types';

/** Ref and Arn of a recorded resource, in the shape its service uses (from the resource references' "Return values"). */
function identity(ctx: ResourceContext, props: Record<string, any>): { ref: string; arn: string } {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${ctx.region}:${ctx.account}:${resource}`;
  const id = ctx.logicalId;
  switch (ctx.type) {
    case 'AWS::Lambda::Function': {
      const name = props.FunctionName ?? id;
      return { ref: name, arn: arn('lambda', `function:${name}`) };
    }
    case 'AWS::SNS::Topic': {
      const a = arn('sns', props.TopicName ?? id);
      return { ref: a, arn: a };
    }
    case 'AWS::StepFunctions::StateMachine': {
      const a = arn('states', `stateMachine:${props.StateMachineName ?? id}`);
      return { ref: a, arn: a };
    }
    case 'AWS::IAM::Role': {
      const name = props.RoleName ?? id;
      return { ref: name, arn: `arn:aws:iam::${ctx.account}:role${props.Path ?? '/'}${name}` };
    }
    case 'AWS::IAM::ManagedPolicy': {
      const a = `arn:aws:iam::${ctx.account}:policy/${props.ManagedPolicyName ?? id}`;
      return { ref: a, arn: a };
    }
    case 'AWS::Logs::LogGroup': {
      const name = props.LogGroupName ?? id;
      return { ref: name, arn: arn('logs', `log-group:${name}:*`) };
    }
    case 'AWS::ECR::Repository': {
      const name = props.RepositoryName ?? id.toLowerCase();
      return { ref: name, arn: arn('ecr', `repository/${name}`) };
    }
    case 'AWS::SecretsManager::Secret': {
      const a = arn('secretsmanager', `secret:${props.Name ?? id}-AbCdEf`);
      return { ref: a, arn: a };
    }
    default: {
      const service = ctx.type.split('::')[1]?.toLowerCase() ?? 'unknown';
      return { ref: id, arn: arn(service, id) };
    }
  }
}

export const recorded: ResourceHandler = {
  properties: 'any',

  async create(ctx, props) {
    const { ref, arn } = identity(ctx, props);
    return { physicalId: ref, attributes: { Arn: arn }, recorded: `recorded only: the local provider does not emulate ${ctx.type}` };
  },

  async update(ctx, current, _old, props) {
    // The name may have changed with the properties (a recorded type has no replacement rules).
    const { ref, arn } = identity(ctx, props);
    return { physicalId: ref, attributes: { Arn: arn }, recorded: current.recorded };
  },

  async delete() {
    // Nothing was created.
  },
};
