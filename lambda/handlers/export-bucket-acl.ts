/**
 * The custom resource handler that lets ElastiCache write exports into a `SnapshotExportBucket` in
 * regions launched before 2019-03-20: it adds ACL grants for ElastiCache's canonical user to the
 * bucket's ACL, keeping every grant already there (the owner's full control above all).
 *
 * - Create / Update: read the ACL, add the missing grants, write it back. Running twice changes
 *   nothing the second time.
 * - Delete: remove the grants again (the bucket may be retained; it then no longer admits
 *   ElastiCache). A bucket that is already gone is fine.
 */
import { GetBucketAclCommand, Grant, Permission, PutBucketAclCommand } from '@aws-sdk/client-s3';
import { s3 } from './clients';
import { ExportBucketAclResourceProperties } from '../../src/private/export-bucket-contract';

export interface AclEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: ExportBucketAclResourceProperties & { ServiceToken?: string };
  readonly OldResourceProperties?: ExportBucketAclResourceProperties & { ServiceToken?: string };
}

function isGrantTo(g: Grant, id: string, permissions: readonly string[]): boolean {
  return g.Grantee?.Type === 'CanonicalUser' && g.Grantee.ID === id && permissions.includes(g.Permission ?? '');
}

/** Rewrites the bucket's ACL as `change` says, keeping its owner and every other grant. */
async function rewriteAcl(bucket: string, change: (grants: Grant[]) => Grant[]): Promise<void> {
  const acl = await s3().send(new GetBucketAclCommand({ Bucket: bucket }));
  const before = acl.Grants ?? [];
  const after = change(before);
  if (after.length === before.length && after.every((g, i) => g === before[i])) {
    return;
  }
  await s3().send(new PutBucketAclCommand({ Bucket: bucket, AccessControlPolicy: { Owner: acl.Owner, Grants: after } }));
}

async function grant(props: ExportBucketAclResourceProperties): Promise<void> {
  await rewriteAcl(props.BucketName, (grants) => {
    const missing = props.Permissions.filter((p) => !grants.some((g) => isGrantTo(g, props.CanonicalUserId, [p])));
    return [...grants, ...missing.map((p): Grant => ({ Grantee: { Type: 'CanonicalUser', ID: props.CanonicalUserId }, Permission: p as Permission }))];
  });
}

async function revoke(props: ExportBucketAclResourceProperties): Promise<void> {
  try {
    await rewriteAcl(props.BucketName, (grants) => grants.filter((g) => !isGrantTo(g, props.CanonicalUserId, props.Permissions)));
  } catch (e) {
    if ((e as { name?: string }).name !== 'NoSuchBucket') throw e;
  }
}

export async function onEvent(event: AclEvent): Promise<{ PhysicalResourceId: string }> {
  const props = event.ResourceProperties;
  switch (event.RequestType) {
    case 'Create':
      await grant(props);
      return { PhysicalResourceId: `${props.BucketName}/acl/${props.CanonicalUserId}` };
    case 'Update': {
      await grant(props);
      const id = `${props.BucketName}/acl/${props.CanonicalUserId}`;
      // Another bucket (or grantee) is a new physical resource: CloudFormation then deletes the
      // old one, which revokes the old grants.
      return { PhysicalResourceId: id };
    }
    case 'Delete':
      await revoke(props);
      return { PhysicalResourceId: event.PhysicalResourceId! };
    default:
      throw new Error(`unknown request type ${(event as { RequestType: string }).RequestType}`);
  }
}

/** Granting is done in onEvent; there is nothing to wait for. */
export async function isComplete(): Promise<{ IsComplete: boolean }> {
  return { IsComplete: true };
}
