import { Token } from 'aws-cdk-lib';

/**
 * ElastiCache accepts ports 1024 to 65535 for a replication group (the range the library has always
 * enforced; the API reference's Port parameter does not state it, not confirmed in the
 * documentation stored here). A token is not checked.
 */
export function checkPort(port: number): void {
  if (Token.isUnresolved(port)) {
    return;
  }
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    throw new Error(`port is ${port}; ElastiCache accepts ports 1024 to 65535`);
  }
}
