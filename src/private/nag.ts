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

/** The prefixes of the compliance packs whose findings the library acknowledges: their rule names are the same. */
const COMPLIANCE_PACKS = ['HIPAA.Security', 'NIST.800.53.R5'];

/**
 * Acknowledges one rule of cdk-nag's HIPAA Security and NIST 800-53 rev 5 packs (which name it the
 * same, `<pack>-<rule>`) on one construct, with its reason.
 */
export function acknowledgeComplianceFinding(scope: IConstruct, rule: string, reason: string): void {
  for (const pack of COMPLIANCE_PACKS) {
    acknowledgeFinding(scope, `${pack}-${rule}`, reason);
  }
}

/** How one of the library's Lambda functions is used, for the reasons of its compliance findings. */
export interface HandlerFunctionUse {
  /** Who invokes it and how, e.g. `the Provider framework's onEvent function, synchronously (RequestResponse)`. */
  readonly invokedBy: string;
  /** The services whose APIs it calls, e.g. `ElastiCache and S3`. */
  readonly calls: string;
  /** What bounds its concurrency, e.g. `one invocation per CloudFormation event of this stack's custom resources`. */
  readonly concurrency: string;
  /** Why a dead-letter queue does not apply. @default - the function is invoked synchronously */
  readonly dlq?: string;
}

/**
 * The HIPAA Security and NIST 800-53 rev 5 findings on a Lambda function of the library (or of the
 * Provider framework it uses), acknowledged on the function resource (and its role's inline policy)
 * with the reasons that follow from how the function is used.
 */
export function acknowledgeHandlerFunction(fn: IConstruct & { readonly role?: IConstruct }, use: HandlerFunctionUse): void {
  const resource = fn.node.defaultChild ?? fn;
  acknowledgeComplianceFinding(resource, 'LambdaDLQ', use.dlq ?? `Invoked by ${use.invokedBy}, which receives the function's errors and handles them; `
    + 'a dead-letter queue only ever receives events of asynchronous invocations (AWS Lambda developer guide, "Asynchronous invocation").');
  // PutFunctionConcurrency: "You can reserve concurrency ... as long as you leave at least 100
  // simultaneous executions unreserved" (AWS Lambda API reference).
  acknowledgeComplianceFinding(resource, 'LambdaConcurrency', 'Reserved concurrency is taken from the account\'s regional pool, which must keep at least 100 '
    + 'unreserved executions (Lambda PutFunctionConcurrency), so any reservation fails the deployment in accounts whose quota is 100 or less; '
    + `the function runs ${use.concurrency}, which bounds it without a reservation.`);
  acknowledgeComplianceFinding(resource, 'LambdaInsideVPC', `The function calls only the AWS APIs of ${use.calls} and reaches nothing inside a VPC; `
    + 'in a VPC it would need a NAT gateway or an interface endpoint for each of those services.');
  if (fn.role) acknowledgeInlinePolicy(fn.role);
}

/**
 * IAMNoInlinePolicy on one of the library's roles, acknowledged on the role: aws-cdk-lib writes its
 * grants into the role's inline default policy, which may be created after this call.
 */
export function acknowledgeInlinePolicy(role: IConstruct): void {
  acknowledgeComplianceFinding(role, 'IAMNoInlinePolicy', 'The inline default policy aws-cdk-lib writes for this one role from its grants, '
    + 'each statement scoped to the resources of this construct; it is not meant for any other principal, which is what a managed policy would be for.');
}
