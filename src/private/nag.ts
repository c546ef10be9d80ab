import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag finding on one construct, with its reason.
 *
 * Granular finding ids such as `AwsSolutions-IAM5[Resource::<Fn.Arn>:*]` contain `::`, which
 * `Validations.acknowledge` refuses in aws-cdk-lib 2.258 (it reserves `::` for prefixes), so they are
 * recorded as the same metadata entry `Validations.acknowledge` writes, which cdk-nag reads.
 */
export function acknowledgeFinding(scope: IConstruct, id: string, reason: string): void {
  if (id.includes('::')) {
    scope.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, { [id]: reason });
  } else {
    Validations.of(scope).acknowledge({ id, reason });
  }
}
