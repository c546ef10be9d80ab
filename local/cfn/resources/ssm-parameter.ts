/**
 * AWS::SSM::Parameter, in the provider's Parameter Store (the CDK bootstrap stack's version
 * parameter, which `cdk deploy` reads). Name requires replacement (resource reference); Type and
 * Value update in place. Ref is the name; attributes Type and Value.
 */
import { ResourceFailure, ResourceHandler } from './types';

const NO_EFFECT: Record<string, string> = {
  Description: 'the local Parameter Store keeps no descriptions',
  Tags: 'parameter tags are not stored',
};

function put(ctx: Parameters<ResourceHandler['create']>[0], name: string, props: Record<string, any>, overwrite: boolean): void {
  if (props.Tier !== undefined && props.Tier !== 'Standard') throw new ResourceFailure(`The local provider keeps Standard parameters only, not Tier ${props.Tier}.`);
  if (props.AllowedPattern !== undefined && !new RegExp(props.AllowedPattern).test(String(props.Value))) {
    throw new ResourceFailure(`Parameter value ${props.Value} failed to satisfy constraint specified: AllowedPattern ${props.AllowedPattern}`);
  }
  const answer = ctx.provider.ssm.handle(ctx.region, 'AmazonSSM.PutParameter', JSON.stringify({ Name: name, Type: props.Type, Value: String(props.Value), Overwrite: overwrite }));
  if (answer.status !== 200) {
    const error = JSON.parse(answer.body);
    throw new ResourceFailure(`${error.message} (Service: AmazonSSM; Error Code: ${error.__type})`);
  }
}

export const ssmParameter: ResourceHandler = {
  properties: ['Name', 'Type', 'Value', 'AllowedPattern', 'Tier', 'DataType', ...Object.keys(NO_EFFECT)],
  replaceOn: ['Name'],
  nameProperty: 'Name',

  async create(ctx, props) {
    if (props.DataType !== undefined && props.DataType !== 'text') throw new ResourceFailure(`The local provider keeps text parameters only, not DataType ${props.DataType}.`);
    const name: string = props.Name ?? `CFN-${ctx.generatedName(60)}`;
    put(ctx, name, props, false);
    const given = Object.keys(NO_EFFECT).filter((k) => props[k] !== undefined);
    return {
      physicalId: name,
      attributes: { Type: props.Type, Value: String(props.Value) },
      notes: given.length ? given.map((k) => `${k} accepted without effect: ${NO_EFFECT[k]}`).join('; ') : undefined,
    };
  },

  async update(ctx, current, _old, props) {
    put(ctx, current.physicalId, props, true);
    return { ...current, attributes: { Type: props.Type, Value: String(props.Value) } };
  },

  async delete(ctx, current) {
    const answer = ctx.provider.ssm.handle(ctx.region, 'AmazonSSM.DeleteParameter', JSON.stringify({ Name: current.physicalId }));
    if (answer.status !== 200 && JSON.parse(answer.body).__type !== 'ParameterNotFound') {
      throw new ResourceFailure(`${JSON.parse(answer.body).message} (Service: AmazonSSM)`);
    }
  },
};
