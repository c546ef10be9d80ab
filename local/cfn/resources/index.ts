/**
 * The resource types the local CloudFormation engine deploys for real, by type name. Every other
 * type is recorded only (recorded.ts). Emulating a new type is one file in this folder and one
 * line here.
 */
import { customResource } from './custom';
import { elastiCacheReplicationGroup } from './elasticache-replication-group';
import { recorded } from './recorded';
import { route53HostedZone } from './route53-hosted-zone';
import { s3Bucket } from './s3-bucket';
import { s3BucketPolicy } from './s3-bucket-policy';
import { ssmParameter } from './ssm-parameter';
import { ResourceHandler } from './types';

export const HANDLERS: Record<string, ResourceHandler> = {
  'AWS::S3::Bucket': s3Bucket,
  'AWS::S3::BucketPolicy': s3BucketPolicy,
  'AWS::ElastiCache::ReplicationGroup': elastiCacheReplicationGroup,
  'AWS::Route53::HostedZone': route53HostedZone,
  'AWS::SSM::Parameter': ssmParameter,
  'AWS::CloudFormation::CustomResource': customResource,
};

/** The handler of a type: its own, the custom resource one for `Custom::*`, else recorded only. */
export function handlerFor(type: string): ResourceHandler {
  return HANDLERS[type] ?? (type.startsWith('Custom::') ? customResource : recorded);
}

/** The types deployed for real (as opposed to recorded only). */
export function deployedTypes(): string[] {
  return [...Object.keys(HANDLERS), 'Custom::*'];
}
