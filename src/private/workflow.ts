/**
 * What the library's Step Functions workflows (`ScheduledSnapshotExport`, `StandbyRestore`) share:
 * their log key, the names of AWS SDK integration errors, and their retries.
 */
import { ArnFormat, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/**
 * The template metadata key under which a workflow's state machine says what it is (its kind and
 * what it works on), so that tools reading a synthesized app find the library's workflows without
 * knowing construct paths: the local DR drill (`cdk-elasticache-backup drill --app`) does.
 */
export const WORKFLOW_METADATA = 'cdk-elasticache-backup:workflow';

/** Describes a workflow in its state machine's template metadata (see WORKFLOW_METADATA); values may be tokens. */
export function describeWorkflow(stateMachine: sfn.StateMachine, description: { kind: 'scheduled-export' | 'standby-restore' } & Record<string, unknown>): void {
  (stateMachine.node.defaultChild as CfnResource).addMetadata(WORKFLOW_METADATA, description);
}

/**
 * A workflow's state machine as the library makes them: JSONPath, X-Ray tracing, every event logged
 * to a log group of its own (a month, the given key).
 */
export function workflowStateMachine(scope: Construct, id: string, logId: string, definition: sfn.IChainable, timeout: Duration,
  logEncryptionKey: kms.IKey | undefined): sfn.StateMachine {
  return new sfn.StateMachine(scope, id, {
    definitionBody: sfn.DefinitionBody.fromChainable(definition),
    queryLanguage: sfn.QueryLanguage.JSON_PATH,
    timeout,
    tracingEnabled: true,
    logs: {
      destination: new logs.LogGroup(scope, logId, { retention: logs.RetentionDays.ONE_MONTH, encryptionKey: logEncryptionKey }),
      level: sfn.LogLevel.ALL,
    },
  });
}

/** An alarm on a state machine's failed, timed-out and aborted runs (one in five minutes fires it). */
export function failedRunsAlarm(scope: Construct, stateMachine: sfn.StateMachine, description: string): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, 'FailureAlarm', {
    alarmDescription: description,
    metric: new cloudwatch.MathExpression({
      expression: 'failed + timedOut + aborted',
      usingMetrics: {
        failed: stateMachine.metricFailed({ statistic: 'Sum' }),
        timedOut: stateMachine.metricTimedOut({ statistic: 'Sum' }),
        aborted: stateMachine.metricAborted({ statistic: 'Sum' }),
      },
      period: Duration.minutes(5),
      label: 'Failed, timed-out and aborted runs',
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/** A workflow's default topic: encrypted with the AWS managed key for SNS, TLS enforced. */
export function workflowTopic(scope: Construct, displayName: string): sns.Topic {
  return new sns.Topic(scope, 'Notifications', {
    displayName,
    enforceSSL: true,
    masterKey: kms.Alias.fromAliasName(scope, 'SnsKey', 'alias/aws/sns'),
  });
}

/**
 * The workflow's log key, with the key policy statement CloudWatch Logs needs to use it when the key
 * is defined in the app (CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS
 * KMS"). Scoped to the log groups of the stack's account and region: naming the group itself would
 * make the key and the group depend on each other.
 */
export function logKey(scope: Construct, key: kms.IKey | undefined): kms.IKey | undefined {
  if (!key) return undefined;
  const stack = Stack.of(scope);
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
    },
  }), true);
  return key;
}

/**
 * The names Step Functions gives an AWS SDK integration's errors: `<Service>.<Name>Exception`. The
 * ElastiCache API reference names its errors `...Fault` (wire codes drop it); both spellings are
 * listed, since the documentation says the `Exception` suffix is added either way.
 */
export function sdkErrors(service: string, ...codes: string[]): string[] {
  return codes.flatMap((code) => {
    const base = code.replace(/Fault$/, '');
    return [`${service}.${base}Exception`, `${service}.${base}FaultException`];
  });
}

/** Publishing is retried: a notification lost to throttling would hide the failure it reports. */
export function publishRetry(): sfn.RetryProps {
  return { errors: [sfn.Errors.TASKS_FAILED], interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 3 };
}

/** `checks` waits of `wait`, for people. */
export function humanDuration(wait: Duration, checks: number): string {
  return Duration.seconds(wait.toSeconds() * checks).toHumanString();
}

export function throttlingRetry(): sfn.RetryProps {
  return {
    // Throttling is not a modeled ElastiCache error: it may surface as the service's generic
    // exception too. Five tries of that are harmless for the other errors it could be.
    errors: [...sdkErrors('ElastiCache', 'Throttling'), 'ElastiCache.ElastiCacheException'],
    interval: Duration.seconds(10),
    backoffRate: 2,
    maxAttempts: 5,
    jitterStrategy: sfn.JitterType.FULL,
  };
}

