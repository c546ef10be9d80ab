import { CustomResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import { Construct } from 'constructs';
import { elastiCacheArn } from './arns';
import { FinalSnapshotResourceProperties } from './final-snapshot-contract';
import { memberIds } from './members';
import { BackupProvider } from './provider';

/** What the final snapshot of a replication group needs to know of it. */
export interface FinalSnapshotProps {
  /** The group's CloudFormation resource: CloudFormation keeps it from now on; this resource deletes it. */
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  /** The replication group id (the resource's Ref). */
  readonly replicationGroupId: string;
  readonly replicationGroupArn: string;
  readonly clustered: boolean;
  readonly shards: number;
  readonly replicasPerShard: number;
  /** The name of the final snapshot, checked by the caller (rules/backup.ts, checkFinalSnapshot). */
  readonly snapshotName: string;
}

/**
 * A named final snapshot (`Custom::RedisFinalSnapshot`, handled by lambda/handlers/final-snapshot.ts):
 * CloudFormation keeps the group (RetainExceptOnCreate, Retain on replacement) and this resource
 * deletes it with `FinalSnapshotIdentifier` when CloudFormation says the group is leaving, waiting
 * until the snapshot is available and the group gone.
 *
 * Made with id `FinalSnapshot` under the group, its CloudFormation resource (child `Default`) keeps
 * the logical id it has always had: a new logical id would replace the resource in users' stacks.
 */
export class FinalSnapshot extends CustomResource {
  constructor(scope: Construct, id: string, props: FinalSnapshotProps) {
    // CloudFormation keeps the group when it leaves the stack or is replaced; this resource deletes
    // it then, with the named snapshot. A group created by a failed operation is new, holds nothing
    // but its seed, and is deleted by CloudFormation on rollback (RetainExceptOnCreate), so that a
    // retry does not find its id taken.
    props.replicationGroup.applyRemovalPolicy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE);
    const provider = BackupProvider.of(scope);
    // Every member by name (no wildcard): after a failover the primary may be any of them.
    const members = memberIds(props.replicationGroupId, props.clustered, props.shards, props.replicasPerShard);
    provider.grantFinalSnapshot(props.replicationGroupArn, members.map((m) => elastiCacheArn(scope, 'cluster', m)), props.snapshotName);
    const properties: FinalSnapshotResourceProperties = {
      ReplicationGroupId: props.replicationGroupId,
      FinalSnapshotName: props.snapshotName,
      ReplicationGroupLogicalId: Stack.of(scope).getLogicalId(props.replicationGroup),
    };
    super(scope, id, {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::RedisFinalSnapshot',
      properties,
    });
  }
}
