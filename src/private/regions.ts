/**
 * Where ElastiCache exports differ by region (ELASTICACHE-FACTS.md, "Export").
 */

/** The canonical user ElastiCache writes exports as, in regions launched before 2019-03-20. */
export const ELASTICACHE_CANONICAL_ID = '540804c33a284a299d2547575ce1010f2312ef3da9b3a053c8bc45bf233e4353';

/**
 * Opt-in regions (launched after 2019-03-20): ElastiCache writes there as the regional service
 * principal `<region>.elasticache-snapshot.amazonaws.com`, granted by a bucket policy.
 */
export const OPT_IN_REGIONS: ReadonlySet<string> = new Set([
  'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-south-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-7',
  'ca-west-1', 'eu-central-2', 'eu-south-1', 'eu-south-2', 'il-central-1', 'me-central-1', 'me-south-1', 'mx-central-1',
]);

/** What the regional service principal needs on the bucket, in opt-in regions. */
export const SERVICE_PRINCIPAL_BUCKET_ACTIONS = ['s3:ListBucket', 's3:GetBucketAcl', 's3:ListBucketMultipartUploads'];
export const SERVICE_PRINCIPAL_OBJECT_ACTIONS = ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts'];

/** The ACL permissions the canonical user needs: list and write objects, read and write the bucket ACL. */
export const CANONICAL_USER_PERMISSIONS = ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP'] as const;
