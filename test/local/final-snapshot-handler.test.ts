/**
 * The final snapshot handler (backup.finalSnapshotName) against the local provider, with
 * CloudFormation's part played as CloudFormation plays it: the templates are the ones the construct
 * synthesizes, the stack moves through the statuses CloudFormation gives it, and the handler asks
 * the provider's CloudFormation API whether the group is leaving before it deletes anything.
 *
 * Every path by which CloudFormation deletes the custom resource is in the table below: the group
 * is deleted, with its named final snapshot verified available, only when the group itself leaves.
 */
import {
  CreateSnapshotCommand, DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient,
  ReplicationGroupNotFoundFault, SnapshotNotFoundFault,
} from '@aws-sdk/client-elasticache';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { createGroup } from './groups';
import { handlerEnvironment } from './handler-env';
import { FinalSnapshotEvent, isComplete, onEvent } from '../../lambda/handlers/final-snapshot';
import { LocalStack, StackStatus } from '../../local/cloudformation';
import { until } from '../../local/poll';
import { LocalProvider } from '../../local/provider';
import { RedisReplicationGroup } from '../../src';

jest.setTimeout(180_000);

const REGION = 'eu-west-3';
const STACK = 'Orders';
let provider: LocalProvider;
let ec: ElastiCacheClient;

const local = handlerEnvironment(REGION);

beforeAll(() => {
  ({ provider, ec } = local);
});

interface Variant {
  /** The group's id; undefined: the app no longer has the group. */
  readonly groupId?: string;
  readonly finalSnapshotName?: string;
  readonly removalPolicy?: RemovalPolicy;
}

/** The template of the app as a user writes it: a VPC and (unless removed) one group named Cache. */
function synth(v: Variant): Record<string, any> {
  const app = new App();
  const stack = new Stack(app, STACK, { env: { account: '000000000000', region: REGION } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  if (v.groupId) {
    new RedisReplicationGroup(stack, 'Cache', {
      vpc,
      nodeType: 'cache.r7g.large',
      replicationGroupId: v.groupId,
      removalPolicy: v.removalPolicy,
      backup: { retention: Duration.days(1), finalSnapshotName: v.finalSnapshotName },
    });
  }
  return Template.fromStack(stack).toJSON();
}

function logicalIdOf(template: Record<string, any>, type: string): string | undefined {
  return Object.entries(template.Resources).find(([, r]: [string, any]) => r.Type === type)?.[0];
}

async function exists(id: string): Promise<boolean> {
  return ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id })).then(() => true, (e) => {
    if (e instanceof ReplicationGroupNotFoundFault) return false;
    throw e;
  });
}

async function snapshotStatus(name: string): Promise<string | undefined> {
  return ec.send(new DescribeSnapshotsCommand({ SnapshotName: name })).then((r) => r.Snapshots![0].SnapshotStatus, (e) => {
    if (e instanceof SnapshotNotFoundFault) return undefined;
    throw e;
  });
}

/**
 * Creates the stack as CloudFormation would: the group (created for real), the final snapshot
 * resource through the handler, every other resource recorded; then CREATE_COMPLETE.
 */
async function deploy(v: Variant): Promise<{ stack: LocalStack; template: Record<string, any> }> {
  const template = synth(v);
  const stack = provider.cloudformation(REGION).createStack(`${STACK}-${v.groupId}`, template);
  await createGroup(ec, v.groupId!);
  for (const [logicalId, r] of Object.entries<any>(template.Resources)) {
    if (r.Type === 'AWS::ElastiCache::ReplicationGroup') stack.setResource(logicalId, v.groupId!);
    else if (r.Type !== 'Custom::RedisFinalSnapshot') stack.setResource(logicalId, `${logicalId}-physical`);
  }
  const cr = logicalIdOf(template, 'Custom::RedisFinalSnapshot');
  if (cr) {
    const created = await onEvent(event(stack, template, 'Create', undefined));
    stack.setResource(cr, created.PhysicalResourceId);
  }
  stack.setStatus('CREATE_COMPLETE');
  return { stack, template };
}

/** The event CloudFormation sends the custom resource, its properties resolved against the stack. */
function event(stack: LocalStack, template: Record<string, any>, type: FinalSnapshotEvent['RequestType'], physicalId: string | undefined,
  old?: Record<string, any>): FinalSnapshotEvent {
  const props = (t: Record<string, any>) => {
    const { ServiceToken: _, ...rest } = t.Resources[logicalIdOf(t, 'Custom::RedisFinalSnapshot')!].Properties;
    return JSON.parse(JSON.stringify(rest), (_k, value) => (value && typeof value === 'object' && 'Ref' in value
      ? stack.resources.get(value.Ref)!.physicalId : value));
  };
  return {
    RequestType: type,
    StackId: stack.id,
    LogicalResourceId: logicalIdOf(template, 'Custom::RedisFinalSnapshot')!,
    PhysicalResourceId: physicalId,
    ResourceProperties: props(template),
    OldResourceProperties: old ? props(old) : undefined,
  };
}

/** onEvent, then isComplete until done, as the Provider framework calls them. */
async function run(e: FinalSnapshotEvent): Promise<void> {
  const answer = await onEvent(e);
  const next = { ...e, ...answer };
  await until('isComplete', async () => ((await isComplete(next)).IsComplete ? true : undefined));
}

/** An update to `v2` as CloudFormation runs it, up to the cleanup phase (its status when the Delete comes). */
async function update(stack: LocalStack, v1: Record<string, any>, v2: Variant, cleanup: StackStatus = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS') {
  const template = synth(v2);
  stack.setStatus('UPDATE_IN_PROGRESS');
  stack.template = template;
  const group = logicalIdOf(template, 'AWS::ElastiCache::ReplicationGroup');
  if (group && stack.resources.get(group)!.physicalId !== v2.groupId) {
    // A new id replaces the group: CloudFormation creates the new one first.
    await createGroup(ec, v2.groupId!);
    stack.setResource(group, v2.groupId!, 'UPDATE_COMPLETE');
  }
  const cr = logicalIdOf(template, 'Custom::RedisFinalSnapshot');
  if (cr && stack.resources.has(cr)) {
    const previous = stack.resources.get(cr)!.physicalId;
    const answer = await onEvent(event(stack, template, 'Update', previous, v1));
    stack.setResource(cr, answer.PhysicalResourceId, 'UPDATE_COMPLETE');
  }
  stack.setStatus(cleanup);
  return template;
}

describe('CloudFormation deletes the final snapshot resource', () => {
  test('stack deleted: the group is deleted with its final snapshot, taken from the primary and available', async () => {
    const { stack, template } = await deploy({ groupId: 'del-a', finalSnapshotName: 'del-a-final' });
    stack.setStatus('DELETE_IN_PROGRESS');
    await run(event(stack, template, 'Delete', 'del-a'));
    expect(await exists('del-a')).toBe(false);
    const final = (await ec.send(new DescribeSnapshotsCommand({ SnapshotName: 'del-a-final' }))).Snapshots![0];
    expect(final).toMatchObject({ SnapshotStatus: 'available', ReplicationGroupId: 'del-a' });
    expect(final.NodeSnapshots![0].CacheClusterId).toBe('del-a-001');
  });

  test('group replaced (new id): the old group is deleted with its final snapshot, the new one stays', async () => {
    const { stack, template } = await deploy({ groupId: 'rep-a', finalSnapshotName: 'rep-final' });
    const cr = logicalIdOf(template, 'Custom::RedisFinalSnapshot')!;
    await update(stack, template, { groupId: 'rep-b', finalSnapshotName: 'rep-b-final' });
    // The resource now stands for the new group, so CloudFormation deletes the old physical resource.
    expect(stack.resources.get(cr)!.physicalId).toBe('rep-b');
    await run(event(stack, template, 'Delete', 'rep-a'));
    expect(await exists('rep-a')).toBe(false);
    expect(await snapshotStatus('rep-final')).toBe('available');
    expect(await exists('rep-b')).toBe(true);
    expect(await snapshotStatus('rep-b-final')).toBeUndefined();
  });

  test.each<[string, Variant]>([
    ['finalSnapshotName removed', { groupId: 'rm-a' }],
    ['the group retained by RemovalPolicy.RETAIN after finalSnapshotName is removed', { groupId: 'ret-a', removalPolicy: RemovalPolicy.RETAIN }],
  ])('%s: the group stays, nothing is snapshotted, the deletion succeeds', async (_name, v2) => {
    const { stack, template } = await deploy({ groupId: v2.groupId, finalSnapshotName: `${v2.groupId}-final` });
    const after = await update(stack, template, v2);
    expect(logicalIdOf(after, 'Custom::RedisFinalSnapshot')).toBeUndefined();
    await run(event(stack, template, 'Delete', v2.groupId));
    expect(await exists(v2.groupId!)).toBe(true);
    expect(await snapshotStatus(`${v2.groupId}-final`)).toBeUndefined();
    if (v2.removalPolicy === RemovalPolicy.RETAIN) {
      // A later stack deletion is then CloudFormation's: it keeps the group.
      expect(after.Resources[logicalIdOf(after, 'AWS::ElastiCache::ReplicationGroup')!]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  test('finalSnapshotName renamed: an update in place, no deletion, the new name applies', async () => {
    const { stack, template } = await deploy({ groupId: 'ren-a', finalSnapshotName: 'ren-old' });
    const cr = logicalIdOf(template, 'Custom::RedisFinalSnapshot')!;
    const after = await update(stack, template, { groupId: 'ren-a', finalSnapshotName: 'ren-new' });
    // Same physical id: CloudFormation sends no Delete.
    expect(stack.resources.get(cr)!.physicalId).toBe('ren-a');
    expect(await exists('ren-a')).toBe(true);
    stack.setStatus('DELETE_IN_PROGRESS');
    await run(event(stack, after, 'Delete', 'ren-a'));
    expect(await exists('ren-a')).toBe(false);
    expect(await snapshotStatus('ren-new')).toBe('available');
    expect(await snapshotStatus('ren-old')).toBeUndefined();
  });

  test('the custom resource replaced on its own (e.g. its construct moved): the group stays', async () => {
    const { stack, template } = await deploy({ groupId: 'mv-a', finalSnapshotName: 'mv-a-final' });
    // The same app, with the custom resource under another logical id.
    const cr = logicalIdOf(template, 'Custom::RedisFinalSnapshot')!;
    const moved = JSON.parse(JSON.stringify(template));
    moved.Resources[`${cr}Moved`] = moved.Resources[cr];
    delete moved.Resources[cr];
    stack.setStatus('UPDATE_IN_PROGRESS');
    stack.template = moved;
    const created = await onEvent(event(stack, moved, 'Create', undefined));
    stack.setResource(`${cr}Moved`, created.PhysicalResourceId);
    stack.setStatus('UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
    await run(event(stack, template, 'Delete', 'mv-a'));
    expect(await exists('mv-a')).toBe(true);
    expect(await snapshotStatus('mv-a-final')).toBeUndefined();
  });

  test('the group removed from the app: it is deleted with its final snapshot', async () => {
    const { stack, template } = await deploy({ groupId: 'gone-a', finalSnapshotName: 'gone-a-final' });
    await update(stack, template, {});
    await run(event(stack, template, 'Delete', 'gone-a'));
    expect(await exists('gone-a')).toBe(false);
    expect(await snapshotStatus('gone-a-final')).toBe('available');
  });

  test('rollback of a failed create: the handler deletes nothing; CloudFormation deletes the new group itself', async () => {
    const { stack, template } = await deploy({ groupId: 'rb-a', finalSnapshotName: 'rb-a-final' });
    stack.setStatus('ROLLBACK_IN_PROGRESS');
    await run(event(stack, template, 'Delete', 'rb-a'));
    expect(await exists('rb-a')).toBe(true);
    expect(await snapshotStatus('rb-a-final')).toBeUndefined();
    // ... because the group's DeletionPolicy lets CloudFormation delete a group its failed create made.
    expect(template.Resources[logicalIdOf(template, 'AWS::ElastiCache::ReplicationGroup')!].DeletionPolicy).toBe('RetainExceptOnCreate');
  });

  test('rollback of a failed update that replaced the group: the handler deletes neither group', async () => {
    const { stack, template } = await deploy({ groupId: 'urb-a', finalSnapshotName: 'urb-final' });
    const group = logicalIdOf(template, 'AWS::ElastiCache::ReplicationGroup')!;
    const cr = logicalIdOf(template, 'Custom::RedisFinalSnapshot')!;
    const v2 = await update(stack, template, { groupId: 'urb-b', finalSnapshotName: 'urb-final' }, 'UPDATE_ROLLBACK_IN_PROGRESS');
    // Rolling back: the resource goes back to the old group, then the new physical resource is deleted.
    stack.template = template;
    stack.setResource(group, 'urb-a', 'UPDATE_COMPLETE');
    const back = await onEvent(event(stack, template, 'Update', 'urb-b', v2));
    stack.setResource(cr, back.PhysicalResourceId, 'UPDATE_COMPLETE');
    stack.setStatus('UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS');
    await run(event(stack, v2, 'Delete', 'urb-b'));
    expect(await exists('urb-a')).toBe(true);
    expect(await exists('urb-b')).toBe(true);
    expect(await snapshotStatus('urb-final')).toBeUndefined();
  });

  test('a resource deployed before the group\'s logical id was recorded: only a stack deletion deletes the group', async () => {
    const { stack, template } = await deploy({ groupId: 'old-a', finalSnapshotName: 'old-a-final' });
    const older = (e: FinalSnapshotEvent): FinalSnapshotEvent => {
      const { ReplicationGroupLogicalId: _, ...props } = e.ResourceProperties;
      return { ...e, ResourceProperties: props };
    };
    await update(stack, template, {});
    await run(older(event(stack, template, 'Delete', 'old-a')));
    expect(await exists('old-a')).toBe(true);
    stack.setStatus('DELETE_IN_PROGRESS');
    await run(older(event(stack, template, 'Delete', 'old-a')));
    expect(await exists('old-a')).toBe(false);
    expect(await snapshotStatus('old-a-final')).toBe('available');
  });
});

describe('a deletion that cannot take its final snapshot deletes nothing', () => {
  test('a final snapshot name that is taken fails the deletion', async () => {
    const { stack, template } = await deploy({ groupId: 'taken-a', finalSnapshotName: 'taken-final' });
    await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'taken-a', SnapshotName: 'taken-final' }));
    await until('the snapshot', async () => (await snapshotStatus('taken-final') === 'available' ? true : undefined));
    stack.setStatus('DELETE_IN_PROGRESS');
    await expect(run(event(stack, template, 'Delete', 'taken-a'))).rejects.toThrow(
      "Final snapshot 'taken-final' already exists, so replication group 'taken-a' was not deleted; delete or rename that snapshot, or give backup.finalSnapshotName a new name, and retry");
    expect(await exists('taken-a')).toBe(true);
  });

  test('a group that is busy is deleted once it is available again', async () => {
    const { stack, template } = await deploy({ groupId: 'busy-a', finalSnapshotName: 'busy-a-final' });
    await ec.send(new CreateSnapshotCommand({ ReplicationGroupId: 'busy-a', SnapshotName: 'busy-now' }));
    stack.setStatus('DELETE_IN_PROGRESS');
    const e = event(stack, template, 'Delete', 'busy-a');
    const next = { ...e, ...await onEvent(e) };
    expect((await isComplete(next)).IsComplete).toBe(false);
    await run(e);
    expect(await exists('busy-a')).toBe(false);
    expect(await snapshotStatus('busy-a-final')).toBe('available');
  });

  test('a failed final snapshot fails the deletion and the group stays', async () => {
    const { stack, template } = await deploy({ groupId: 'fail-a', finalSnapshotName: 'fail-a-final' });
    provider.elasticache(REGION).faults.failSnapshots = 1;
    stack.setStatus('DELETE_IN_PROGRESS');
    await expect(run(event(stack, template, 'Delete', 'fail-a'))).rejects.toThrow(
      "Final snapshot 'fail-a-final' of replication group 'fail-a' failed; the group was not deleted");
    expect(await exists('fail-a')).toBe(true);
  });

  test('a stack CloudFormation does not know fails the deletion with its error, deleting nothing', async () => {
    const { stack, template } = await deploy({ groupId: 'unk-a', finalSnapshotName: 'unk-a-final' });
    const e = { ...event(stack, template, 'Delete', 'unk-a'), StackId: `${stack.id}-other` };
    await expect(run(e)).rejects.toThrow(`Stack with id ${stack.id}-other does not exist`);
    expect(await exists('unk-a')).toBe(true);
  });
});
