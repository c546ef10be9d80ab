import { CfnResource, CustomResource, Lazy, Stack } from 'aws-cdk-lib';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import { Construct } from 'constructs';
import { addResourceDependency } from './dependencies';
import { PreUpdateSnapshotResourceProperties } from './pre-update-snapshot-contract';
import { BackupProvider } from './provider';

export interface PreUpdateSnapshotProps {
  /** The group to snapshot before its updates. */
  readonly group: elasticache.CfnReplicationGroup;
  /** The group's id, known at synth time (the resource cannot refer to the group it runs before). */
  readonly groupId: string;
  /** The member to snapshot from; undefined for a group-level snapshot. */
  readonly cacheClusterId?: string;
  readonly prefix: string;
  readonly keep: number;
}

/**
 * `backup.snapshotBeforeUpdate`: a custom resource the group depends on, whose properties are the
 * group's, so that CloudFormation updates it (and it takes its snapshot, and waits for it) before
 * every update or replacement of the group.
 */
export class PreUpdateSnapshot extends CustomResource {
  constructor(scope: Construct, id: string, props: PreUpdateSnapshotProps) {
    const provider = BackupProvider.preUpdate(scope);
    provider.grantPreUpdateSnapshot(props.prefix);
    const properties: PreUpdateSnapshotResourceProperties = {
      ReplicationGroupId: props.groupId,
      CacheClusterId: props.cacheClusterId,
      SnapshotPrefix: props.prefix,
      Keep: props.keep,
      GroupProperties: Lazy.any({ produce: () => groupProperties(props.group) }) as unknown as Record<string, unknown>,
    };
    super(scope, id, {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::RedisPreUpdateSnapshot',
      properties,
    });
    addResourceDependency(props.group, this.node.defaultChild as CfnResource);
  }
}

/**
 * The group's properties as CloudFormation receives them (escape hatches included), without its
 * AUTH token: a secret has no place in a custom resource's properties, which CloudFormation shows
 * in its events. A change of the token alone (an in-place update) is therefore not preceded by a
 * snapshot.
 */
function groupProperties(group: elasticache.CfnReplicationGroup): Record<string, unknown> {
  const stack = Stack.of(group);
  const rendered = stack.resolve((group as unknown as { _toCloudFormation(): any })._toCloudFormation());
  const { AuthToken: _, ...rest } = rendered.Resources[stack.getLogicalId(group)].Properties ?? {};
  return rest;
}
