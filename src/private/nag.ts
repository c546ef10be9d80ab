import { Stack, Validations } from 'aws-cdk-lib';
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

/**
 * A resource as cdk-nag writes it in a finding id (`AwsSolutions-IAM5[Resource::<this>]`):
 * attributes as `<Logical.Attr>`, references and pseudo parameters as `<Name>`, joins flattened.
 */
export function findingResource(stack: Stack, value: string): string {
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = v as Record<string, unknown>;
    if (o['Fn::Join']) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(sep);
    }
    if (o['Fn::GetAtt']) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    if (o.Ref) return `<${o.Ref as string}>`;
    return JSON.stringify(v);
  };
  return render(stack.resolve(value));
}
