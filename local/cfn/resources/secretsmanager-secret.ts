/**
 * AWS::SecretsManager::Secret, in the provider's Secrets Manager (local/secretsmanager.ts).
 * GenerateSecretString is applied by CloudFormation (the service's CreateSecret has no such
 * parameter): `createSecret(region, name, { generate })` does it here. Ref and `Id` are the ARN
 * (resource reference, "Return values"). Name requires replacement; SecretString updates in place
 * (PutSecretValue); other changes are refused (the local Secrets Manager has no UpdateSecret). A change of GenerateSecretString is refused: what
 * CloudFormation does then (a new value or none) is not confirmed here.
 *
 * On stack delete the secret is deleted with ForceDeleteWithoutRecovery (no recovery window), so
 * that a stack deployed again with the same Name can create it at once. CloudFormation itself
 * schedules the deletion with the default 30-day window (NOT CONFIRMED against the handler's
 * source); the local provider chooses the immediate deletion.
 */
import { ResourceContext, ResourceFailure, ResourceHandler } from './types';
import { SecretsManagerError } from '../../secretsmanager';
import { sameValue } from '../template';

const NO_EFFECT: Record<string, string> = {
  KmsKeyId: 'the local Secrets Manager keeps values as given, without KMS',
};

/** GenerateSecretString's fields (resource reference), in createSecret's shape. */
function generateOptions(g: Record<string, any>) {
  const known = ['ExcludeCharacters', 'ExcludeLowercase', 'ExcludeNumbers', 'ExcludePunctuation', 'ExcludeUppercase', 'GenerateStringKey',
    'IncludeSpace', 'PasswordLength', 'RequireEachIncludedType', 'SecretStringTemplate'];
  const unknown = Object.keys(g).filter((k) => !known.includes(k));
  if (unknown.length) throw new ResourceFailure(`GenerateSecretString has properties the local provider does not know: ${unknown.join(', ')}`);
  const b = (v: unknown) => (v === undefined ? undefined : v === true || v === 'true');
  return {
    excludeCharacters: g.ExcludeCharacters,
    excludeLowercase: b(g.ExcludeLowercase),
    excludeNumbers: b(g.ExcludeNumbers),
    excludePunctuation: b(g.ExcludePunctuation),
    excludeUppercase: b(g.ExcludeUppercase),
    includeSpace: b(g.IncludeSpace),
    requireEachIncludedType: b(g.RequireEachIncludedType),
    passwordLength: g.PasswordLength === undefined ? undefined : Number(g.PasswordLength),
    generateStringKey: g.GenerateStringKey,
    secretStringTemplate: g.SecretStringTemplate,
  };
}

/** Calls the Secrets Manager API in process; an error becomes the resource's failure. */
function call(ctx: ResourceContext, operation: string, input: Record<string, unknown>): any {
  const answer = ctx.provider.secretsManager.handle(ctx.region, `secretsmanager.${operation}`, JSON.stringify(input));
  const body = answer.body ? JSON.parse(answer.body) : {};
  if (answer.status !== 200) throw new ResourceFailure(`${body.message ?? body.Message} (Service: AWSSecretsManager; Error Code: ${body.__type})`);
  return body;
}

function notes(props: Record<string, any>): string | undefined {
  const given = Object.keys(NO_EFFECT).filter((k) => props[k] !== undefined);
  return given.length ? given.map((k) => `${k} accepted without effect: ${NO_EFFECT[k]}`).join('; ') : undefined;
}

export const secretsManagerSecret: ResourceHandler = {
  properties: ['Name', 'Description', 'SecretString', 'GenerateSecretString', 'Tags', ...Object.keys(NO_EFFECT)],
  replaceOn: ['Name'],
  nameProperty: 'Name',

  async create(ctx, props) {
    // CloudFormation's generated name: `<LogicalId>-<random>` (NOT CONFIRMED); the stack-logicalid form is used here.
    const name: string = props.Name ?? ctx.generatedName(128);
    try {
      const made = ctx.provider.secretsManager.createSecret(ctx.region, name, {
        secretString: props.SecretString,
        generate: props.GenerateSecretString ? generateOptions(props.GenerateSecretString) : undefined,
        description: props.Description,
        tags: props.Tags?.map((t: any) => ({ Key: t.Key, Value: t.Value })),
      });
      return { physicalId: made.arn, attributes: { Id: made.arn }, notes: notes(props) };
    } catch (e) {
      if (e instanceof SecretsManagerError) throw new ResourceFailure(`${e.message} (Service: AWSSecretsManager; Error Code: ${e.type})`);
      throw e;
    }
  },

  async update(ctx, current, old, props) {
    const changed = Object.keys({ ...old, ...props }).filter((k) => !sameValue(old[k], props[k]) && !(k in NO_EFFECT));
    const unsupported = changed.filter((k) => k !== 'SecretString');
    if (unsupported.length) {
      throw new ResourceFailure(`The local provider does not update ${unsupported.join(', ')} of AWS::SecretsManager::Secret in place.`);
    }
    if (changed.includes('SecretString')) {
      if (props.SecretString === undefined) throw new ResourceFailure('SecretString cannot be removed from an existing secret here.');
      call(ctx, 'PutSecretValue', { SecretId: current.physicalId, SecretString: props.SecretString });
    }
    return { ...current, notes: notes(props) };
  },

  async delete(ctx, current) {
    const answer = ctx.provider.secretsManager.handle(ctx.region, 'secretsmanager.DeleteSecret',
      JSON.stringify({ SecretId: current.physicalId, ForceDeleteWithoutRecovery: true }));
    if (answer.status !== 200 && JSON.parse(answer.body).__type !== 'ResourceNotFoundException') {
      throw new ResourceFailure(`${JSON.parse(answer.body).message} (Service: AWSSecretsManager)`);
    }
  },
};
