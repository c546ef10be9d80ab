/**
 * AWS::StepFunctions::StateMachine, in the provider's Step Functions (local/stepfunctions.ts). The
 * definition is `DefinitionString` (the engine has resolved its intrinsics, e.g. CDK's Fn::Join,
 * before this handler sees it) or `Definition` (an object); `DefinitionSubstitutions` replace
 * `${name}` in it (resource reference, `DefinitionSubstitutions`). Ref is the state machine's ARN;
 * attributes Arn and Name (resource reference, "Return values"). StateMachineName and
 * StateMachineType require replacement; any other change (definition, role) is applied by deleting
 * the state machine and creating it again under its name (the local Step Functions has no
 * UpdateStateMachine), which stops its running executions.
 *
 * The definition is checked as CreateStateMachine checks it (valid ASL), not the functions it names:
 * a state machine whose Lambda functions `deployStack` recorded only deploys; running such a task
 * fails the execution (Lambda.ResourceNotFoundException).
 */
import { DeployedResource, ResourceContext, ResourceFailure, ResourceHandler } from './types';

const NO_EFFECT: Record<string, string> = {
  LoggingConfiguration: 'execution history is kept by the provider (GetExecutionHistory), not sent to CloudWatch Logs',
  TracingConfiguration: 'X-Ray is not emulated',
  Tags: 'state machine tags are not stored',
};

function notes(props: Record<string, any>): string | undefined {
  const given = Object.keys(NO_EFFECT).filter((k) => props[k] !== undefined);
  return given.length ? given.map((k) => `${k} accepted without effect: ${NO_EFFECT[k]}`).join('; ') : undefined;
}

function definition(props: Record<string, any>): string {
  if ((props.DefinitionString === undefined) === (props.Definition === undefined)) {
    throw new ResourceFailure('Exactly one of DefinitionString and Definition is required (DefinitionS3Location is not emulated).');
  }
  let text: string = typeof props.DefinitionString === 'string' ? props.DefinitionString : JSON.stringify(props.Definition);
  for (const [name, value] of Object.entries<unknown>(props.DefinitionSubstitutions ?? {})) {
    text = text.split('${' + name + '}').join(String(value));
  }
  return text;
}

function make(ctx: ResourceContext, name: string, props: Record<string, any>): DeployedResource {
  try {
    const m = ctx.provider.stepFunctions.createStateMachine(ctx.region, {
      name,
      definition: definition(props),
      roleArn: props.RoleArn,
      type: props.StateMachineType,
      loggingConfiguration: props.LoggingConfiguration,
      tracingConfiguration: props.TracingConfiguration,
    });
    return { physicalId: m.arn, attributes: { Arn: m.arn, Name: m.name }, notes: notes(props) };
  } catch (e) {
    // A StepFunctionsError (local/stepfunctions.ts, not imported: it imports the engine's modules).
    const code = (e as { code?: string }).code;
    if (code) throw new ResourceFailure(`${(e as Error).message} (Service: AWSStepFunctions; Error Code: ${code})`);
    throw e;
  }
}

export const stepFunctionsStateMachine: ResourceHandler = {
  properties: ['DefinitionString', 'Definition', 'DefinitionSubstitutions', 'RoleArn', 'StateMachineName', 'StateMachineType', ...Object.keys(NO_EFFECT)],
  replaceOn: ['StateMachineName', 'StateMachineType'],
  nameProperty: 'StateMachineName',

  async create(ctx, props) {
    // CloudFormation generates `<LogicalId>-<random>` for a state machine without a name (NOT CONFIRMED: the stack name may be part of it).
    return make(ctx, props.StateMachineName ?? ctx.generatedName(80), props);
  },

  async update(ctx, current, _old, props) {
    const name = String(current.attributes.Name);
    ctx.provider.stepFunctions.deleteStateMachine(current.physicalId);
    return make(ctx, name, props);
  },

  async delete(ctx, current) {
    ctx.provider.stepFunctions.deleteStateMachine(current.physicalId);
  },
};
