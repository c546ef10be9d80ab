/**
 * AWS::SNS::Topic, in the provider's SNS (local/sns.ts): created with `createTopic`, deleted with
 * `deleteTopic`. Ref is the topic's ARN; attributes TopicArn and TopicName (resource reference,
 * "Return values"). TopicName and FifoTopic require replacement; the attributes would update in
 * place with SetTopicAttributes, which the local SNS does not offer the deployer: such a change is
 * refused. Subscriptions are not emulated (a Subscription property fails the resource).
 */
import { ResourceContext, ResourceFailure, ResourceHandler } from './types';
import { sameValue } from '../template';

const NO_EFFECT: Record<string, string> = {
  Tags: 'topic tags are not stored',
};

/** Topic properties that are CreateTopic attributes of the same name (objects as JSON text). */
const ATTRIBUTES = ['DisplayName', 'FifoTopic', 'ContentBasedDeduplication', 'KmsMasterKeyId', 'SignatureVersion', 'TracingConfig',
  'DeliveryPolicy', 'DataProtectionPolicy', 'ArchivePolicy', 'FifoThroughputScope'];

function attributes(props: Record<string, any>): Record<string, string> {
  return Object.fromEntries(ATTRIBUTES.filter((k) => props[k] !== undefined)
    .map((k) => [k, typeof props[k] === 'object' ? JSON.stringify(props[k]) : String(props[k])]));
}

function notes(props: Record<string, any>): string | undefined {
  const given = Object.keys(NO_EFFECT).filter((k) => props[k] !== undefined);
  return given.length ? given.map((k) => `${k} accepted without effect: ${NO_EFFECT[k]}`).join('; ') : undefined;
}

function create(ctx: ResourceContext, name: string, props: Record<string, any>): string {
  try {
    return ctx.provider.sns.createTopic(ctx.region, name, attributes(props));
  } catch (e) {
    throw new ResourceFailure(`${(e as Error).message} (Service: AmazonSNS)`);
  }
}

export const snsTopic: ResourceHandler = {
  properties: ['TopicName', ...ATTRIBUTES, ...Object.keys(NO_EFFECT)],
  replaceOn: ['TopicName', 'FifoTopic'],
  nameProperty: 'TopicName',

  async create(ctx, props) {
    const fifo = props.FifoTopic === true || props.FifoTopic === 'true';
    // A generated name of a FIFO topic ends with .fifo, as SNS requires.
    const name: string = props.TopicName ?? (fifo ? `${ctx.generatedName(251)}.fifo` : ctx.generatedName(256));
    const arn = create(ctx, name, props);
    return { physicalId: arn, attributes: { TopicArn: arn, TopicName: name }, notes: notes(props) };
  },

  async update(_ctx, current, old, props) {
    const changed = Object.keys({ ...old, ...props }).filter((k) => !sameValue(old[k], props[k]) && !(k in NO_EFFECT));
    if (changed.length) {
      throw new ResourceFailure(`The local provider does not update ${changed.join(', ')} of AWS::SNS::Topic in place (no SetTopicAttributes).`);
    }
    return { ...current, notes: notes(props) };
  },

  async delete(ctx, current) {
    ctx.provider.sns.deleteTopic(current.physicalId);
  },
};
