import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { RedisReplicationGroup, RedisReplicationGroupProps } from '../src';

/** A stack in a known account and region, with a two-AZ VPC of isolated subnets. */
export function newStack(id = 'Stack'): { app: App; stack: Stack; vpc: ec2.Vpc } {
  const app = new App();
  const stack = new Stack(app, id, { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    flowLogs: { all: {} },
  });
  return { app, stack, vpc };
}

export type GroupProps = Omit<RedisReplicationGroupProps, 'vpc'> & { vpc?: ec2.IVpc };

/** A stack with one group named `Cache`, built from `props`. */
export function groupStack(props: Partial<GroupProps> = {}) {
  const { app, stack, vpc } = newStack();
  const group = new RedisReplicationGroup(stack, 'Cache', { nodeType: 'cache.r7g.large', vpc, ...props });
  return { app, stack, vpc, group, template: () => Template.fromStack(stack) };
}

/** The properties of the only replication group in a template. */
export function groupProperties(template: Template): Record<string, any> {
  const groups = Object.values(template.findResources('AWS::ElastiCache::ReplicationGroup'));
  expect(groups).toHaveLength(1);
  return groups[0].Properties;
}
