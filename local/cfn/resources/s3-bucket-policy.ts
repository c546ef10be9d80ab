/**
 * AWS::S3::BucketPolicy: the policy is stored on the bucket (the local provider evaluates only the
 * statements its services check, e.g. ElastiCache's export grants; a Deny on insecure transport is
 * kept, not enforced: the emulator speaks HTTP). Bucket requires replacement (resource reference).
 */
import { DeleteBucketPolicyCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { ResourceHandler } from './types';

export const s3BucketPolicy: ResourceHandler = {
  properties: ['Bucket', 'PolicyDocument'],
  replaceOn: ['Bucket'],

  async create(ctx, props) {
    await ctx.clients.s3.send(new PutBucketPolicyCommand({ Bucket: props.Bucket, Policy: JSON.stringify(props.PolicyDocument) }));
    // The physical id CloudFormation gives a bucket policy is its own generated id (unverified);
    // the bucket's name keeps it readable.
    return { physicalId: props.Bucket, attributes: {} };
  },

  async update(ctx, current, _old, props) {
    await ctx.clients.s3.send(new PutBucketPolicyCommand({ Bucket: props.Bucket, Policy: JSON.stringify(props.PolicyDocument) }));
    return current;
  },

  async delete(ctx, current) {
    await ctx.clients.s3.send(new DeleteBucketPolicyCommand({ Bucket: current.physicalId })).catch((e) => {
      if (e.name !== 'NoSuchBucket') throw e;
    });
  },
};
