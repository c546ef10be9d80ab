import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import { GROUP_ID_ENV } from './auth-token-rotation-contract';
import { handlerFunctionProps } from './handler-code';
import { acknowledgeComplianceFinding, acknowledgeFinding, acknowledgeInlinePolicy } from './nag';

export interface AuthTokenRotationProps {
  readonly secret: secretsmanager.ISecret;
  readonly rotation: Duration;
  readonly endpoints: boolean;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** The group's connections, with its port as the default port. */
  readonly groupConnections: ec2.Connections;
  readonly groupId: string;
  readonly groupArn: string;
  /** What the first rotation (run when the schedule is deployed) must wait for: the group. */
  readonly group: IDependable;
}

/**
 * The AUTH token's Secrets Manager rotation function (lambda/handlers/auth-token-rotation.ts) and
 * its schedule. The function runs in the group's subnets, since it signs in to the nodes to test the
 * new token, with a security group of its own that the group's security group lets in on its port.
 */
export class AuthTokenRotation extends Construct {
  public readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: AuthTokenRotationProps) {
    super(scope, id);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `AUTH token rotation of ${scope.node.path}`,
      allowAllOutbound: false,
    });
    // To the nodes, to test the new token and to check the old one (AUTH, PING).
    securityGroup.connections.allowTo(props.groupConnections, props.groupConnections.defaultPort!, 'AUTH token rotation signs in to the nodes');
    const subnets = props.vpc.selectSubnets(props.vpcSubnets);
    if (props.endpoints) {
      for (const [name, service] of [['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER], ['ElastiCache', ec2.InterfaceVpcEndpointAwsService.ELASTICACHE]] as const) {
        const endpoint = new ec2.InterfaceVpcEndpoint(this, `${name}Endpoint`, { vpc: props.vpc, service, subnets: props.vpcSubnets, privateDnsEnabled: true, open: false });
        endpoint.connections.allowDefaultPortFrom(securityGroup, `AUTH token rotation calls the ${name} API`);
      }
    } else {
      // The Secrets Manager and ElastiCache APIs (HTTPS), through whatever route the subnets have.
      securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AUTH token rotation calls the Secrets Manager and ElastiCache APIs');
    }

    this.function = new lambda.Function(this, 'Function', {
      ...handlerFunctionProps('rotation'),
      handler: 'index.handler',
      description: `cdk-elasticache-backup: AUTH token rotation of ${props.groupId}`,
      environment: { ...handlerFunctionProps('rotation').environment, [GROUP_ID_ENV]: props.groupId },
      vpc: props.vpc,
      vpcSubnets: { subnets: subnets.subnets },
      securityGroups: [securityGroup],
      // Two token changes, each waiting for the group to be available again (minutes each).
      timeout: Duration.minutes(15),
      logGroup: new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH }),
    });
    // ModifyReplicationGroup (AuthToken with ROTATE, then SET) and DescribeReplicationGroups (status,
    // endpoints), on this group only: both are authorized on the replicationgroup resource.
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['elasticache:ModifyReplicationGroup', 'elasticache:DescribeReplicationGroups'],
      resources: [props.groupArn],
    }));
    // The schedule grants the secret's own actions (DescribeSecret, GetSecretValue, PutSecretValue,
    // UpdateSecretVersionStage on this secret), GetRandomPassword, KMS through Secrets Manager when
    // the secret has a key, and Secrets Manager's invocation of the function.
    const schedule = props.secret.addRotationSchedule('Rotation', { rotationLambda: this.function, automaticallyAfter: props.rotation });
    // The first rotation runs as soon as the schedule is created: the group must exist by then.
    schedule.node.addDependency(props.group);
    this.acknowledge();
  }

  private acknowledge(): void {
    const fn = this.function;
    const policy = fn.role!.node.tryFindChild('DefaultPolicy') ?? fn.role!;
    acknowledgeFinding(fn, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'AWSLambdaBasicExecutionRole only lets the function write its logs to CloudWatch Logs.');
    acknowledgeFinding(fn, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      'AWSLambdaVPCAccessExecutionRole lets Lambda create and delete the network interfaces of a function in a VPC, which this one must be in to reach the nodes.');
    acknowledgeFinding(policy, 'AwsSolutions-IAM5[Resource::*]',
      'secretsmanager:GetRandomPassword acts on no resource (Secrets Manager\'s service authorization reference lists none), so its statement can only name "*".');
    acknowledgeComplianceFinding(fn.node.defaultChild!, 'LambdaDLQ', 'Invoked synchronously by Secrets Manager, which records a failed rotation step and '
      + 'retries the rotation; a dead-letter queue only ever receives events of asynchronous invocations (AWS Lambda developer guide, "Asynchronous invocation").');
    acknowledgeComplianceFinding(fn.node.defaultChild!, 'LambdaConcurrency', 'Reserved concurrency is taken from the account\'s regional pool, which must keep '
      + 'at least 100 unreserved executions (Lambda PutFunctionConcurrency); the function runs once per step of one secret\'s rotation, which bounds it.');
    acknowledgeInlinePolicy(fn.role!);
    const logGroup = this.node.findChild('Logs');
    acknowledgeComplianceFinding(logGroup.node.defaultChild ?? logGroup, 'CloudWatchLogGroupEncrypted', 'CloudWatch Logs encrypts these logs at rest with keys it '
      + 'manages. They hold the rotation steps\' errors (group id, secret ARN, statuses), never a token.');
  }
}
