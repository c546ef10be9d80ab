/**
 * Who may do what on a bucket or object, as S3 decides it for another AWS service acting on a
 * customer's bucket: by an ACL grant to a canonical user, or by a bucket policy statement naming a
 * service principal. The ElastiCache emulator asks these when it exports to or seeds from S3.
 */
import { Bucket, Grant, Permission } from './store';

/** Whether `acl` grants the canonical user `id` the permission (FULL_CONTROL grants every one). */
export function aclGrants(acl: readonly Grant[], id: string, permission: Permission): boolean {
  return acl.some((g) => g.id === id && (g.permission === permission || g.permission === 'FULL_CONTROL'));
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)];
}

/**
 * Whether the bucket policy has Allow statements for the service principal covering every action
 * given (exact names, `s3:*`, `*` or a trailing-`*` prefix). Deny statements, conditions and
 * resources are not evaluated (the emulated services only need the grant to be there).
 */
export function policyAllowsService(bucket: Bucket, servicePrincipal: string, actions: readonly string[]): boolean {
  if (!bucket.policy) return false;
  let statements: any[];
  try {
    const doc = JSON.parse(bucket.policy);
    statements = list(doc.Statement).length ? (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) : [];
  } catch {
    return false;
  }
  const allowed = statements
    .filter((st) => st.Effect === 'Allow' && list(st.Principal?.Service).includes(servicePrincipal))
    .flatMap((st) => list(st.Action));
  const matches = (action: string) => allowed.some((a) => a === action || a === 's3:*' || a === '*'
    || (a.endsWith('*') && action.startsWith(a.slice(0, -1))));
  return actions.every(matches);
}
