/**
 * AWS::S3::Bucket: created and configured through the S3 API, as CloudFormation does.
 * Update behaviours from the resource reference (CloudFormation User Guide, AWS::S3::Bucket):
 * BucketName requires replacement; the configurations update without interruption.
 */
import {
  CreateBucketCommand, DeleteBucketCommand, DeleteBucketLifecycleCommand, DeleteBucketReplicationCommand, DeletePublicAccessBlockCommand,
  PutBucketEncryptionCommand, PutBucketLifecycleConfigurationCommand, PutBucketOwnershipControlsCommand, PutBucketReplicationCommand,
  PutBucketVersioningCommand, PutPublicAccessBlockCommand, S3Client,
} from '@aws-sdk/client-s3';
import { bool, int, ResourceContext, ResourceFailure, ResourceHandler } from './types';
import { sameValue } from '../template';

/** Accepted without effect, and why (reported in the resource's event). */
const NO_EFFECT: Record<string, string> = {
  LoggingConfiguration: 'the local provider writes no server access logs',
  Tags: 'bucket tags are not stored',
};

export const s3Bucket: ResourceHandler = {
  properties: ['BucketName', 'VersioningConfiguration', 'BucketEncryption', 'OwnershipControls', 'ReplicationConfiguration',
    'PublicAccessBlockConfiguration', 'AccessControl', 'LifecycleConfiguration', ...Object.keys(NO_EFFECT)],
  replaceOn: ['BucketName'],
  nameProperty: 'BucketName',

  async create(ctx, props) {
    const name: string = props.BucketName ?? ctx.generatedName(63, true);
    checkAccessControl(props.AccessControl, props);
    await ctx.clients.s3.send(new CreateBucketCommand({
      Bucket: name,
      CreateBucketConfiguration: ctx.region === 'us-east-1' ? undefined : { LocationConstraint: ctx.region as any },
    }));
    await configure(ctx.clients.s3, name, {}, props);
    return { physicalId: name, attributes: attributes(ctx, name), notes: notes(props) };
  },

  async update(ctx, current, oldProps, props) {
    checkAccessControl(props.AccessControl, props);
    await configure(ctx.clients.s3, current.physicalId, oldProps, props);
    return { ...current, notes: notes(props) };
  },

  async delete(ctx, current) {
    // A bucket with objects fails to delete (BucketNotEmpty), as in CloudFormation.
    await ctx.clients.s3.send(new DeleteBucketCommand({ Bucket: current.physicalId })).catch((e) => {
      if (e.name !== 'NoSuchBucket') throw e;
    });
  },
};

function attributes(ctx: ResourceContext, name: string): Record<string, unknown> {
  return {
    Arn: `arn:aws:s3:::${name}`,
    DomainName: `${name}.s3.amazonaws.com`,
    RegionalDomainName: `${name}.s3.${ctx.region}.amazonaws.com`,
    DualStackDomainName: `${name}.s3.dualstack.${ctx.region}.amazonaws.com`,
    WebsiteURL: `http://${name}.s3-website-${ctx.region}.amazonaws.com`,
  };
}

function notes(props: Record<string, any>): string | undefined {
  const given = Object.keys(NO_EFFECT).filter((k) => props[k] !== undefined).map((k) => `${k} accepted without effect: ${NO_EFFECT[k]}`);
  if (props.AccessControl === 'LogDeliveryWrite') given.push('AccessControl LogDeliveryWrite accepted without effect: the local provider writes no server access logs');
  return given.length === 0 ? undefined : given.join('; ');
}

/**
 * The canned ACL: Private (the default every new bucket has) is emulated; LogDeliveryWrite (what CDK
 * sets on a bucket that receives server access logs) is accepted without effect, as the provider
 * writes no access logs. It grants the LogDelivery group WRITE and READ_ACP (S3 User Guide, "Access
 * control list (ACL) overview", Canned ACL), so S3 refuses it, like any ACL but the owner's, on a
 * bucket whose ObjectOwnership is BucketOwnerEnforced, the default of new buckets since April 2023
 * ("Controlling ownership of objects and disabling ACLs"): "The bucket does not allow ACLs".
 */
function checkAccessControl(value: unknown, props: Record<string, any> = {}): void {
  if (value === undefined || value === 'Private') return;
  if (value !== 'LogDeliveryWrite') {
    throw new ResourceFailure(`The local provider applies AccessControl Private or LogDeliveryWrite only, not ${JSON.stringify(value)}.`);
  }
  const ownership = props.OwnershipControls?.Rules?.[0]?.ObjectOwnership ?? 'BucketOwnerEnforced';
  if (ownership === 'BucketOwnerEnforced') {
    throw new ResourceFailure('The bucket does not allow ACLs (AccessControl LogDeliveryWrite needs OwnershipControls ObjectWriter or BucketOwnerPreferred)');
  }
}

/** Applies each configuration that differs from `old` (all of them for a new bucket). */
async function configure(s3: S3Client, name: string, old: Record<string, any>, props: Record<string, any>): Promise<void> {
  // What is given (or was given before): a property never given leaves S3's default alone.
  const changed = (key: string) => !sameValue(old[key], props[key]) && (old[key] !== undefined || props[key] !== undefined);
  if (changed('VersioningConfiguration')) {
    // Versioning cannot be turned off once on, only suspended.
    const status = props.VersioningConfiguration?.Status ?? 'Suspended';
    await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: status } }));
  }
  if (changed('BucketEncryption')) {
    const rules: any[] = props.BucketEncryption?.ServerSideEncryptionConfiguration ?? [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }];
    await s3.send(new PutBucketEncryptionCommand({
      Bucket: name,
      ServerSideEncryptionConfiguration: {
        Rules: rules.map((r) => {
          const sse = r.ServerSideEncryptionByDefault ?? {};
          return {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: sse.SSEAlgorithm, KMSMasterKeyID: sse.KMSMasterKeyID },
            BucketKeyEnabled: bool(r.BucketKeyEnabled),
          };
        }),
      },
    }));
  }
  if (changed('OwnershipControls')) {
    const ownership = props.OwnershipControls?.Rules?.[0]?.ObjectOwnership ?? 'BucketOwnerEnforced';
    await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: name, OwnershipControls: { Rules: [{ ObjectOwnership: ownership }] } }));
  }
  if (changed('PublicAccessBlockConfiguration')) {
    const p = props.PublicAccessBlockConfiguration;
    if (p) {
      await s3.send(new PutPublicAccessBlockCommand({
        Bucket: name,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: bool(p.BlockPublicAcls),
          BlockPublicPolicy: bool(p.BlockPublicPolicy),
          IgnorePublicAcls: bool(p.IgnorePublicAcls),
          RestrictPublicBuckets: bool(p.RestrictPublicBuckets),
        },
      }));
    } else {
      await s3.send(new DeletePublicAccessBlockCommand({ Bucket: name }));
    }
  }
  if (changed('LifecycleConfiguration')) {
    const rules: any[] | undefined = props.LifecycleConfiguration?.Rules;
    if (rules) {
      await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: name, LifecycleConfiguration: { Rules: rules.map(lifecycleRule) } }));
    } else {
      await s3.send(new DeleteBucketLifecycleCommand({ Bucket: name }));
    }
  }
  if (changed('ReplicationConfiguration')) {
    const rc = props.ReplicationConfiguration;
    if (rc) {
      await s3.send(new PutBucketReplicationCommand({
        Bucket: name,
        ReplicationConfiguration: {
          Role: rc.Role,
          Rules: rc.Rules.map((r: any) => ({
            ID: r.Id,
            Priority: int(r.Priority),
            Status: r.Status,
            Filter: { Prefix: r.Filter?.Prefix ?? r.Prefix ?? '' },
            DeleteMarkerReplication: r.DeleteMarkerReplication,
            Destination: { Bucket: r.Destination.Bucket },
          })),
        },
      }));
    } else {
      await s3.send(new DeleteBucketReplicationCommand({ Bucket: name }));
    }
  }
}

/** A lifecycle rule in CloudFormation's shape, in the S3 API's. */
function lifecycleRule(r: any): any {
  const days = (v: unknown) => int(v);
  return {
    ID: r.Id,
    Status: r.Status,
    Filter: { Prefix: r.Prefix ?? '' },
    Expiration: r.ExpirationInDays !== undefined || r.ExpirationDate !== undefined
      ? { Days: days(r.ExpirationInDays), Date: r.ExpirationDate ? new Date(r.ExpirationDate) : undefined } : undefined,
    NoncurrentVersionExpiration: r.NoncurrentVersionExpiration
      ? {
        NoncurrentDays: days(r.NoncurrentVersionExpiration.NoncurrentDays),
        NewerNoncurrentVersions: days(r.NoncurrentVersionExpiration.NewerNoncurrentVersions),
      }
      : r.NoncurrentVersionExpirationInDays !== undefined ? { NoncurrentDays: days(r.NoncurrentVersionExpirationInDays) } : undefined,
    AbortIncompleteMultipartUpload: r.AbortIncompleteMultipartUpload
      ? { DaysAfterInitiation: days(r.AbortIncompleteMultipartUpload.DaysAfterInitiation) } : undefined,
    Transitions: r.Transitions?.map((t: any) => ({ Days: days(t.TransitionInDays), StorageClass: t.StorageClass })),
  };
}
