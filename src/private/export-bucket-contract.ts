/**
 * The contract between `SnapshotExportBucket` and the handler that grants ElastiCache's canonical
 * user access to the bucket through its ACL (lambda/handlers/export-bucket-acl.ts). CloudFormation
 * can only set canned ACLs on a bucket, not a grant to one canonical user, hence the custom resource.
 */
export interface ExportBucketAclResourceProperties {
  /** The bucket to grant on. */
  readonly BucketName: string;
  /** The canonical user id to grant to. */
  readonly CanonicalUserId: string;
  /** The ACL permissions to grant (READ, WRITE, READ_ACP, WRITE_ACP). */
  readonly Permissions: string[];
}
