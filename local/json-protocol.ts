/**
 * The request side of the AWS JSON protocols (1.0 and 1.1) that SSM, Secrets Manager and CloudWatch
 * speak: the operation named in `X-Amz-Target` (`<prefix>.<Operation>`), and a body that must be a
 * JSON object (empty: `{}`); anything else is the services' `SerializationException`.
 */
export function jsonRequest(
  targetPrefix: string, target: string | undefined, body: string, error: (code: string, message: string) => Error,
): { operation: string | undefined; input: Record<string, any> } {
  const match = new RegExp(`^${targetPrefix.replace(/\./g, '\\.')}\\.([A-Za-z]+)$`).exec(target ?? '');
  let input: unknown;
  try {
    input = body.trim() === '' ? {} : JSON.parse(body);
  } catch {
    throw error('SerializationException', 'Start of structure or map found where not expected.');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw error('SerializationException', 'Start of structure or map found where not expected.');
  }
  return { operation: match?.[1], input: input as Record<string, any> };
}
