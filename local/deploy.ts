/**
 * A small CloudFormation deployer for the local provider: it creates what a synthesized template
 * of this library declares, through the real AWS SDK clients, so the workflows CDK synthesized can
 * run against it.
 *
 * Deployed for real: `AWS::S3::Bucket` (versioning, default encryption, object ownership,
 * replication), `AWS::S3::BucketPolicy`, `AWS::ElastiCache::ReplicationGroup` (with its declared
 * snapshot settings), and every `Custom::*` resource of this library, through the bundled handlers'
 * own `onEvent` / `isComplete` (as the Provider framework calls them).
 * Recorded only (names and ARNs, so references resolve): everything else (IAM, Lambda, logs, SNS,
 * Step Functions, EventBridge, networking), since the local provider does not emulate those services.
 */
import {
  CreateReplicationGroupCommand, ElastiCacheClient, ModifyReplicationGroupCommand,
} from '@aws-sdk/client-elasticache';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import {
  CreateBucketCommand, PutBucketEncryptionCommand, PutBucketOwnershipControlsCommand, PutBucketPolicyCommand, PutBucketReplicationCommand,
  PutBucketVersioningCommand, S3Client,
} from '@aws-sdk/client-s3';
import { until } from './poll';
import { LocalProvider } from './provider';
import { groupAvailable } from './waiters';

/** The Provider framework's two entry points, as the bundled handlers export them. */
export interface CustomResourceHandlers {
  onEvent(event: unknown): Promise<any>;
  isComplete(event: unknown): Promise<any>;
}

export interface DeployOptions {
  readonly stackName: string;
  readonly region: string;
  readonly account?: string;
  /** Runs `Custom::*` resources; without it, a template with custom resources is refused. */
  readonly customResources?: CustomResourceHandlers;
}

class NotReady extends Error {}

/** A deployed stack: physical ids and attributes of its resources, and a resolver for its intrinsics. */
export class Deployment {
  public readonly refs = new Map<string, string>();
  public readonly attrs = new Map<string, string>();
  /** Resources recorded only: any attribute of theirs resolves to a placeholder. */
  public readonly recorded = new Set<string>();

  constructor(public readonly template: any, public readonly stackName: string, public readonly region: string, public readonly account: string) {}

  /** Resolves CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split, Fn::Sub) against what is deployed. */
  public resolve(value: any): any {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [k] = keys;
      const arg = value[k];
      switch (k) {
        case 'Ref': return this.ref(arg);
        case 'Fn::GetAtt': {
          const [id, attr] = Array.isArray(arg) ? arg : String(arg).split(/\.(.+)/);
          const v = this.attrs.get(`${id}.${attr}`) ?? (this.recorded.has(id) ? `${id}.${attr}` : undefined);
          if (v === undefined) throw new NotReady(`${id}.${attr}`);
          return v;
        }
        case 'Fn::Join': {
          const [sep, parts] = arg;
          return this.resolve(parts).join(sep);
        }
        case 'Fn::Select': return this.resolve(arg[1])[Number(this.resolve(arg[0]))];
        case 'Fn::Split': return String(this.resolve(arg[1])).split(arg[0]);
        case 'Fn::Sub': {
          const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
          const own = this.resolve(vars ?? {});
          return String(text).replace(/\$\{([^}]+)\}/g, (_, name: string) => {
            if (name in own) return own[name];
            return name.includes('.') ? this.resolve({ 'Fn::GetAtt': name }) : this.ref(name);
          });
        }
        default:
          if (k.startsWith('Fn::')) throw new Error(`the local deployer does not resolve ${k}`);
      }
    }
    return Object.fromEntries(keys.map((k) => [k, this.resolve(value[k])]));
  }

  private ref(id: string): string {
    switch (id) {
      case 'AWS::Partition': return 'aws';
      case 'AWS::Region': return this.region;
      case 'AWS::AccountId': return this.account;
      case 'AWS::URLSuffix': return 'amazonaws.com';
      case 'AWS::StackName': return this.stackName;
      case 'AWS::NoValue': return undefined as any;
    }
    const v = this.refs.get(id);
    if (v === undefined) throw new NotReady(id);
    return v;
  }

  /** The logical id of the resource whose `Fn::GetAtt ... Arn` is `arn`. */
  public logicalIdOfArn(arn: string): string | undefined {
    for (const [key, value] of this.attrs) {
      if (value === arn && key.endsWith('.Arn')) return key.slice(0, -'.Arn'.length);
    }
    return undefined;
  }
}

/** Deploys a synthesized stack template into the local provider, in dependency order. */
export async function deployStack(provider: LocalProvider, template: any, options: DeployOptions): Promise<Deployment> {
  const d = new Deployment(template, options.stackName, options.region, options.account ?? '000000000000');
  const clientOptions = { region: options.region, endpoint: provider.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const s3 = new S3Client({ ...clientOptions, forcePathStyle: true });
  const ec = new ElastiCacheClient(clientOptions);
  try {
    const pending = new Map(Object.entries<any>(template.Resources ?? {}));
    while (pending.size > 0) {
      let progress = false;
      for (const [id, resource] of pending) {
        if ((resource.DependsOn ? [].concat(resource.DependsOn) : []).some((dep: string) => pending.has(dep))) continue;
        let props: any;
        try {
          props = needsProperties(resource.Type) ? d.resolve(resource.Properties ?? {}) : {};
        } catch (e) {
          if (e instanceof NotReady) continue;
          throw e;
        }
        await deployResource(d, id, resource.Type, props, { s3, ec, options, provider });
        pending.delete(id);
        progress = true;
      }
      if (!progress) {
        throw new Error(`cannot deploy ${[...pending.keys()].join(', ')}: they refer to resources that are not in the stack or not deployed`);
      }
    }
  } finally {
    s3.destroy();
    ec.destroy();
  }
  return d;
}

function needsProperties(type: string): boolean {
  return type === 'AWS::S3::Bucket' || type === 'AWS::S3::BucketPolicy' || type === 'AWS::ElastiCache::ReplicationGroup'
    || type === 'AWS::Route53::HostedZone' || type.startsWith('Custom::');
}

interface Clients {
  readonly provider: LocalProvider;
  readonly s3: S3Client;
  readonly ec: ElastiCacheClient;
  readonly options: DeployOptions;
}

async function deployResource(d: Deployment, id: string, type: string, props: any, c: Clients): Promise<void> {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${d.region}:${d.account}:${resource}`;
  switch (type) {
    case 'AWS::S3::Bucket': {
      const name: string = props.BucketName ?? `${d.stackName}-${id}`.toLowerCase().replace(/[^a-z0-9-]/g, '').slice(0, 63);
      await c.s3.send(new CreateBucketCommand({
        Bucket: name,
        CreateBucketConfiguration: d.region === 'us-east-1' ? undefined : { LocationConstraint: d.region as any },
      }));
      if (props.VersioningConfiguration) {
        await c.s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: props.VersioningConfiguration.Status } }));
      }
      const sse = props.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault;
      if (sse) {
        await c.s3.send(new PutBucketEncryptionCommand({
          Bucket: name,
          ServerSideEncryptionConfiguration: {
            Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: sse.SSEAlgorithm, KMSMasterKeyID: sse.KMSMasterKeyID } }],
          },
        }));
      }
      const ownership = props.OwnershipControls?.Rules?.[0]?.ObjectOwnership;
      if (ownership) {
        await c.s3.send(new PutBucketOwnershipControlsCommand({ Bucket: name, OwnershipControls: { Rules: [{ ObjectOwnership: ownership }] } }));
      }
      if (props.ReplicationConfiguration) {
        const rc = props.ReplicationConfiguration;
        await c.s3.send(new PutBucketReplicationCommand({
          Bucket: name,
          ReplicationConfiguration: {
            Role: rc.Role,
            Rules: rc.Rules.map((r: any) => ({
              ID: r.Id,
              Priority: r.Priority,
              Status: r.Status,
              Filter: { Prefix: r.Filter?.Prefix ?? r.Prefix ?? '' },
              DeleteMarkerReplication: r.DeleteMarkerReplication,
              Destination: { Bucket: r.Destination.Bucket },
            })),
          },
        }));
      }
      d.refs.set(id, name);
      d.attrs.set(`${id}.Arn`, `arn:aws:s3:::${name}`);
      return;
    }
    case 'AWS::S3::BucketPolicy':
      await c.s3.send(new PutBucketPolicyCommand({ Bucket: props.Bucket, Policy: JSON.stringify(props.PolicyDocument) }));
      d.refs.set(id, props.Bucket);
      return;
    case 'AWS::ElastiCache::ReplicationGroup': {
      const groupId: string = props.ReplicationGroupId ?? `${d.stackName}-${id}`.toLowerCase().slice(0, 40);
      const clustered = props.ClusterMode === 'enabled' || (props.NumNodeGroups ?? 1) > 1;
      await c.ec.send(new CreateReplicationGroupCommand({
        ReplicationGroupId: groupId,
        ReplicationGroupDescription: props.ReplicationGroupDescription,
        CacheNodeType: props.CacheNodeType,
        Engine: props.Engine,
        EngineVersion: props.EngineVersion,
        ...(clustered
          ? { ClusterMode: 'enabled', NumNodeGroups: props.NumNodeGroups, ReplicasPerNodeGroup: props.ReplicasPerNodeGroup }
          : { NumCacheClusters: props.NumCacheClusters }),
        AutomaticFailoverEnabled: props.AutomaticFailoverEnabled,
        MultiAZEnabled: props.MultiAZEnabled,
        SnapshotRetentionLimit: props.SnapshotRetentionLimit,
        SnapshotWindow: props.SnapshotWindow,
        PreferredMaintenanceWindow: props.PreferredMaintenanceWindow,
        SnapshotArns: props.SnapshotArns,
        SnapshotName: props.SnapshotName,
        // With transit encryption the group's nodes speak TLS only, as the template's readers expect.
        TransitEncryptionEnabled: literalBoolean(props.TransitEncryptionEnabled),
        AtRestEncryptionEnabled: literalBoolean(props.AtRestEncryptionEnabled),
      }));
      const available = () => groupAvailable(c.ec, groupId);
      let group = await available();
      if (props.SnapshottingClusterId) {
        // CreateReplicationGroup has no SnapshottingClusterId: CloudFormation sets it with a modify.
        await c.ec.send(new ModifyReplicationGroupCommand({
          ReplicationGroupId: groupId, SnapshottingClusterId: props.SnapshottingClusterId, ApplyImmediately: true,
        }));
        group = await available();
      }
      d.refs.set(id, groupId);
      const primary = group.NodeGroups?.[0]?.PrimaryEndpoint ?? group.ConfigurationEndpoint;
      d.attrs.set(`${id}.PrimaryEndPoint.Address`, primary?.Address ?? '');
      d.attrs.set(`${id}.PrimaryEndPoint.Port`, String(primary?.Port ?? ''));
      d.attrs.set(`${id}.ConfigurationEndPoint.Address`, group.ConfigurationEndpoint?.Address ?? '');
      return;
    }
    case 'AWS::Route53::HostedZone': {
      // Route 53 is global: its API is signed for us-east-1 whatever the stack's region.
      const r53 = new Route53Client({ region: 'us-east-1', endpoint: c.provider.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      try {
        const vpc = props.VPCs?.[0];
        const zone = await r53.send(new CreateHostedZoneCommand({
          Name: props.Name,
          CallerReference: `${d.stackName}-${id}`,
          HostedZoneConfig: { Comment: props.HostedZoneConfig?.Comment, PrivateZone: vpc !== undefined },
          VPC: vpc ? { VPCId: String(vpc.VPCId), VPCRegion: vpc.VPCRegion } : undefined,
        }));
        const zoneId = zone.HostedZone!.Id!.replace('/hostedzone/', '');
        d.refs.set(id, zoneId);
        d.attrs.set(`${id}.Id`, zoneId);
        d.attrs.set(`${id}.Arn`, `arn:aws:route53:::hostedzone/${zoneId}`);
      } finally {
        r53.destroy();
      }
      return;
    }
    default:
      break;
  }
  if (type.startsWith('Custom::')) {
    if (!c.options.customResources) {
      throw new Error(`${id} is a ${type}; give deployStack the custom resource handlers`);
    }
    const { ServiceToken: _token, ...properties } = props;
    const event = {
      RequestType: 'Create',
      ResourceType: type,
      LogicalResourceId: id,
      ResourceProperties: properties,
      StackId: arn('cloudformation', `stack/${d.stackName}/local`),
      RequestId: `local-${id}`,
    };
    // The handlers run in the stack's region, as the stack's functions do in AWS.
    const inRegion = async <T>(call: () => Promise<T>): Promise<T> => {
      const saved = process.env.AWS_REGION;
      process.env.AWS_REGION = d.region;
      try {
        return await call();
      } finally {
        process.env.AWS_REGION = saved;
      }
    };
    const out = await inRegion(() => c.options.customResources!.onEvent(event));
    const done = await until(`${id} complete`, async () => {
      // As the Provider framework does: every key of onEvent's answer (e.g. the deadline) reaches isComplete.
      const r = await inRegion(() => c.options.customResources!.isComplete({ ...event, ...out, PhysicalResourceId: out.PhysicalResourceId }));
      return r.IsComplete ? r : undefined;
    }, 600_000);
    d.refs.set(id, out.PhysicalResourceId);
    for (const [k, v] of Object.entries({ ...out.Data, ...done.Data })) d.attrs.set(`${id}.${k}`, String(v));
    return;
  }
  // Recorded only: a name and an ARN in the shape the service uses.
  const service = type.split('::')[1]?.toLowerCase() ?? 'unknown';
  const recorded: Record<string, [ref: string, arn: string]> = {
    'AWS::Lambda::Function': [id, arn('lambda', `function:${id}`)],
    'AWS::SNS::Topic': [arn('sns', id), arn('sns', id)],
    'AWS::StepFunctions::StateMachine': [arn('states', `stateMachine:${id}`), arn('states', `stateMachine:${id}`)],
    'AWS::IAM::Role': [id, `arn:aws:iam::${d.account}:role/${id}`],
    'AWS::Logs::LogGroup': [id, arn('logs', `log-group:${id}:*`)],
  };
  const [ref, resourceArn] = recorded[type] ?? [id, arn(service, id)];
  d.refs.set(id, ref);
  d.attrs.set(`${id}.Arn`, resourceArn);
  d.recorded.add(id);
}

/** A template's boolean property when it is a literal (CloudFormation takes `true` and `"true"`); otherwise unset. */
function literalBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  return undefined;
}
