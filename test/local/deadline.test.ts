/**
 * Each custom resource's own deadline, through the handlers' entry point (lambda/handlers/index.ts)
 * as the Provider framework calls it, against the local provider. Snapshots take 100 simulated
 * hours here, so a snapshot stays `creating` until the test moves the clock on.
 */
import {
  DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient, ReplicationGroupNotFoundFault,
  Snapshot, SnapshotNotFoundFault,
} from '@aws-sdk/client-elasticache';
import { createGroup } from './groups';
import { handlerEnvironment } from './handler-env';
import * as handlers from '../../lambda/handlers/index';
import { LocalProvider } from '../../local/provider';
import { DeadlineStamp } from '../../src/private/deadline-contract';

jest.setTimeout(120_000);

const REGION = 'ap-southeast-2';
let STACK: string;
const HOUR = 3_600_000;
let provider: LocalProvider;
let ec: ElastiCacheClient;

type Answer = { PhysicalResourceId: string; Deadline: DeadlineStamp; Data?: Record<string, string> };
type Event = Parameters<typeof handlers.onEvent>[0];
const onEvent = async (e: object) => handlers.onEvent(e as Event) as Promise<Answer>;
const isComplete = async (e: object) => handlers.isComplete(e as Event);

function snapshotEvent(type: 'Create' | 'Delete', name: string, extra: Record<string, unknown> = {}) {
  return {
    RequestType: type,
    ResourceType: 'Custom::RedisSnapshot',
    StackId: STACK,
    LogicalResourceId: 'BeforeUpgrade',
    ResourceProperties: { ReplicationGroupId: 'app', SnapshotName: name, Removal: 'destroy', TimeoutSeconds: '300' },
    ...extra,
  };
}

function finalEvent(group: string, name: string) {
  return {
    RequestType: 'Delete',
    ResourceType: 'Custom::RedisFinalSnapshot',
    StackId: STACK,
    LogicalResourceId: 'OrdersFinalSnapshot',
    PhysicalResourceId: group,
    ResourceProperties: { ReplicationGroupId: group, FinalSnapshotName: name },
  };
}

/** The event the framework hands to isComplete: the request with every key of onEvent's answer. */
function waiting(event: object, answer: Answer) {
  return { ...event, ...answer };
}

/** The same event once its deadline has passed (the deadline is data in the event; the clock is not touched). */
function late(event: object, answer: Answer) {
  return { ...event, ...answer, Deadline: { ...answer.Deadline, At: new Date(Date.now() - 1000).toISOString() } };
}

async function groupStatus(id: string): Promise<string | undefined> {
  return ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id })).then((r) => r.ReplicationGroups![0].Status, (e) => {
    if (e instanceof ReplicationGroupNotFoundFault) return undefined;
    throw e;
  });
}

async function snapshot(name: string): Promise<Snapshot | undefined> {
  return ec.send(new DescribeSnapshotsCommand({ SnapshotName: name })).then((r) => r.Snapshots![0], (e) => {
    if (e instanceof SnapshotNotFoundFault) return undefined;
    throw e;
  });
}

const local = handlerEnvironment(REGION, { speed: 600, timings: { snapshot: 100 * HOUR } });

beforeAll(async () => {
  ({ provider, ec } = local);
  await createGroup(ec, 'app');
  // The final snapshot handler asks CloudFormation whether the group is leaving: the stack is being deleted.
  STACK = provider.cloudformation(REGION).createStack('app', { Resources: {} }).setStatus('DELETE_IN_PROGRESS').id;
});

describe('onEvent stamps each request with its own deadline, from when the request arrived', () => {
  test.each([
    ['a 5-minute RedisSnapshot', { TimeoutSeconds: '300' }, 300, 300],
    ['a 30-minute RedisSnapshot (a number, as the local deployer passes it)', { TimeoutSeconds: 1800 }, 1800, 1800],
    ['a 1-hour RedisSnapshot: checked at 58 minutes, before CloudFormation gives up', { TimeoutSeconds: '3600' }, 3600, 3480],
  ])('%s', async (_name, props, timeout, seconds) => {
    const event = snapshotEvent('Delete', 'not-there', { PhysicalResourceId: 'not-there' });
    const before = Date.now();
    const answer = await onEvent({ ...event, ResourceProperties: { ...event.ResourceProperties, ...props } });
    const after = Date.now();
    expect(answer.PhysicalResourceId).toBe('not-there');
    expect(answer.Deadline.TimeoutSeconds).toBe(timeout);
    const at = Date.parse(answer.Deadline.At);
    expect(at).toBeGreaterThanOrEqual(before + seconds * 1000);
    expect(at).toBeLessThanOrEqual(after + seconds * 1000);
  });

  test('a final snapshot has the hour (checked at 58 minutes)', async () => {
    const before = Date.now();
    const answer = await onEvent({ ...finalEvent('gone-already', 'gone-final'), RequestType: 'Create' });
    expect(answer.Deadline.TimeoutSeconds).toBe(3600);
    expect(Date.parse(answer.Deadline.At)).toBeGreaterThanOrEqual(before + 3480_000);
    expect(Date.parse(answer.Deadline.At)).toBeLessThanOrEqual(Date.now() + 3480_000);
  });
});

describe('RedisSnapshot', () => {
  test('a snapshot still creating at its deadline fails the resource with its name, timeout and status, and is left to ElastiCache', async () => {
    const create = snapshotEvent('Create', 'slow-one');
    const answer = await onEvent(create);
    expect(await isComplete(waiting(create, answer))).toEqual({ IsComplete: false });
    await expect(isComplete(late(create, answer))).rejects.toThrow(new Error(
      "Custom::RedisSnapshot BeforeUpgrade did not finish within its timeout of 5 minutes: snapshot 'slow-one' is not available yet (ElastiCache status 'creating'); "
      + "ElastiCache goes on taking it, and the resource's removal policy decides whether it is kept when CloudFormation rolls back"));
    expect((await snapshot('slow-one'))?.SnapshotStatus).toBe('creating');
  });

  test('a delete still waiting at its deadline fails, and the snapshot is kept', async () => {
    const del = snapshotEvent('Delete', 'slow-one', { PhysicalResourceId: 'slow-one' });
    const answer = await onEvent(del);
    expect(await isComplete(waiting(del, answer))).toEqual({ IsComplete: false });
    await expect(isComplete(late(del, answer))).rejects.toThrow(new Error(
      "Custom::RedisSnapshot BeforeUpgrade did not finish within its timeout of 5 minutes: snapshot 'slow-one' was not deleted (ElastiCache status 'creating') "
      + 'and is kept; delete it once it is available if it is not wanted'));
    expect((await snapshot('slow-one'))?.SnapshotStatus).toBe('creating');
  });

  test('work that is done is not failed for being checked late', async () => {
    const create = snapshotEvent('Create', 'slow-one');
    const answer = await onEvent(create);
    await provider.clock.advance(100 * HOUR);
    expect(await isComplete(late(create, answer))).toEqual({
      IsComplete: true, Data: { SnapshotName: 'slow-one', SnapshotArn: `arn:aws:elasticache:${REGION}:000000000000:snapshot:slow-one` },
    });
  });
});

describe('final snapshot', () => {
  test('a deletion that could not start before the deadline deletes nothing and says so', async () => {
    await createGroup(ec, 'orders-a');
    const del = finalEvent('orders-a', 'orders-a-final');
    const answer = await onEvent(del);
    await expect(isComplete(late(del, answer))).rejects.toThrow(new Error(
      'Custom::RedisFinalSnapshot OrdersFinalSnapshot did not finish within its timeout of 1 hour (checked 58 minutes in, before CloudFormation\'s one-hour limit '
      + "for a custom resource): replication group 'orders-a' was not deleted (status 'available') and its final snapshot 'orders-a-final' is not started; "
      + 'nothing was deleted. Once the group is available, delete the stack again (after a replacement: delete the old group with a final snapshot yourself)'));
    expect(await groupStatus('orders-a')).toBe('available');
    expect(await snapshot('orders-a-final')).toBeUndefined();
  });

  test('a final snapshot that outlasts the hour: the resource fails, ElastiCache finishes, and deleting the stack again completes', async () => {
    const del = finalEvent('orders-a', 'orders-a-final');
    const answer = await onEvent(del);
    // The first check starts the deletion with the final snapshot.
    expect(await isComplete(waiting(del, answer))).toEqual({ IsComplete: false });
    await expect(isComplete(late(del, answer))).rejects.toThrow(new Error(
      'Custom::RedisFinalSnapshot OrdersFinalSnapshot did not finish within its timeout of 1 hour (checked 58 minutes in, before CloudFormation\'s one-hour limit '
      + "for a custom resource): final snapshot 'orders-a-final' of replication group 'orders-a' is 'creating'; ElastiCache deletes the group once that snapshot "
      + 'is available (a deletion cannot be stopped). Wait until the snapshot is available and the group gone, then delete the stack again if its deletion failed'));
    expect(await groupStatus('orders-a')).toBe('deleting');
    expect((await snapshot('orders-a-final'))?.SnapshotStatus).toBe('creating');

    // ElastiCache goes on without CloudFormation: the snapshot becomes available, then the group goes.
    await provider.clock.advance(100 * HOUR);
    for (let i = 0; i < 500 && await groupStatus('orders-a') !== undefined; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await groupStatus('orders-a')).toBeUndefined();
    expect((await snapshot('orders-a-final'))?.SnapshotStatus).toBe('available');

    // The stack is deleted again: a new request, with a new deadline, finds the work done.
    const retry = await onEvent(del);
    expect(await isComplete(waiting(del, retry))).toEqual({ IsComplete: true });
  });
});
