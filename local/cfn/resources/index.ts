/**
 * The resource types the local CloudFormation engine deploys for real, by type name. Every other
 * type is recorded only (recorded.ts). Emulating a new type is one file in this folder and one
 * line here.
 */
import { cloudWatchAlarm } from './cloudwatch-alarm';
import { customResource } from './custom';
import { elastiCacheReplicationGroup } from './elasticache-replication-group';
import { eventsRule } from './events-rule';
import { lambdaFunction, recordedFunction } from './lambda-function';
import { recorded } from './recorded';
import { route53HostedZone } from './route53-hosted-zone';
import { s3Bucket } from './s3-bucket';
import { s3BucketPolicy } from './s3-bucket-policy';
import { secretsManagerSecret } from './secretsmanager-secret';
import { snsTopic } from './sns-topic';
import { ssmParameter } from './ssm-parameter';
import { stepFunctionsStateMachine } from './stepfunctions-state-machine';
import { ResourceHandler } from './types';
import { resolveDynamicReferences } from '../dynamic';

export const HANDLERS: Record<string, ResourceHandler> = {
  'AWS::S3::Bucket': s3Bucket,
  'AWS::S3::BucketPolicy': s3BucketPolicy,
  'AWS::ElastiCache::ReplicationGroup': elastiCacheReplicationGroup,
  'AWS::Route53::HostedZone': route53HostedZone,
  'AWS::SSM::Parameter': ssmParameter,
  'AWS::SecretsManager::Secret': secretsManagerSecret,
  'AWS::SNS::Topic': snsTopic,
  'AWS::CloudWatch::Alarm': cloudWatchAlarm,
  'AWS::Lambda::Function': lambdaFunction,
  'AWS::StepFunctions::StateMachine': stepFunctionsStateMachine,
  'AWS::Events::Rule': eventsRule,
  'AWS::CloudFormation::CustomResource': customResource,
};

/**
 * The handler of a type: its own, the custom resource one for `Custom::*`, else recorded only.
 * Lambda functions are recorded too when the deployment asks for it (`deployStack`'s default).
 */
export function handlerFor(type: string, options: { readonly recordFunctions?: boolean } = {}): ResourceHandler {
  if (type === 'AWS::Lambda::Function' && options.recordFunctions) return withDynamicReferences(recordedFunction);
  return withDynamicReferences(HANDLERS[type] ?? (type.startsWith('Custom::') ? customResource : recorded));
}

const wrapped = new WeakMap<ResourceHandler, ResourceHandler>();

/**
 * The handler, given properties whose dynamic references (`{{resolve:...}}`, local/cfn/dynamic.ts)
 * are resolved when it is called; the stack keeps them as written. A delete whose references no
 * longer resolve (the secret went first) gets them as written: deleting needs the physical id.
 */
function withDynamicReferences(handler: ResourceHandler): ResourceHandler {
  let h = wrapped.get(handler);
  if (!h) {
    h = {
      ...handler,
      create: (ctx, props) => handler.create(ctx, resolveDynamicReferences(ctx, props)),
      update: (ctx, current, old, props) => handler.update(ctx, current, resolveDynamicReferences(ctx, old), resolveDynamicReferences(ctx, props)),
      delete: (ctx, current, props, snapshot) => {
        let resolved = props;
        try {
          resolved = resolveDynamicReferences(ctx, props);
        } catch {
          // as written
        }
        return handler.delete(ctx, current, resolved, snapshot);
      },
    };
    wrapped.set(handler, h);
  }
  return h;
}

/** The types deployed for real (as opposed to recorded only). */
export function deployedTypes(): string[] {
  return [...Object.keys(HANDLERS), 'Custom::*'];
}
