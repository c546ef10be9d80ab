/**
 * SNS topics, as the workflows' notifications use them: CreateTopic, DeleteTopic, ListTopics,
 * GetTopicAttributes, SetTopicAttributes and Publish, over the AWS Query protocol
 * (`Version=2010-03-31`) with SNS's shapes and errors (SNS API reference, per action).
 *
 * Nothing is delivered: subscriptions are not modelled. Each published message is kept with its
 * time, and read with `published(topicArn)`. SNS has no API that reads messages back, so the
 * provider offers none over HTTP either (a provider-only route would need its own way past the
 * request gate); tests, the drill and the deployer run in the provider's process and call it.
 */
import { randomUUID } from 'crypto';
import { QueryParams, ServiceError } from './elasticache/query';
import { LOCAL_ACCOUNT } from './sts';

export const SNS_XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
/** Topic names: 1 to 256 letters, digits, hyphens and underscores; FIFO topics end in `.fifo` (API reference, CreateTopic). */
const NAME = /^[A-Za-z0-9_-]{1,256}$/;
const FIFO_NAME = /^[A-Za-z0-9_-]{1,251}\.fifo$/;
/** A message: at most 256 KiB (API reference, Publish `Message`). */
const MAX_MESSAGE = 262_144;
/** Attributes CreateTopic and SetTopicAttributes take (API reference, CreateTopic; the delivery-status ones are not listed). */
const ATTRIBUTES = ['DeliveryPolicy', 'DisplayName', 'Policy', 'TracingConfig', 'KmsMasterKeyId', 'SignatureVersion',
  'FifoTopic', 'ContentBasedDeduplication', 'ArchivePolicy', 'FifoThroughputScope', 'DataProtectionPolicy'];
/** ListTopics returns up to 100 topics per page (API reference, ListTopics). */
const PAGE = 100;

/** A message attribute as Publish takes it. */
export interface MessageAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  readonly BinaryValue?: string;
}

/** One published message. */
export interface PublishedMessage {
  readonly messageId: string;
  /** Simulated time (ms since the epoch). */
  readonly time: number;
  readonly subject?: string;
  readonly message: string;
  readonly messageStructure?: string;
  readonly attributes: Record<string, MessageAttribute>;
}

interface Topic {
  readonly arn: string;
  readonly attributes: Record<string, string>;
  readonly messages: PublishedMessage[];
}

function invalid(message: string): ServiceError {
  return new ServiceError('InvalidParameter', `Invalid parameter: ${message}`);
}

function notFound(): ServiceError {
  return new ServiceError('NotFound', 'Topic does not exist', 404);
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** `<ActionResponse><ActionResult>inner</ActionResult><ResponseMetadata>…` in SNS's namespace. */
function response(action: string, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${SNS_XMLNS}"><${action}Result>${inner}</${action}Result>`
    + `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
}

export class LocalSns {
  /** Topics by ARN (the ARN names the region). */
  private readonly topics = new Map<string, Topic>();

  constructor(private readonly now: () => number) {}

  /** Creates a topic (or returns the existing one of that name) for the deployer (AWS::SNS::Topic). */
  public createTopic(region: string, name: string, attributes: Record<string, string> = {}): string {
    const fifo = attributes.FifoTopic === 'true';
    if (!(fifo ? FIFO_NAME : NAME).test(name)) {
      throw invalid(fifo ? 'Topic Name: a FIFO topic name must end with .fifo' : 'Topic Name');
    }
    for (const key of Object.keys(attributes)) {
      if (!ATTRIBUTES.includes(key)) throw invalid(`AttributeName: ${key}`);
    }
    const arn = `arn:aws:sns:${region}:${LOCAL_ACCOUNT}:${name}`;
    const existing = this.topics.get(arn);
    if (existing) {
      // CreateTopic is idempotent for the same attributes (API reference, CreateTopic).
      const differs = Object.entries(attributes).some(([k, v]) => existing.attributes[k] !== v);
      if (differs) throw invalid('Attributes Reason: Topic already exists with different attributes');
      return arn;
    }
    this.topics.set(arn, { arn, attributes: { ...attributes }, messages: [] });
    return arn;
  }

  /** Deletes a topic; one that does not exist is fine (DeleteTopic is idempotent, API reference). */
  public deleteTopic(arn: string): void {
    this.topics.delete(arn);
  }

  /** The messages published to a topic, oldest first (a copy). */
  public published(topicArn: string): PublishedMessage[] {
    return [...(this.topics.get(topicArn)?.messages ?? [])];
  }

  /** The ARNs of the topics of a region. */
  public topicArns(region: string): string[] {
    return [...this.topics.keys()].filter((arn) => arn.split(':')[3] === region);
  }

  /** Answers one Query request (the form-encoded body) for `region`; returns the XML. */
  public handle(region: string, body: string): string {
    const p = new QueryParams(new URLSearchParams(body));
    switch (p.action) {
      case 'CreateTopic': {
        const name = p.str('Name');
        if (!name) throw invalid('Topic Name');
        const arn = this.createTopic(region, name, this.entries(p, 'Attributes'));
        return response('CreateTopic', `<TopicArn>${escape(arn)}</TopicArn>`);
      }
      case 'DeleteTopic':
        this.deleteTopic(this.arn(region, p.str('TopicArn'), 'TopicArn'));
        return response('DeleteTopic', '');
      case 'ListTopics': {
        const arns = this.topicArns(region).sort();
        const start = Number(p.str('NextToken') ?? 0);
        if (!Number.isInteger(start) || start < 0 || start > arns.length) throw invalid('NextToken');
        const page = arns.slice(start, start + PAGE);
        const next = start + PAGE < arns.length ? `<NextToken>${start + PAGE}</NextToken>` : '';
        return response('ListTopics', `<Topics>${page.map((a) => `<member><TopicArn>${escape(a)}</TopicArn></member>`).join('')}</Topics>${next}`);
      }
      case 'GetTopicAttributes': {
        const topic = this.topic(region, p.str('TopicArn'));
        const attributes: Record<string, string> = {
          TopicArn: topic.arn,
          Owner: LOCAL_ACCOUNT,
          DisplayName: '',
          SubscriptionsPending: '0',
          SubscriptionsConfirmed: '0',
          SubscriptionsDeleted: '0',
          ...topic.attributes,
        };
        const entries = Object.entries(attributes).map(([k, v]) => `<entry><key>${escape(k)}</key><value>${escape(v)}</value></entry>`);
        return response('GetTopicAttributes', `<Attributes>${entries.join('')}</Attributes>`);
      }
      case 'SetTopicAttributes': {
        const topic = this.topic(region, p.str('TopicArn'));
        const name = p.str('AttributeName') ?? '';
        if (!ATTRIBUTES.includes(name) || name === 'FifoTopic') throw invalid(`AttributeName: ${name}`);
        topic.attributes[name] = p.str('AttributeValue') ?? '';
        return response('SetTopicAttributes', '');
      }
      case 'Publish':
        return response('Publish', `<MessageId>${this.publish(region, p)}</MessageId>`);
      default:
        // AWS common errors: InvalidAction, HTTP 400.
        throw new ServiceError('InvalidAction', `Could not find operation ${p.action || '(none)'} for version 2010-03-31`);
    }
  }

  private publish(region: string, p: QueryParams): string {
    if (p.str('PhoneNumber') !== undefined) throw invalid('PhoneNumber: SMS is not emulated by the local provider');
    const topicArn = p.str('TopicArn');
    const targetArn = p.str('TargetArn');
    if (topicArn !== undefined && targetArn !== undefined) throw invalid('Request: both TopicArn and TargetArn are given');
    const topic = this.topic(region, topicArn ?? targetArn, topicArn === undefined ? 'TargetArn' : 'TopicArn');
    const message = p.str('Message');
    if (message === undefined || message === '') throw invalid('Empty message');
    if (Buffer.byteLength(message) > MAX_MESSAGE) throw invalid('Message too long');
    const subject = p.str('Subject');
    // Subject: 1 to 100 printable ASCII characters, no line breaks (API reference, Publish).
    if (subject !== undefined && !/^[\x20-\x7e]{1,100}$/.test(subject)) throw invalid('Subject');
    const structure = p.str('MessageStructure');
    if (structure !== undefined) {
      if (structure !== 'json') throw invalid('MessageStructure');
      let parsed: unknown;
      try {
        parsed = JSON.parse(message);
      } catch {
        throw invalid('Message Structure - JSON message body failed to parse');
      }
      if (typeof parsed !== 'object' || parsed === null || typeof (parsed as Record<string, unknown>).default !== 'string') {
        throw invalid('Message Structure - No default entry in JSON message body');
      }
    }
    const fifo = topic.attributes.FifoTopic === 'true';
    if (fifo && !p.str('MessageGroupId')) throw invalid('The MessageGroupId parameter is required for FIFO topics');
    const attributes = this.messageAttributes(p);
    const messageId = randomUUID();
    topic.messages.push({ messageId, time: this.now(), subject, message, messageStructure: structure, attributes });
    return messageId;
  }

  /** `MessageAttributes.entry.N.Name` with `.Value.DataType` and `.Value.StringValue` or `.Value.BinaryValue`. */
  private messageAttributes(p: QueryParams): Record<string, MessageAttribute> {
    const result: Record<string, MessageAttribute> = {};
    for (const entry of p.structs('MessageAttributes', 'entry')) {
      const name = entry.Name;
      const type = entry['Value.DataType'];
      if (!name || !/^[A-Za-z0-9_.-]{1,256}$/.test(name) || /^(aws|amazon)\./i.test(name)) throw invalid(`Message attribute name '${name ?? ''}'`);
      if (!type || !/^(String|Number|Binary)(\..+)?$/.test(type)) {
        throw invalid(`The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
      }
      const value = type.startsWith('Binary') ? entry['Value.BinaryValue'] : entry['Value.StringValue'];
      if (value === undefined || value === '') throw invalid(`The message attribute '${name}' must contain non-empty message attribute value.`);
      if (type.startsWith('Number') && !Number.isFinite(Number(value))) {
        throw invalid(`Could not cast message attribute '${name}' value to number.`);
      }
      result[name] = type.startsWith('Binary') ? { DataType: type, BinaryValue: value } : { DataType: type, StringValue: value };
    }
    return result;
  }

  /** `Attributes.entry.N.key` / `.value` as a record. */
  private entries(p: QueryParams, name: string): Record<string, string> {
    return Object.fromEntries(p.structs(name, 'entry').map((e) => [e.key ?? '', e.value ?? '']));
  }

  private arn(region: string, arn: string | undefined, name = 'TopicArn'): string {
    if (!arn) throw invalid(name);
    const m = /^arn:aws:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]+)$/.exec(arn);
    if (!m) throw invalid(`${name} Reason: An ARN must have at least 6 elements, not ${arn.split(':').length}`);
    // A topic of another region or account is not reachable from this region's endpoint.
    if (m[1] !== region || m[2] !== LOCAL_ACCOUNT) throw invalid(`${name} Reason: A ARN must be in the region and account of the request`);
    return arn;
  }

  private topic(region: string, arn: string | undefined, name = 'TopicArn'): Topic {
    const topic = this.topics.get(this.arn(region, arn, name));
    if (!topic) throw notFound();
    return topic;
  }
}
