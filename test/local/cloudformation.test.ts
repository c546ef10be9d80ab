/**
 * The local CloudFormation through the SDK and in process: the API's answers to bad requests,
 * rollback of a failed create and of a failed update, parameters, conditions, outputs and exports,
 * DeletionPolicy on delete, and custom resources run by the bundled handler when no handlers are
 * given (as for a stack the CDK CLI deployed).
 */
import {
  CloudFormationClient, CreateChangeSetCommand, DeleteChangeSetCommand, DeleteStackCommand, DescribeChangeSetCommand, DescribeStackEventsCommand,
  DescribeStacksCommand, ExecuteChangeSetCommand, GetTemplateCommand, StackEvent,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeReplicationGroupsCommand, DescribeSnapshotsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { GetFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetBucketAclCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { App, Stack } from 'aws-cdk-lib';
import Redis from 'ioredis';
import { authPing } from '../../lambda/handlers/auth-token-rotation';
import { deployStack, destroyStack } from '../../local/deploy';
import { LocalProvider } from '../../local/provider';
import { SnapshotExportBucket } from '../../src';

jest.setTimeout(120_000);

const REGION = 'eu-west-1';
let provider: LocalProvider;
let cfn: CloudFormationClient;
let ec: ElastiCacheClient;
let s3: S3Client;

const config = () => ({ region: REGION, endpoint: provider.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });

beforeAll(async () => {
  provider = await LocalProvider.start({ speed: 600 });
  cfn = new CloudFormationClient(config());
  ec = new ElastiCacheClient(config());
  s3 = new S3Client({ ...config(), forcePathStyle: true });
});

afterAll(async () => {
  cfn?.destroy();
  ec?.destroy();
  s3?.destroy();
  await provider?.stop();
});

async function events(stack: string): Promise<StackEvent[]> {
  return ((await cfn.send(new DescribeStackEventsCommand({ StackName: stack }))).StackEvents ?? []).reverse();
}

const group = (id: string, extra: Record<string, unknown> = {}) => ({
  Type: 'AWS::ElastiCache::ReplicationGroup',
  Properties: { ReplicationGroupId: id, ReplicationGroupDescription: id, CacheNodeType: 'cache.t4g.micro', NumCacheClusters: 1, ...extra },
});

describe('the API answers bad requests as CloudFormation does', () => {
  const body = JSON.stringify({ Resources: { P: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'x' } } } });

  test('missing stacks and change sets', async () => {
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'Nope' }))).rejects.toMatchObject({ name: 'ValidationError', message: 'Stack with id Nope does not exist' });
    await expect(cfn.send(new DescribeChangeSetCommand({ StackName: 'Nope', ChangeSetName: 'cs' }))).rejects.toMatchObject({ name: 'ChangeSetNotFoundException' });
    await expect(cfn.send(new DeleteChangeSetCommand({ StackName: 'Nope', ChangeSetName: 'cs' }))).rejects.toMatchObject({ name: 'ChangeSetNotFoundException' });
    await expect(cfn.send(new CreateChangeSetCommand({ StackName: 'Nope', ChangeSetName: 'cs', TemplateBody: body })))
      .rejects.toMatchObject({ name: 'ValidationError', message: 'Stack [Nope] does not exist' });
    // Deleting a stack that does not exist succeeds.
    await cfn.send(new DeleteStackCommand({ StackName: 'Nope' }));
  });

  test('templates that cannot be deployed are refused when the change set is created', async () => {
    const create = (name: string, TemplateBody: string, extra: Record<string, unknown> = {}) =>
      cfn.send(new CreateChangeSetCommand({ StackName: name, ChangeSetName: 'cs', ChangeSetType: 'CREATE', TemplateBody, ...extra }));
    await expect(create('Bad1', '{ not json')).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('Template format error: JSON not well-formed') });
    await expect(create('Bad2', 'Resources:\n  A: [unclosed')).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('YAML not well-formed') });
    await expect(create('Bad3', JSON.stringify({ Resources: { A: { Type: 'AWS::SNS::Topic', Properties: { Name: { Ref: 'Missing' } } } } })))
      .rejects.toMatchObject({ name: 'ValidationError', message: 'Template format error: Unresolved resource dependencies [Missing] in the Resources block of the template' });
    await expect(create('Bad4', JSON.stringify({
      Resources: { A: { Type: 'AWS::SNS::Topic', DependsOn: 'B' }, B: { Type: 'AWS::SNS::Topic', Properties: { X: { Ref: 'A' } } } },
    }))).rejects.toMatchObject({ name: 'ValidationError', message: 'Circular dependency between resources: [A, B]' });
    await expect(create('Bad5', JSON.stringify({
      Parameters: { V: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/not/there' } }, Resources: { A: { Type: 'AWS::SNS::Topic' } },
    }))).rejects.toMatchObject({ name: 'ValidationError', message: 'Unable to fetch parameters [/not/there] from parameter store for this account.' });
    await expect(create('Bad6', JSON.stringify({ Resources: { R: { Type: 'AWS::IAM::Role', Properties: {} } } })))
      .rejects.toMatchObject({ name: 'InsufficientCapabilitiesException', message: 'Requires capabilities : [CAPABILITY_IAM]' });
    await expect(create('Bad7', JSON.stringify({ Parameters: { N: { Type: 'Number' } }, Resources: { A: { Type: 'AWS::SNS::Topic' } } })))
      .rejects.toMatchObject({ name: 'ValidationError', message: 'Parameters: [N] must have values' });
    await expect(create('Bad8', body, { Parameters: [{ ParameterKey: 'Extra', ParameterValue: '1' }] }))
      .rejects.toMatchObject({ name: 'ValidationError', message: 'Parameters: [Extra] do not exist in the template' });
    await expect(create('Bad9', body, { TemplateURL: `${provider.endpoint}/no-bucket/t.json` })).rejects.toMatchObject({ name: 'ValidationError' });
    // CDK's bootstrap version rule, with a version the stack does not accept.
    await expect(create('Bad11', JSON.stringify({
      Parameters: { BootstrapVersion: { Type: 'String', Default: '5' } },
      Rules: {
        CheckBootstrapVersion: {
          Assertions: [{ Assert: { 'Fn::Not': [{ 'Fn::Contains': [['1', '2', '3', '4', '5'], { Ref: 'BootstrapVersion' }] }] }, AssertDescription: 'Bootstrap version 6 required.' }],
        },
      },
      Resources: { A: { Type: 'AWS::SNS::Topic' } },
    }))).rejects.toMatchObject({ name: 'ValidationError', message: 'Bootstrap version 6 required.' });
    // A refused change set leaves no stack behind.
    for (const name of ['Bad1', 'Bad3', 'Bad5', 'Bad11']) {
      await expect(cfn.send(new DescribeStacksCommand({ StackName: name }))).rejects.toMatchObject({ message: `Stack with id ${name} does not exist` });
    }
    await expect(cfn.send(new CreateChangeSetCommand({ StackName: 'Bad10', ChangeSetName: 'cs', ChangeSetType: 'CREATE', TemplateURL: `${provider.endpoint}/no-bucket/t.json` })))
      .rejects.toMatchObject({ name: 'ValidationError', message: expect.stringContaining('S3 error: Access Denied') });
  });

  test('an unchanged template gives the no-op change set, which cannot be executed', async () => {
    await cfn.send(new CreateChangeSetCommand({ StackName: 'Same', ChangeSetName: 'one', ChangeSetType: 'CREATE', TemplateBody: body }));
    const first = await cfn.send(new DescribeChangeSetCommand({ StackName: 'Same', ChangeSetName: 'one' }));
    expect(first.Status).toBe('CREATE_COMPLETE');
    expect(first.Changes).toEqual([expect.objectContaining({ Type: 'Resource', ResourceChange: expect.objectContaining({ Action: 'Add', LogicalResourceId: 'P' }) })]);
    await cfn.send(new ExecuteChangeSetCommand({ StackName: 'Same', ChangeSetName: 'one' }));
    await provider.cloudformation(REGION).stack('Same').operation;
    const stack = (await cfn.send(new DescribeStacksCommand({ StackName: 'Same' }))).Stacks![0];
    expect(stack.StackStatus).toBe('CREATE_COMPLETE');
    // GetTemplate answers the body as it was sent.
    expect((await cfn.send(new GetTemplateCommand({ StackName: 'Same', TemplateStage: 'Original' }))).TemplateBody).toBe(body);

    await cfn.send(new CreateChangeSetCommand({ StackName: 'Same', ChangeSetName: 'two', TemplateBody: body }));
    const second = await cfn.send(new DescribeChangeSetCommand({ StackName: stack.StackId, ChangeSetName: 'two' }));
    expect(second.Status).toBe('FAILED');
    expect(second.StatusReason).toMatch(/^The submitted information didn't contain changes\./);
    await expect(cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: second.ChangeSetId }))).rejects.toMatchObject({ name: 'InvalidChangeSetStatusException' });
    await cfn.send(new DeleteChangeSetCommand({ ChangeSetName: second.ChangeSetId }));
    await cfn.send(new DeleteStackCommand({ StackName: stack.StackId }));
    await provider.cloudformation(REGION).stack(stack.StackId!).operation;
    expect((await cfn.send(new DescribeStacksCommand({ StackName: stack.StackId }))).Stacks![0].StackStatus).toBe('DELETE_COMPLETE');
    await expect(cfn.send(new DescribeStacksCommand({ StackName: 'Same' }))).rejects.toMatchObject({ message: 'Stack with id Same does not exist' });
  });
});

test('a failed create rolls back: what was created is deleted, the failure says which property is not applied', async () => {
  const template = {
    Resources: {
      Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'rollback-bucket' } },
      Group: { ...group('rollback-group', { PreferredCacheClusterAZs: ['eu-west-1a'] }), DependsOn: 'Bucket' },
    },
  };
  await expect(deployStack(provider, template, { stackName: 'Failing', region: REGION })).rejects.toThrow(/ROLLBACK_COMPLETE.*does not apply PreferredCacheClusterAZs/);
  const e = (await events('Failing')).map((x) => `${x.LogicalResourceId} ${x.ResourceStatus}`);
  expect(e).toEqual([
    'Failing REVIEW_IN_PROGRESS', 'Failing CREATE_IN_PROGRESS', 'Bucket CREATE_IN_PROGRESS', 'Bucket CREATE_COMPLETE', 'Group CREATE_IN_PROGRESS', 'Group CREATE_FAILED',
    'Failing ROLLBACK_IN_PROGRESS', 'Bucket DELETE_IN_PROGRESS', 'Bucket DELETE_COMPLETE', 'Failing ROLLBACK_COMPLETE',
  ]);
  await expect(s3.send(new HeadBucketCommand({ Bucket: 'rollback-bucket' }))).rejects.toThrow();
  await expect(ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'rollback-group' }))).rejects.toMatchObject({ name: 'ReplicationGroupNotFoundFault' });
});

test('a failed update rolls back: in-place changes undone, added resources deleted, the previous template current; DeletionPolicy on delete', async () => {
  const v1 = {
    Resources: {
      Flag: { Type: 'AWS::SSM::Parameter', Properties: { Name: '/rollback/flag', Type: 'String', Value: 'one' } },
      Group: { ...group('update-group', { SnapshotRetentionLimit: 1 }), DeletionPolicy: 'Snapshot' },
      Kept: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'kept-bucket' }, DeletionPolicy: 'Retain' },
    },
  };
  await deployStack(provider, v1, { stackName: 'Updating', region: REGION });
  const v2 = {
    Resources: {
      ...v1.Resources,
      Flag: { ...v1.Resources.Flag, Properties: { ...v1.Resources.Flag.Properties, Value: 'two' } },
      Added: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'added-bucket' } },
      // A node type change is not emulated in place: the update fails after Flag and Added are done.
      Group: { ...group('update-group', { SnapshotRetentionLimit: 1, CacheNodeType: 'cache.r7g.large' }), DeletionPolicy: 'Snapshot', DependsOn: ['Flag', 'Added'] },
    },
  };
  await expect(deployStack(provider, v2, { stackName: 'Updating', region: REGION })).rejects.toThrow(/UPDATE_ROLLBACK_COMPLETE.*does not update CacheNodeType/);
  const stack = provider.cloudformation(REGION).stack('Updating');
  const ssm = JSON.parse(provider.ssm.handle(REGION, 'AmazonSSM.GetParameter', JSON.stringify({ Name: '/rollback/flag' })).body);
  expect(ssm.Parameter.Value).toBe('one');
  await expect(s3.send(new HeadBucketCommand({ Bucket: 'added-bucket' }))).rejects.toThrow();
  expect(stack.template.Resources.Added).toBeUndefined();
  expect([...stack.resources.keys()].sort()).toEqual(['Flag', 'Group', 'Kept']);
  const statuses = (await events('Updating')).map((x) => `${x.LogicalResourceId} ${x.ResourceStatus}`);
  const from = statuses.lastIndexOf('Updating UPDATE_IN_PROGRESS');
  expect(statuses.slice(from)).toEqual(expect.arrayContaining([
    'Group UPDATE_FAILED', 'Updating UPDATE_ROLLBACK_IN_PROGRESS', 'Flag UPDATE_COMPLETE', 'Updating UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS',
    'Added DELETE_COMPLETE', 'Updating UPDATE_ROLLBACK_COMPLETE',
  ]));

  // Delete: Retain keeps the bucket (DELETE_SKIPPED), Snapshot leaves the group's final snapshot.
  await destroyStack(provider, 'Updating', REGION);
  await s3.send(new HeadBucketCommand({ Bucket: 'kept-bucket' }));
  const after = (await events(stack.id)).map((x) => `${x.LogicalResourceId} ${x.ResourceStatus}`);
  expect(after).toContain('Kept DELETE_SKIPPED');
  const snapshots = (await ec.send(new DescribeSnapshotsCommand({}))).Snapshots ?? [];
  expect(snapshots.filter((s) => s.SnapshotName!.startsWith('update-group-final-')).map((s) => s.SnapshotStatus)).toEqual(['available']);
});

test('parameters, conditions, outputs and exports; an export in use keeps its stack', async () => {
  const exporting = {
    Parameters: {
      Stage: { Type: 'String', Default: 'test', AllowedValues: ['test', 'prod'] },
      Names: { Type: 'CommaDelimitedList', Default: 'a,b' },
    },
    Conditions: {
      IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] },
      NotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] },
      Both: { 'Fn::And': [{ Condition: 'NotProd' }, { 'Fn::Or': [{ 'Fn::Equals': [{ Ref: 'AWS::Region' }, REGION] }, { Condition: 'IsProd' }] }] },
    },
    Resources: {
      OnlyProd: { Type: 'AWS::SNS::Topic', Condition: 'IsProd' },
      Param: {
        Type: 'AWS::SSM::Parameter',
        Condition: 'Both',
        Properties: {
          Type: 'String',
          Name: { 'Fn::Sub': '/${AWS::StackName}/${Stage}' },
          Value: { 'Fn::Join': ['+', [{ 'Fn::Select': [1, { Ref: 'Names' }] }, { 'Fn::If': ['IsProd', 'p', 'np'] }]] },
          Description: { 'Fn::If': ['IsProd', 'prod', { Ref: 'AWS::NoValue' }] },
        },
      },
    },
    Outputs: {
      Name: { Value: { Ref: 'Param' }, Export: { Name: 'ParamName' } },
      Value: { Value: { 'Fn::GetAtt': ['Param', 'Value'] } },
      Prod: { Value: { Ref: 'OnlyProd' }, Condition: 'IsProd' },
    },
  };
  const d = await deployStack(provider, exporting, { stackName: 'Exporting', region: REGION });
  expect([...d.stack.resources.keys()]).toEqual(['Param']);
  expect(d.stack.resources.get('Param')!.properties).toEqual({ Type: 'String', Name: '/Exporting/test', Value: 'b+np' });
  expect(d.stack.outputs).toEqual([
    { OutputKey: 'Name', OutputValue: '/Exporting/test', ExportName: 'ParamName' },
    { OutputKey: 'Value', OutputValue: 'b+np' },
  ]);
  const importing = { Resources: { Copy: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Name: '/copy', Value: { 'Fn::ImportValue': 'ParamName' } } } } };
  const i = await deployStack(provider, importing, { stackName: 'Importing', region: REGION });
  expect(i.stack.resources.get('Copy')!.properties!.Value).toBe('/Exporting/test');
  await expect(destroyStack(provider, 'Exporting', REGION)).rejects.toThrow('Export ParamName cannot be deleted as it is in use by Importing');
  await destroyStack(provider, 'Importing', REGION);
});

test('a custom resource of this library runs through the bundled handler when no handlers are given (a CLI deployment)', async () => {
  const app = new App();
  const stack = new Stack(app, 'Acl', { env: { account: '000000000000', region: REGION } });
  new SnapshotExportBucket(stack, 'Exports');
  const template = app.synth().getStackByName('Acl').template;
  const saved = { ...process.env };
  try {
    const d = await deployStack(provider, template, { stackName: 'Acl', region: REGION });
    const bucketId = Object.keys(template.Resources).find((k) => template.Resources[k].Type === 'AWS::S3::Bucket')!;
    const acl = await s3.send(new GetBucketAclCommand({ Bucket: d.refs.get(bucketId)! }));
    // ElastiCache's canonical user got its grants, from the handler bundled in assets/custom-resources.
    expect((acl.Grants ?? []).filter((g) => g.Grantee?.ID?.startsWith('540804c3')).map((g) => g.Permission).sort()).toEqual(['READ', 'READ_ACP', 'WRITE', 'WRITE_ACP']);
    // The handler ran with the provider's environment, which is restored afterwards.
    expect(process.env).toEqual(saved);
  } finally {
    process.env = saved;
  }
});

test('a bucket with objects fails its stack\'s deletion (DELETE_FAILED); the retry with RetainResources keeps it', async () => {
  await deployStack(provider, { Resources: { Full: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'full-bucket' } }, T: { Type: 'AWS::SNS::Topic' } } },
    { stackName: 'Keeping', region: REGION });
  await s3.send(new PutObjectCommand({ Bucket: 'full-bucket', Key: 'data', Body: 'keep me' }));
  await expect(destroyStack(provider, 'Keeping', REGION)).rejects.toThrow(/DELETE_FAILED.*\[Full\]/);
  const failed = (await events('Keeping')).filter((e) => e.ResourceStatus === 'DELETE_FAILED');
  expect(failed.map((e) => [e.LogicalResourceId, e.ResourceStatusReason])).toEqual([
    ['Full', expect.stringContaining('not empty')],
    ['Keeping', 'The following resource(s) failed to delete: [Full]. '],
  ]);
  await expect(cfn.send(new DeleteStackCommand({ StackName: 'Nope2', RetainResources: ['Full'] }))).resolves.toBeDefined();
  const stack = provider.cloudformation(REGION).stack('Keeping');
  await cfn.send(new DeleteStackCommand({ StackName: 'Keeping', RetainResources: ['Full'] }));
  await stack.operation;
  expect(stack.status).toBe('DELETE_COMPLETE');
  expect((await events(stack.id)).filter((e) => e.LogicalResourceId === 'Full').pop()!.ResourceStatus).toBe('DELETE_SKIPPED');
  await s3.send(new HeadBucketCommand({ Bucket: 'full-bucket' }));
});

test('malformed templates and requests get CloudFormation errors (4xx) or a FAILED change set, never an internal failure', async () => {
  const bodies = [
    { Resources: { A: { Type: 'AWS::SNS::Topic', Properties: { X: { 'Fn::Join': 5 } } } } },
    { Resources: { A: { Type: 'AWS::SNS::Topic', Properties: { X: { 'Fn::Select': ['x', 'y'] } } } } },
    { Resources: { A: { Type: 'AWS::SNS::Topic', Condition: 'Nope' } } },
    { Conditions: { C: { 'Fn::Equals': 3 } }, Resources: { A: { Type: 'AWS::SNS::Topic', Condition: 'C' } } },
    { Rules: { R: { Assertions: [{ Assert: { 'Fn::Contains': 1 } }] } }, Resources: { A: { Type: 'AWS::SNS::Topic' } } },
    { Parameters: 'x', Resources: { A: { Type: 'AWS::SNS::Topic' } } },
    { Resources: { A: { Type: 'AWS::SNS::Topic', DependsOn: { x: 1 } } } },
    { Resources: { A: { Type: 'AWS::SNS::Topic', Properties: 'text' } } },
    { Resources: { A: { Type: 'AWS::SNS::Topic', Properties: { X: { 'Fn::Sub': [1, 2] } } } } },
    { Resources: { A: { Type: 'AWS::SNS::Topic', Properties: { X: { 'Fn::FindInMap': ['M', 'a', 'b'] } } } } },
    { Resources: { A: { Type: 'AWS::SNS::Topic', Properties: { X: { 'Fn::Transform': {} } } } } },
    { Resources: [] },
    { Transform: 'AWS::Serverless-2016-10-31', Resources: { A: { Type: 'AWS::SNS::Topic' } } },
  ];
  const outcomes: string[] = [];
  for (const [i, body] of bodies.entries()) {
    const name = `Malformed${i}`;
    let outcome: string;
    try {
      await cfn.send(new CreateChangeSetCommand({ StackName: name, ChangeSetName: 'cs', ChangeSetType: 'CREATE', TemplateBody: JSON.stringify(body) }));
      const cs = await cfn.send(new DescribeChangeSetCommand({ StackName: name, ChangeSetName: 'cs' }));
      outcome = `change set ${cs.Status}`;
      if (cs.Status === 'CREATE_COMPLETE') {
        // Executed, it fails the resource and rolls back.
        await cfn.send(new ExecuteChangeSetCommand({ StackName: name, ChangeSetName: 'cs' }));
        await provider.cloudformation(REGION).stack(name).operation;
        outcome = `stack ${(await cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks![0].StackStatus}`;
      }
    } catch (e: any) {
      outcome = `${e.$metadata?.httpStatusCode} ${e.name}`;
    }
    outcomes.push(`${name}: ${outcome}`);
  }
  for (const outcome of outcomes) expect(outcome).toMatch(/: (400 ValidationError|change set FAILED|stack ROLLBACK_COMPLETE)$/);
});

test('an update change set lists its changes: Add, Modify in place or by replacement (with the policy), Remove', async () => {
  const param = (name: string, value: string) => ({ Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Name: name, Value: value } });
  await deployStack(provider, {
    Resources: {
      Renamed: { ...param('/plan/one', 'a'), UpdateReplacePolicy: 'Retain' },
      Changed: param('/plan/two', 'a'),
      Same: param('/plan/three', 'a'),
      Gone: { Type: 'AWS::SNS::Topic', DeletionPolicy: 'Retain' },
    },
  }, { stackName: 'Planned', region: REGION });
  const v2 = {
    Resources: {
      Renamed: { ...param('/plan/one-renamed', 'a'), UpdateReplacePolicy: 'Retain' },
      Changed: param('/plan/two', 'b'),
      Same: param('/plan/three', 'a'),
      Added: { Type: 'AWS::SNS::Topic' },
    },
  };
  await cfn.send(new CreateChangeSetCommand({ StackName: 'Planned', ChangeSetName: 'v2', TemplateBody: JSON.stringify(v2) }));
  const cs = await cfn.send(new DescribeChangeSetCommand({ StackName: 'Planned', ChangeSetName: 'v2' }));
  expect(cs.Status).toBe('CREATE_COMPLETE');
  const changes = Object.fromEntries(cs.Changes!.map((c) => [c.ResourceChange!.LogicalResourceId, c.ResourceChange]));
  expect(Object.keys(changes).sort()).toEqual(['Added', 'Changed', 'Gone', 'Renamed']);
  expect(changes.Added).toMatchObject({ Action: 'Add', ResourceType: 'AWS::SNS::Topic' });
  expect(changes.Changed).toMatchObject({ Action: 'Modify', Replacement: 'False', PhysicalResourceId: '/plan/two', Details: [expect.objectContaining({ Target: expect.objectContaining({ Name: 'Value', RequiresRecreation: 'Never' }) })] });
  expect(changes.Renamed).toMatchObject({ Action: 'Modify', Replacement: 'True', PolicyAction: 'ReplaceAndRetain', Details: [expect.objectContaining({ Target: expect.objectContaining({ Name: 'Name', RequiresRecreation: 'Always' }) })] });
  expect(changes.Gone).toMatchObject({ Action: 'Remove', PolicyAction: 'Retain' });
  await cfn.send(new ExecuteChangeSetCommand({ StackName: 'Planned', ChangeSetName: 'v2' }));
  const stack = provider.cloudformation(REGION).stack('Planned');
  await stack.operation;
  expect(stack.status).toBe('UPDATE_COMPLETE');
  // UpdateReplacePolicy Retain: the old parameter is kept; the new one exists.
  const get = (name: string) => provider.ssm.handle(REGION, 'AmazonSSM.GetParameter', JSON.stringify({ Name: name })).status;
  expect([get('/plan/one'), get('/plan/one-renamed'), get('/plan/two')]).toEqual([200, 200, 200]);
  await destroyStack(provider, 'Planned', REGION);
  expect([get('/plan/one'), get('/plan/one-renamed'), get('/plan/two')]).toEqual([200, 400, 400]);
});

test('a cluster mode enabled group gets the shards NodeGroupConfiguration declares', async () => {
  const d = await deployStack(provider, {
    Resources: {
      Sharded: group('sharded', {
        NumCacheClusters: undefined,
        ClusterMode: 'enabled',
        NumNodeGroups: 2,
        NodeGroupConfiguration: [{ NodeGroupId: '0001', Slots: '0-5000', ReplicaCount: 0 }, { NodeGroupId: '0002', Slots: '5001-16383', ReplicaCount: 1 }],
      }),
    },
  }, { stackName: 'Sharded', region: REGION });
  const g = (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'sharded' }))).ReplicationGroups![0];
  expect(g.NodeGroups!.map((n) => [n.NodeGroupId, n.Slots, n.NodeGroupMembers!.length])).toEqual([['0001', '0-5000', 1], ['0002', '5001-16383', 2]]);
  expect(d.attrs.get('Sharded.ConfigurationEndPoint.Address')).toBe(g.ConfigurationEndpoint!.Address);
  await destroyStack(provider, 'Sharded', REGION);
});

test('a secret, a group whose AuthToken resolves from it, a topic, an alarm and an inline function are created, work, and go with the stack', async () => {
  const template = {
    Resources: {
      Token: {
        Type: 'AWS::SecretsManager::Secret',
        Properties: {
          Description: 'AUTH token',
          GenerateSecretString: { SecretStringTemplate: '{"user":"default"}', GenerateStringKey: 'token', PasswordLength: 40, ExcludePunctuation: true },
        },
      },
      Group: group('secured', {
        TransitEncryptionEnabled: true,
        AuthToken: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: 'Token' }, ':SecretString:token::}}']] },
      }),
      Topic: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: 'alerts' } },
      Alarm: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmName: 'secured-memory',
          Namespace: 'AWS/ElastiCache',
          MetricName: 'DatabaseMemoryUsagePercentage',
          Statistic: 'Average',
          Period: '60',
          EvaluationPeriods: '3',
          Threshold: 80,
          ComparisonOperator: 'GreaterThanThreshold',
          AlarmActions: [{ Ref: 'Topic' }],
          Dimensions: [{ Name: 'ReplicationGroupId', Value: { Ref: 'Group' } }],
        },
      },
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Runtime: 'nodejs22.x',
          Handler: 'index.handler',
          Role: 'arn:aws:iam::000000000000:role/fn',
          Environment: { Variables: { TOPIC: { Ref: 'Topic' } } },
          Code: { ZipFile: 'exports.handler = async (e) => ({ doubled: e.n * 2, topic: process.env.TOPIC });' },
        },
      },
    },
    Outputs: { FnArn: { Value: { 'Fn::GetAtt': ['Fn', 'Arn'] } }, TopicName: { Value: { 'Fn::GetAtt': ['Topic', 'TopicName'] } } },
  };
  const d = await deployStack(provider, template, { stackName: 'Typed', region: REGION, functions: 'create' });
  const secretArn = d.refs.get('Token')!;
  expect(secretArn).toMatch(new RegExp(`^arn:aws:secretsmanager:${REGION}:\\d{12}:secret:Typed-Token-.*-[A-Za-z0-9]{6}$`));
  const secret = JSON.parse(provider.secretsManager.currentValue(REGION, secretArn)!);
  expect(secret.user).toBe('default');
  expect(secret.token).toMatch(/^[A-Za-z0-9]{40}$/);
  // No "WITHOUT AUTH" any more: the group's event has no note.
  const groupEvents = (await events('Typed')).filter((e) => e.LogicalResourceId === 'Group');
  expect(groupEvents.map((e) => e.ResourceStatusReason ?? '').join(' ')).not.toMatch(/AuthToken/);

  // The nodes take the secret's token, and nothing else.
  const described = (await ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'secured' }))).ReplicationGroups![0];
  expect(described.AuthTokenEnabled).toBe(true);
  const primary = described.NodeGroups![0].PrimaryEndpoint!;
  const connect = (password: string) => new Redis({
    host: primary.Address!, port: primary.Port!, password, tls: {}, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null,
  });
  const good = connect(secret.token);
  try {
    expect(await good.set('k', 'v')).toBe('OK');
  } finally {
    good.disconnect();
  }
  const node = { host: primary.Address!, port: primary.Port! };
  expect(await authPing(node, 'not-the-token-0123456789', true)).toMatch(/^WRONGPASS/);
  expect(await authPing(node, secret.token, true)).toBe('PONG');

  const topicArn = d.refs.get('Topic')!;
  expect(provider.sns.topicArns(REGION)).toContain(topicArn);
  expect(d.attrs.get('Topic.TopicName')).toBe(topicArn.split(':').pop());
  const cw = new CloudWatchClient(config());
  try {
    const alarm = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['secured-memory'] }))).MetricAlarms![0];
    expect(alarm).toMatchObject({ Period: 60, EvaluationPeriods: 3, Threshold: 80, AlarmActions: [topicArn], Dimensions: [{ Name: 'ReplicationGroupId', Value: 'secured' }] });
    expect(d.refs.get('Alarm')).toBe('secured-memory');

    const lambda = new LambdaClient(config());
    try {
      const out = await lambda.send(new InvokeCommand({ FunctionName: d.refs.get('Fn'), Payload: Buffer.from('{"n":21}') }));
      expect(out.FunctionError).toBeUndefined();
      expect(JSON.parse(Buffer.from(out.Payload!).toString())).toEqual({ doubled: 42, topic: topicArn });
      expect((await lambda.send(new GetFunctionCommand({ FunctionName: d.refs.get('Fn') }))).Configuration!.FunctionArn).toBe(d.attrs.get('Fn.Arn'));

      await destroyStack(provider, 'Typed', REGION);
      await expect(lambda.send(new GetFunctionCommand({ FunctionName: d.refs.get('Fn') }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    } finally {
      lambda.destroy();
    }
    expect((await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['secured-memory'] }))).MetricAlarms).toEqual([]);
  } finally {
    cw.destroy();
  }
  expect(provider.sns.topicArns(REGION)).not.toContain(topicArn);
  expect(() => provider.secretsManager.currentValue(REGION, secretArn)).toThrow(/can't find/);
  await expect(ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'secured' }))).rejects.toMatchObject({ name: 'ReplicationGroupNotFoundFault' });
});

test('dynamic references in any property: an SSM parameter and a secret\'s JSON key, kept as written in the stack; missing ones and ssm-secure fail with the reason', async () => {
  provider.ssm.handle(REGION, 'AmazonSSM.PutParameter', JSON.stringify({ Name: '/app/colour', Value: 'blue', Type: 'String' }));
  provider.secretsManager.handle(REGION, 'secretsmanager.CreateSecret', JSON.stringify({ Name: 'app/creds', SecretString: JSON.stringify({ user: 'ada', pass: 's3cret' }) }));
  const template = (value: string) => ({ Resources: { Param: { Type: 'AWS::SSM::Parameter', Properties: { Name: '/app/derived', Type: 'String', Value: value } } } });
  await deployStack(provider, template('{{resolve:ssm:/app/colour}}-{{resolve:secretsmanager:app/creds:SecretString:user}}'), { stackName: 'Dynamic', region: REGION });
  const read = () => JSON.parse(provider.ssm.handle(REGION, 'AmazonSSM.GetParameter', JSON.stringify({ Name: '/app/derived' })).body).Parameter.Value;
  expect(read()).toBe('blue-ada');
  // The stack keeps the property as written, never the secret's value.
  expect(JSON.stringify(provider.cloudformation(REGION).stack('Dynamic').resources.get('Param')!.properties)).not.toContain('ada');

  const failing = async (value: string, message: RegExp) => {
    await expect(deployStack(provider, template(value), { stackName: 'Dynamic', region: REGION })).rejects.toThrow(message);
    expect(read()).toBe('blue-ada');
  };
  await failing('{{resolve:ssm:/app/missing}}', /Could not resolve the dynamic reference \{\{resolve:ssm:\/app\/missing\}\} in AWS::SSM::Parameter Param Value: .*must exist in the stack's region/);
  await failing('{{resolve:secretsmanager:app/creds:SecretString:nobody}}', /The secret app\/creds has no string key nobody for the dynamic reference in AWS::SSM::Parameter Param Value/);
  await failing('{{resolve:ssm-secure:/app/colour}}', /does not resolve SecureString parameters/);
  await failing('{{resolve:ssm:/app/colour:7}}', /names version 7; the local provider keeps only the latest \(1\)/);
  await destroyStack(provider, 'Dynamic', REGION);
});

test('an AuthToken referring to a secret that does not exist fails the group, and the stack rolls back', async () => {
  const template = {
    Resources: {
      Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'rolled-back' } },
      Group: { ...group('unresolved', { TransitEncryptionEnabled: true, AuthToken: '{{resolve:secretsmanager:no/such/secret:SecretString:token::}}' }), DependsOn: 'Topic' },
    },
  };
  await expect(deployStack(provider, template, { stackName: 'Unresolved', region: REGION }))
    .rejects.toThrow(/ROLLBACK_COMPLETE.*secret no\/such\/secret.*can't find the specified secret/);
  const failed = (await events('Unresolved')).find((e) => e.ResourceStatus === 'CREATE_FAILED')!;
  expect(failed.LogicalResourceId).toBe('Group');
  expect(provider.sns.topicArns(REGION).some((a) => a.endsWith(':rolled-back'))).toBe(false);
  await expect(ec.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: 'unresolved' }))).rejects.toMatchObject({ name: 'ReplicationGroupNotFoundFault' });
});

test('an access-log bucket: AccessControl LogDeliveryWrite is accepted (noted) with ObjectWriter ownership, refused where ACLs are disabled; other canned ACLs are refused', async () => {
  const logs = { Type: 'AWS::S3::Bucket', Properties: { AccessControl: 'LogDeliveryWrite', OwnershipControls: { Rules: [{ ObjectOwnership: 'ObjectWriter' }] } } };
  await deployStack(provider, { Resources: { Logs: logs } }, { stackName: 'AccessLogs', region: REGION });
  const created = (await events('AccessLogs')).find((e) => e.LogicalResourceId === 'Logs' && e.ResourceStatus === 'CREATE_COMPLETE')!;
  expect(created.ResourceStatusReason).toBe('AccessControl LogDeliveryWrite accepted without effect: the local provider writes no server access logs');
  // The CDK CLI deletes its change set by name before each deploy of an existing stack: a missing one is not an error then.
  await cfn.send(new DeleteChangeSetCommand({ StackName: 'AccessLogs', ChangeSetName: 'cdk-deploy-change-set' }));
  await destroyStack(provider, 'AccessLogs', REGION);

  await expect(deployStack(provider, { Resources: { Logs: { Type: 'AWS::S3::Bucket', Properties: { AccessControl: 'LogDeliveryWrite' } } } }, { stackName: 'NoAcls', region: REGION }))
    .rejects.toThrow(/ROLLBACK_COMPLETE.*The bucket does not allow ACLs/);
  await expect(deployStack(provider, { Resources: { Logs: { Type: 'AWS::S3::Bucket', Properties: { AccessControl: 'PublicRead' } } } }, { stackName: 'PublicAcl', region: REGION }))
    .rejects.toThrow(/ROLLBACK_COMPLETE.*AccessControl Private or LogDeliveryWrite only, not "PublicRead"/);
});
