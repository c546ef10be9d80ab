/**
 * The local provider's SNS, driven through the real @aws-sdk/client-sns (AWS Query protocol);
 * published messages are read back with `provider.sns.published`.
 */
import {
  CreateTopicCommand, DeleteTopicCommand, GetTopicAttributesCommand, InvalidParameterException, ListTopicsCommand, NotFoundException,
  PublishCommand, SetTopicAttributesCommand, SNSClient,
} from '@aws-sdk/client-sns';
import { LocalProvider } from '../../local/provider';

let provider: LocalProvider;
let sns: SNSClient;

beforeAll(async () => {
  provider = await LocalProvider.start({ speed: 600 });
  sns = new SNSClient({ region: 'eu-west-1', endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' }, maxAttempts: 1 });
});

afterAll(async () => {
  sns?.destroy();
  await provider?.stop();
});

test('topics: created once per name and region, listed, described, deleted idempotently', async () => {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'restore-alerts', Attributes: { DisplayName: 'Restore' } }));
  expect(TopicArn).toBe('arn:aws:sns:eu-west-1:000000000000:restore-alerts');
  expect((await sns.send(new CreateTopicCommand({ Name: 'restore-alerts', Attributes: { DisplayName: 'Restore' } }))).TopicArn).toBe(TopicArn);
  await expect(sns.send(new CreateTopicCommand({ Name: 'restore-alerts', Attributes: { DisplayName: 'Other' } })))
    .rejects.toBeInstanceOf(InvalidParameterException);
  await expect(sns.send(new CreateTopicCommand({ Name: 'bad name' }))).rejects.toBeInstanceOf(InvalidParameterException);

  expect((await sns.send(new ListTopicsCommand({}))).Topics).toEqual([{ TopicArn }]);
  const attributes = (await sns.send(new GetTopicAttributesCommand({ TopicArn }))).Attributes!;
  expect(attributes).toMatchObject({ TopicArn, Owner: '000000000000', DisplayName: 'Restore', SubscriptionsConfirmed: '0' });
  await sns.send(new SetTopicAttributesCommand({ TopicArn, AttributeName: 'DisplayName', AttributeValue: 'Renamed' }));
  expect((await sns.send(new GetTopicAttributesCommand({ TopicArn }))).Attributes!.DisplayName).toBe('Renamed');

  // Another region's endpoint lists its own topics.
  const us = new SNSClient({ region: 'us-east-1', endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
  expect((await us.send(new ListTopicsCommand({}))).Topics).toEqual([]);
  us.destroy();

  await sns.send(new DeleteTopicCommand({ TopicArn }));
  await sns.send(new DeleteTopicCommand({ TopicArn }));
  await expect(sns.send(new GetTopicAttributesCommand({ TopicArn }))).rejects.toBeInstanceOf(NotFoundException);
});

test('Publish records subject, message, attributes and the provider\'s time; bad input records nothing', async () => {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'notifications' }));
  const before = provider.clock.now();
  const { MessageId } = await sns.send(new PublishCommand({
    TopicArn,
    Subject: 'Standby restore failed',
    Message: '{"status":"FAILED"}',
    MessageAttributes: { workflow: { DataType: 'String', StringValue: 'restore' }, attempt: { DataType: 'Number', StringValue: '2' } },
  }));
  expect(MessageId).toMatch(/^[0-9a-f-]{36}$/);
  const [message, ...rest] = provider.sns.published(TopicArn!);
  expect(rest).toEqual([]);
  expect(message).toMatchObject({
    messageId: MessageId,
    subject: 'Standby restore failed',
    message: '{"status":"FAILED"}',
    attributes: { workflow: { DataType: 'String', StringValue: 'restore' }, attempt: { DataType: 'Number', StringValue: '2' } },
  });
  expect(message.time).toBeGreaterThanOrEqual(before);

  await expect(sns.send(new PublishCommand({ TopicArn, Message: '' }))).rejects.toBeInstanceOf(InvalidParameterException);
  await expect(sns.send(new PublishCommand({ TopicArn, Message: 'm', Subject: 'line\nbreak' }))).rejects.toBeInstanceOf(InvalidParameterException);
  await expect(sns.send(new PublishCommand({ TopicArn, Message: 'm', MessageAttributes: { n: { DataType: 'Number', StringValue: 'x' } } })))
    .rejects.toBeInstanceOf(InvalidParameterException);
  await expect(sns.send(new PublishCommand({ TopicArn, Message: 'not json', MessageStructure: 'json' }))).rejects.toBeInstanceOf(InvalidParameterException);
  await expect(sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:eu-west-1:000000000000:nope', Message: 'm' }))).rejects.toBeInstanceOf(NotFoundException);
  expect(provider.sns.published(TopicArn!)).toHaveLength(1);
});

test('ListTopics pages by 100', async () => {
  const created = [];
  for (let i = 0; i < 105; i++) created.push((await sns.send(new CreateTopicCommand({ Name: `page-${String(i).padStart(3, '0')}` }))).TopicArn);
  const first = await sns.send(new ListTopicsCommand({}));
  expect(first.Topics).toHaveLength(100);
  const second = await sns.send(new ListTopicsCommand({ NextToken: first.NextToken }));
  expect(second.NextToken).toBeUndefined();
  const all = [...first.Topics!, ...second.Topics!].map((t) => t.TopicArn);
  expect(all).toEqual(expect.arrayContaining(created));
  expect(new Set(all).size).toBe(all.length);
});
