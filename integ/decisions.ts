/**
 * What the example apps decide about cdk-nag's findings on their groups, each acknowledged on the
 * construct it is about, with why. A user's app makes (and words) these decisions itself.
 */
import { Validations } from 'aws-cdk-lib';
import { RedisReplicationGroup } from '../src';

export function acknowledgeGroupDecisions(...groups: RedisReplicationGroup[]): void {
  for (const group of groups) {
    Validations.of(group.cfnReplicationGroup).acknowledge({
      id: 'AwsSolutions-AEC5',
      reason: 'Port 6379 is kept so that clients work unchanged; access is limited by the security group, TLS and AUTH.',
    });
    Validations.of(group.secret!).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'A Redis AUTH token is rotated with a two-step ModifyReplicationGroup (ROTATE, then SET) that no rotation function performs yet; it is rotated by deploying a new secret.',
    });
  }
}
