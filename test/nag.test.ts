import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { ElastiCacheEngine, RedisAuthentication, RedisReplicationGroup, ValkeyEngineVersion } from '../src';
import { newStack } from './util';

/** The findings of a pack as `rule id: construct path` lines, sorted. */
function findings(pack: NagPack, scope: Stack): string[] {
  const report = pack.validateScope(scope);
  const lines = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName}: ${r.constructPath}`));
  expect(report.success).toBe(lines.length === 0);
  return lines.sort();
}

function defaultGroup(): { stack: Stack; group: RedisReplicationGroup } {
  const { stack, vpc } = newStack();
  const group = new RedisReplicationGroup(stack, 'Cache', { vpc, nodeType: 'cache.r7g.large' });
  return { stack, group };
}

const PORT = 'Port 6379 is kept so that clients and tooling work unchanged; a port number is not a control. Access is limited by the security group (no inbound rule by default), TLS and AUTH.';
const ROTATION = 'Rotating a Redis AUTH token takes a two-step ModifyReplicationGroup (ROTATE, then SET) that no Secrets Manager rotation function performs yet; the token is rotated by deploying a new secret.';
const SECRET_KEY = 'The token secret uses the AWS managed key; RedisAuthentication.authToken({ encryptionKey }) gives it a customer managed key where one is required.';
const FIXTURE = 'The VPC is a test fixture, not part of the library.';

type Ack = [target: (stack: Stack, group: RedisReplicationGroup) => IConstruct, rule: string, reason: string];
const onGroup = (_: Stack, g: RedisReplicationGroup) => g.cfnReplicationGroup;
const onSecret = (_: Stack, g: RedisReplicationGroup) => g.secret!;
const onVpc = (s: Stack) => s.node.findChild('Vpc');

/** What a user of the default group acknowledges in a compliance pack, each on its own construct. */
const complianceAcks = (prefix: string): Ack[] => [
  [onSecret, `${prefix}-SecretsManagerRotationEnabled`, ROTATION],
  [onSecret, `${prefix}-SecretsManagerUsingKMSKey`, SECRET_KEY],
  [onVpc, `${prefix}-CloudWatchLogGroupEncrypted`, FIXTURE],
  [onVpc, `${prefix}-IAMNoInlinePolicy`, FIXTURE],
  [onVpc, `${prefix}-VPCDefaultSecurityGroupClosed`, FIXTURE],
];

const complianceFindings = (prefix: string) => [
  `${prefix}-CloudWatchLogGroupEncrypted: Stack/Vpc/all/LogGroup/Resource`,
  `${prefix}-IAMNoInlinePolicy: Stack/Vpc/all/IAMRole/DefaultPolicy/Resource`,
  `${prefix}-SecretsManagerRotationEnabled: Stack/Cache/AuthToken/Resource`,
  `${prefix}-SecretsManagerUsingKMSKey: Stack/Cache/AuthToken/Resource`,
  `${prefix}-VPCDefaultSecurityGroupClosed: Stack/Vpc/Resource`,
];

const packs: Array<[string, (s: Stack) => NagPack, string[], Ack[]]> = [
  ['AwsSolutions', (s) => new AwsSolutionsChecks(s), [
    'AwsSolutions-AEC5: Stack/Cache/Resource',
    'AwsSolutions-SMG4: Stack/Cache/AuthToken/Resource',
  ], [
    [onGroup, 'AwsSolutions-AEC5', PORT],
    [onSecret, 'AwsSolutions-SMG4', ROTATION],
  ]],
  ['HIPAA Security', (s) => new HIPAASecurityChecks(s), complianceFindings('HIPAA.Security'), complianceAcks('HIPAA.Security')],
  ['NIST 800-53 rev 5', (s) => new NIST80053R5Checks(s), complianceFindings('NIST.800.53.R5'), complianceAcks('NIST.800.53.R5')],
];

describe.each(packs)('%s', (_name, make, expected, acks) => {
  test('the default group raises only the findings a user must decide on', () => {
    // Backups (15 days), Multi-AZ, encryption at rest and in transit, AUTH, VPC placement and a
    // closed security group all pass; what is left is listed, so a new finding fails the test.
    const { stack } = defaultGroup();
    expect(findings(make(stack), stack)).toEqual(expected);
  });

  test('with those findings acknowledged on their own constructs, the pack passes', () => {
    const { stack, group } = defaultGroup();
    for (const [target, id, reason] of acks) {
      // The bare rule id: cdk-nag's own check (validateScope) matches only that form, while the
      // CDK validation report also offers '<pack>::<rule>'.
      Validations.of(target(stack, group)).acknowledge({ id, reason });
    }
    expect(findings(make(stack), stack)).toEqual([]);
  });
});

test('a Valkey group has no AwsSolutions-AEC5 finding: cdk-nag checks the default port only for Redis OSS', () => {
  const { stack, vpc } = newStack();
  new RedisReplicationGroup(stack, 'Cache', { vpc, nodeType: 'cache.r7g.large', engine: ElastiCacheEngine.valkey(ValkeyEngineVersion.VER_8_0) });
  expect(findings(new AwsSolutionsChecks(stack), stack)).toEqual(['AwsSolutions-SMG4: Stack/Cache/AuthToken/Resource']);
});

test('backups kept under 15 days are reported by the HIPAA pack', () => {
  const { stack, vpc } = newStack();
  new RedisReplicationGroup(stack, 'Cache', { vpc, nodeType: 'cache.r7g.large', backup: { retention: Duration.days(7) } });
  expect(findings(new HIPAASecurityChecks(stack), stack)).toContain('HIPAA.Security-ElastiCacheRedisClusterAutomaticBackup: Stack/Cache/Resource');
});

describe.each(packs)('%s, with the AUTH token rotated', (_name, make, expected) => {
  test('no rotation finding is left, and the rotation function raises none a user must decide on', () => {
    const { stack, vpc } = newStack();
    new RedisReplicationGroup(stack, 'Cache', {
      vpc, nodeType: 'cache.r7g.large', authentication: RedisAuthentication.authToken({ rotation: Duration.days(30) }),
    });
    // The default group's list without its rotation findings: the function, its role, security
    // group and log group add none.
    expect(findings(make(stack), stack)).toEqual(expected.filter((f) => !/SMG4|SecretsManagerRotationEnabled/.test(f)));
  });
});
