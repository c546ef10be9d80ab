/**
 * Dynamic references in resource properties (CloudFormation user guide, "Get values stored in other
 * services using dynamic references"): `{{resolve:ssm:parameter-name[:version]}}` from the
 * provider's Parameter Store, `{{resolve:secretsmanager:secret-id[:SecretString[:json-key[:version-stage[:version-id]]]]}}`
 * from its Secrets Manager; a reference may be part of a longer string. They are resolved when a
 * handler is called; the stack keeps the properties as written (CloudFormation compares and shows
 * templates, never the values). `ssm-secure` (SecureString parameters, which CloudFormation resolves
 * only for some properties of some types) and any other service are refused with the reason.
 */
import { ResourceContext, ResourceFailure } from './resources/types';

const REFERENCE = /\{\{resolve:([a-z-]+):([^}]*)\}\}/g;

/** The value of one `{{resolve:ssm:...}}` reference. */
function ssmValue(ctx: ResourceContext, spec: string, where: string): string {
  // A version is the last segment when it is a number (parameter names have no colons but in ARNs).
  const m = /^(.+?)(?::(\d+))?$/.exec(spec);
  const [name, version] = m ? [m[1], m[2]] : [spec, undefined];
  const answer = ctx.provider.ssm.handle(ctx.region, 'AmazonSSM.GetParameter', JSON.stringify({ Name: name }));
  if (answer.status !== 200) {
    const error = JSON.parse(answer.body);
    throw new ResourceFailure(`Could not resolve the dynamic reference {{resolve:ssm:${spec}}} in ${where}: ${error.message ?? error.__type} `
      + '(the parameter must exist in the stack\'s region before the resource is created)');
  }
  const parameter = JSON.parse(answer.body).Parameter;
  if (version !== undefined && Number(version) !== parameter.Version) {
    throw new ResourceFailure(`The dynamic reference {{resolve:ssm:${spec}}} in ${where} names version ${version}; the local provider keeps only the latest (${parameter.Version}).`);
  }
  return parameter.Value;
}

/** The value of one `{{resolve:secretsmanager:...}}` reference (the AWSCURRENT version only). */
function secretValue(ctx: ResourceContext, spec: string, where: string): string {
  const parts = spec.split(':');
  // An ARN is arn:partition:secretsmanager:region:account:secret:name-suffix (seven segments).
  const idLength = parts[0] === 'arn' ? 7 : 1;
  const secretId = parts.slice(0, idLength).join(':');
  const [field, jsonKey, stage, versionId] = parts.slice(idLength);
  if (field !== undefined && field !== '' && field !== 'SecretString') {
    throw new ResourceFailure(`The dynamic reference to secret ${secretId} in ${where} names ${field}; CloudFormation resolves SecretString only.`);
  }
  if ((stage && stage !== 'AWSCURRENT') || versionId) {
    throw new ResourceFailure(`The dynamic reference to secret ${secretId} in ${where} names a version; the local provider resolves the AWSCURRENT version only.`);
  }
  let text: string | undefined;
  try {
    text = ctx.provider.secretsManager.currentValue(ctx.region, secretId);
  } catch (e) {
    throw new ResourceFailure(`Could not resolve the dynamic reference to secret ${secretId} in ${where}: ${(e as Error).message}`);
  }
  if (text === undefined) throw new ResourceFailure(`The secret ${secretId} of the dynamic reference in ${where} has no SecretString.`);
  if (!jsonKey) return text;
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ResourceFailure(`The secret ${secretId} is not JSON, so the dynamic reference in ${where} cannot read its key ${jsonKey}.`);
  }
  if (typeof doc !== 'object' || doc === null || typeof doc[jsonKey] !== 'string') {
    throw new ResourceFailure(`The secret ${secretId} has no string key ${jsonKey} for the dynamic reference in ${where}.`);
  }
  return doc[jsonKey];
}

function resolveString(ctx: ResourceContext, text: string, where: string): string {
  return text.replace(REFERENCE, (_whole, service: string, spec: string) => {
    if (service === 'ssm') return ssmValue(ctx, spec, where);
    if (service === 'secretsmanager') return secretValue(ctx, spec, where);
    if (service === 'ssm-secure') {
      throw new ResourceFailure(`The local provider does not resolve SecureString parameters ({{resolve:ssm-secure:${spec}}}) in ${where}.`);
    }
    throw new ResourceFailure(`Unknown dynamic reference service ${service} in ${where}: CloudFormation resolves ssm, ssm-secure and secretsmanager.`);
  });
}

/** Whether a value (properties, at any depth) holds a dynamic reference. */
export function hasDynamicReferences(value: unknown): boolean {
  return JSON.stringify(value ?? null).includes('{{resolve:');
}

/** `props` with every dynamic reference replaced by its value; `props` itself when it has none. */
export function resolveDynamicReferences(ctx: ResourceContext, props: Record<string, any>): Record<string, any> {
  if (!hasDynamicReferences(props)) return props;
  const walk = (value: any, where: string): any => {
    if (typeof value === 'string') return value.includes('{{resolve:') ? resolveString(ctx, value, where) : value;
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${where}[${i}]`));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, `${where}.${k}`)]));
    return value;
  };
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, walk(v, `${ctx.type} ${ctx.logicalId} ${k}`)]));
}
