/**
 * SSM Parameter Store, as far as the AWS CDK CLI and CDK's bootstrap stack use it
 * (local/cdk-cli-calls.md): String parameters per region, read with GetParameter(s), written with
 * PutParameter, removed with DeleteParameter. The AWS JSON 1.1 protocol (`X-Amz-Target:
 * AmazonSSM.<Operation>`), with SSM's error shapes (`{"__type": "ParameterNotFound", "message": …}`).
 * SecureString values are kept as given (no KMS); parameter policies, tiers and labels are not modelled.
 */
import { jsonRequest } from './json-protocol';
import { LOCAL_ACCOUNT } from './sts';

/** Parameter names: up to 2048 characters of a-zA-Z0-9_.-/ (hierarchy levels start with /); SSM API reference, PutParameter. */
const NAME = /^[a-zA-Z0-9_.\-/]{1,2048}$/;
/** A Standard parameter's value: at most 4 KB (SSM API reference, PutParameter). */
const MAX_VALUE = 4096;
const TYPES = ['String', 'StringList', 'SecureString'];

interface Parameter {
  readonly name: string;
  readonly type: string;
  readonly value: string;
  readonly version: number;
  readonly modified: number;
}

export interface SsmAnswer {
  readonly status: number;
  readonly body: string;
}

class SsmError extends Error {
  constructor(public readonly type: string, message: string, public readonly status = 400) {
    super(message);
  }
}

export class LocalSsm {
  /** Parameters by region, then by name. */
  private readonly regions = new Map<string, Map<string, Parameter>>();

  constructor(private readonly now: () => number) {}

  /** Answers one request: the operation from `X-Amz-Target`, the JSON body. */
  public handle(region: string, target: string | undefined, body: string): SsmAnswer {
    try {
      const { operation, input } = jsonRequest('AmazonSSM', target, body, (code, message) => new SsmError(code, message));
      const store = this.store(region);
      switch (operation) {
        case 'GetParameter': return ok({ Parameter: this.shape(region, this.get(store, this.name(input.Name))) });
        case 'GetParameters': {
          const names = input.Names;
          if (!Array.isArray(names) || names.length < 1 || names.length > 10) {
            throw new SsmError('ValidationException', '1 validation error detected: Value at \'names\' failed to satisfy constraint: Member must have length between 1 and 10');
          }
          const found = names.map((n) => store.get(this.name(n))).filter((p): p is Parameter => p !== undefined);
          return ok({ Parameters: found.map((p) => this.shape(region, p)), InvalidParameters: names.filter((n) => !store.has(String(n))) });
        }
        case 'PutParameter': return ok(this.put(store, input));
        case 'DeleteParameter': {
          const name = this.name(input.Name);
          this.get(store, name);
          store.delete(name);
          return ok({});
        }
        default:
          throw new SsmError('UnknownOperationException', `The local provider does not emulate SSM operation ${operation ?? target ?? '(none)'}.`);
      }
    } catch (e) {
      if (!(e instanceof SsmError)) throw e;
      return { status: e.status, body: JSON.stringify({ __type: e.type, message: e.message }) };
    }
  }

  private store(region: string): Map<string, Parameter> {
    let store = this.regions.get(region);
    if (!store) {
      store = new Map();
      this.regions.set(region, store);
    }
    return store;
  }

  private name(value: unknown): string {
    if (typeof value !== 'string' || !NAME.test(value)) {
      throw new SsmError('ValidationException', `1 validation error detected: Value '${String(value ?? 'null')}' at 'name' failed to satisfy constraint: `
        + 'Member must satisfy regular expression pattern: ^[a-zA-Z0-9_.\\-/]{1,2048}$');
    }
    return value;
  }

  private get(store: Map<string, Parameter>, name: string): Parameter {
    const p = store.get(name);
    if (!p) throw new SsmError('ParameterNotFound', `Parameter ${name} not found.`);
    return p;
  }

  private put(store: Map<string, Parameter>, input: Record<string, unknown>): Record<string, unknown> {
    const name = this.name(input.Name);
    const value = input.Value;
    if (typeof value !== 'string' || value.length < 1 || Buffer.byteLength(value) > MAX_VALUE) {
      throw new SsmError('ValidationException', `1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length between 1 and ${MAX_VALUE}`);
    }
    const existing = store.get(name);
    const type = input.Type ?? existing?.type ?? 'String';
    if (typeof type !== 'string' || !TYPES.includes(type)) {
      throw new SsmError('ValidationException', `1 validation error detected: Value '${String(type)}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [${TYPES.join(', ')}]`);
    }
    if (existing && input.Overwrite !== true) {
      throw new SsmError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
    }
    const version = (existing?.version ?? 0) + 1;
    store.set(name, { name, type, value, version, modified: this.now() });
    return { Version: version, Tier: 'Standard' };
  }

  private shape(region: string, p: Parameter): Record<string, unknown> {
    return {
      Name: p.name,
      Type: p.type,
      Value: p.value,
      Version: p.version,
      // JSON 1.1 timestamps are epoch seconds.
      LastModifiedDate: p.modified / 1000,
      ARN: `arn:aws:ssm:${region}:${LOCAL_ACCOUNT}:parameter${p.name.startsWith('/') ? '' : '/'}${p.name}`,
      DataType: 'text',
    };
  }
}

function ok(result: Record<string, unknown>): SsmAnswer {
  return { status: 200, body: JSON.stringify(result) };
}
