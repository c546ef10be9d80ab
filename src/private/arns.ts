import { ArnFormat, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** The ElastiCache resource types this library names in IAM policies. */
export type ElastiCacheResource = 'replicationgroup' | 'cluster' | 'snapshot' | 'subnetgroup' | 'parametergroup';

/**
 * The ARN of an ElastiCache resource (or a name pattern of them) in the account and region of
 * `scope`'s stack: `arn:<partition>:elasticache:<region>:<account>:<resource>:<name>`.
 */
export function elastiCacheArn(scope: IConstruct, resource: ElastiCacheResource, name: string): string {
  return Stack.of(scope).formatArn({ service: 'elasticache', resource, resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}
