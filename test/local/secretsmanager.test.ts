/**
 * The local provider's Secrets Manager, driven through the real @aws-sdk/client-secrets-manager;
 * and the AUTH token rotation function's Secrets Manager calls (lambda/handlers/auth-token-rotation.ts)
 * against it, with the group they rotate left out (the steps' Secrets Manager part only).
 */
import {
  CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetRandomPasswordCommand, GetSecretValueCommand,
  InvalidParameterException, InvalidRequestException, PutSecretValueCommand, ResourceExistsException, ResourceNotFoundException,
  RestoreSecretCommand, SecretsManager, SecretsManagerClient, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { LocalProvider } from '../../local/provider';
import { generateSecretString, randomPassword } from '../../local/secretsmanager';

let provider: LocalProvider;
let sm: SecretsManagerClient;
const REGION = 'eu-west-1';
const TOKEN_A = 'a'.repeat(32);
const TOKEN_B = 'b'.repeat(32);

beforeAll(async () => {
  provider = await LocalProvider.start({ speed: 600 });
  sm = new SecretsManagerClient({ region: REGION, endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' }, maxAttempts: 1 });
});

afterAll(async () => {
  sm?.destroy();
  await provider?.stop();
});

test('CreateSecret: an ARN with the six-character suffix; read by name, by ARN and by partial ARN; names are per region', async () => {
  const created = await sm.send(new CreateSecretCommand({ Name: 'app/auth', SecretString: 'hunter2hunter2hunter2', ClientRequestToken: TOKEN_A }));
  expect(created.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:000000000000:secret:app\/auth-[A-Za-z0-9]{6}$/);
  expect(created.VersionId).toBe(TOKEN_A);
  for (const id of ['app/auth', created.ARN!, created.ARN!.slice(0, -7)]) {
    const got = await sm.send(new GetSecretValueCommand({ SecretId: id }));
    expect(got).toMatchObject({ Name: 'app/auth', SecretString: 'hunter2hunter2hunter2', VersionId: TOKEN_A, VersionStages: ['AWSCURRENT'] });
    expect(got.CreatedDate).toBeInstanceOf(Date);
  }
  await expect(sm.send(new CreateSecretCommand({ Name: 'app/auth', SecretString: 'x' }))).rejects.toBeInstanceOf(ResourceExistsException);
  const other = new SecretsManagerClient({ region: 'us-east-1', endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
  await expect(other.send(new GetSecretValueCommand({ SecretId: 'app/auth' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  other.destroy();
});

test('bad input is refused with the AWS error and changes nothing', async () => {
  await expect(sm.send(new CreateSecretCommand({ Name: 'bad name!', SecretString: 'x' }))).rejects.toBeInstanceOf(InvalidParameterException);
  await expect(sm.send(new CreateSecretCommand({ Name: 'both', SecretString: 'x', SecretBinary: Buffer.from('y') })))
    .rejects.toBeInstanceOf(InvalidParameterException);
  await expect(sm.send(new GetSecretValueCommand({ SecretId: 'both' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  await expect(sm.send(new GetSecretValueCommand({ SecretId: 'app/auth', VersionStage: 'AWSPENDING' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  await expect(sm.send(new PutSecretValueCommand({ SecretId: 'app/auth', ClientRequestToken: 'short', SecretString: 'x' })))
    .rejects.toBeInstanceOf(InvalidParameterException);
  await expect(sm.send(new DeleteSecretCommand({ SecretId: 'app/auth', ForceDeleteWithoutRecovery: true, RecoveryWindowInDays: 7 })))
    .rejects.toBeInstanceOf(InvalidParameterException);
  await expect(sm.send(new DeleteSecretCommand({ SecretId: 'app/auth', RecoveryWindowInDays: 6 }))).rejects.toBeInstanceOf(InvalidParameterException);
  // A version never changes: the same token with another value is refused.
  await expect(sm.send(new PutSecretValueCommand({ SecretId: 'app/auth', ClientRequestToken: TOKEN_A, SecretString: 'other' })))
    .rejects.toBeInstanceOf(ResourceExistsException);
  const still = await sm.send(new DescribeSecretCommand({ SecretId: 'app/auth' }));
  expect(still.VersionIdsToStages).toEqual({ [TOKEN_A]: ['AWSCURRENT'] });
  expect(still.DeletedDate).toBeUndefined();
});

test('the rotation steps\' calls: pending version, lookups by id and stage, AWSCURRENT moved with AWSPREVIOUS kept', async () => {
  // The SDK's aggregated client, as the rotation function builds it (auth-token-rotation.ts `SecretsApi`).
  const secrets = new SecretsManager({ region: REGION, endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
  const { RandomPassword } = await secrets.getRandomPassword({ PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false });
  expect(RandomPassword).toMatch(/^[A-Za-z0-9]{64}$/);
  await secrets.putSecretValue({ SecretId: 'app/auth', ClientRequestToken: TOKEN_B, SecretString: RandomPassword!, VersionStages: ['AWSPENDING'] });
  // Putting the same version again is ignored (a step may be called again).
  await secrets.putSecretValue({ SecretId: 'app/auth', ClientRequestToken: TOKEN_B, SecretString: RandomPassword!, VersionStages: ['AWSPENDING'] });
  expect((await secrets.getSecretValue({ SecretId: 'app/auth', VersionId: TOKEN_B, VersionStage: 'AWSPENDING' })).SecretString).toBe(RandomPassword);
  expect((await secrets.getSecretValue({ SecretId: 'app/auth' })).VersionId).toBe(TOKEN_A);
  // The id and stage must name the same version.
  await expect(secrets.getSecretValue({ SecretId: 'app/auth', VersionId: TOKEN_A, VersionStage: 'AWSPENDING' })).rejects.toBeInstanceOf(ResourceNotFoundException);
  expect((await secrets.describeSecret({ SecretId: 'app/auth' })).VersionIdsToStages).toEqual({ [TOKEN_A]: ['AWSCURRENT'], [TOKEN_B]: ['AWSPENDING'] });

  // Moving AWSCURRENT needs the version that has it named.
  await expect(secrets.updateSecretVersionStage({ SecretId: 'app/auth', VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN_B }))
    .rejects.toBeInstanceOf(InvalidParameterException);
  await sm.send(new UpdateSecretVersionStageCommand({ SecretId: 'app/auth', VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN_B, RemoveFromVersionId: TOKEN_A }));
  expect((await secrets.describeSecret({ SecretId: 'app/auth' })).VersionIdsToStages).toEqual({
    [TOKEN_A]: ['AWSPREVIOUS'], [TOKEN_B]: ['AWSPENDING', 'AWSCURRENT'],
  });
  expect((await secrets.getSecretValue({ SecretId: 'app/auth' })).SecretString).toBe(RandomPassword);
  expect((await secrets.getSecretValue({ SecretId: 'app/auth', VersionStage: 'AWSPREVIOUS' })).SecretString).toBe('hunter2hunter2hunter2');
  secrets.destroy();
});

test('DeleteSecret: a recovery window on the provider\'s clock, restorable until it ends; or at once when forced', async () => {
  await sm.send(new CreateSecretCommand({ Name: 'to-delete', SecretString: 'v' }));
  const deleted = await sm.send(new DeleteSecretCommand({ SecretId: 'to-delete', RecoveryWindowInDays: 7 }));
  expect(deleted.DeletionDate!.getTime() - provider.clock.now()).toBeGreaterThan(6.9 * 86_400_000);
  await expect(sm.send(new GetSecretValueCommand({ SecretId: 'to-delete' }))).rejects.toBeInstanceOf(InvalidRequestException);
  await expect(sm.send(new CreateSecretCommand({ Name: 'to-delete', SecretString: 'v' }))).rejects.toBeInstanceOf(InvalidRequestException);
  await sm.send(new RestoreSecretCommand({ SecretId: 'to-delete' }));
  expect((await sm.send(new GetSecretValueCommand({ SecretId: 'to-delete' }))).SecretString).toBe('v');

  await sm.send(new DeleteSecretCommand({ SecretId: 'to-delete', RecoveryWindowInDays: 7 }));
  await provider.clock.advance(7 * 86_400_000 + 1000);
  await expect(sm.send(new DescribeSecretCommand({ SecretId: 'to-delete' }))).rejects.toBeInstanceOf(ResourceNotFoundException);

  await sm.send(new CreateSecretCommand({ Name: 'forced', SecretString: 'v' }));
  await sm.send(new DeleteSecretCommand({ SecretId: 'forced', ForceDeleteWithoutRecovery: true }));
  await sm.send(new CreateSecretCommand({ Name: 'forced', SecretString: 'again' }));
  expect((await sm.send(new GetSecretValueCommand({ SecretId: 'forced' }))).SecretString).toBe('again');
});

test('GetRandomPassword: length, exclusions, one of each included type', async () => {
  const out = await sm.send(new GetRandomPasswordCommand({ PasswordLength: 40, ExcludeCharacters: 'abcABC012', ExcludePunctuation: true }));
  expect(out.RandomPassword).toHaveLength(40);
  expect(out.RandomPassword).not.toMatch(/[abcABC012]/);
  expect(out.RandomPassword).toMatch(/^[A-Za-z0-9]+$/);
  for (let i = 0; i < 50; i++) {
    const p = randomPassword({ passwordLength: 4 });
    expect(p).toMatch(/[a-z]/);
    expect(p).toMatch(/[A-Z]/);
    expect(p).toMatch(/[0-9]/);
    expect(p).toMatch(/[^A-Za-z0-9]/);
  }
  await expect(sm.send(new GetRandomPasswordCommand({ PasswordLength: 4097 }))).rejects.toBeInstanceOf(InvalidParameterException);
  // Three types required, two characters.
  await expect(sm.send(new GetRandomPasswordCommand({ PasswordLength: 2, ExcludePunctuation: true })))
    .rejects.toBeInstanceOf(InvalidParameterException);
});

test('createSecret for the deployer applies GenerateSecretString as CloudFormation does', () => {
  const { arn } = provider.secretsManager.createSecret(REGION, 'generated', {
    generate: { secretStringTemplate: '{"username":"app"}', generateStringKey: 'password', passwordLength: 20, excludePunctuation: true },
  });
  expect(arn).toMatch(/:secret:generated-[A-Za-z0-9]{6}$/);
  const value = JSON.parse(provider.secretsManager.currentValue(REGION, 'generated')!);
  expect(value.username).toBe('app');
  expect(value.password).toMatch(/^[A-Za-z0-9]{20}$/);
  expect(() => generateSecretString({ secretStringTemplate: '{}' })).toThrow(/together/);
  expect(() => generateSecretString({ secretStringTemplate: 'nope', generateStringKey: 'k' })).toThrow(/JSON/);
});
