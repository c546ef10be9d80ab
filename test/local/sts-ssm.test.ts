/**
 * Issue 10's first calls: STS and SSM Parameter Store, as the AWS CDK CLI uses them
 * (local/cdk-cli-calls.md), driven through the AWS CLI against `serve` run as a process, with only
 * the variables `serve` prints.
 */
import { execFile } from 'child_process';
import { requireBuiltCli, Serve, startServe } from './serve';

jest.setTimeout(60_000);

let serve: Serve;

beforeAll(async () => {
  requireBuiltCli();
  serve = await startServe(['--speed', '600']);
});

afterAll(async () => {
  serve?.child.kill('SIGTERM');
  await new Promise((r) => serve?.child.once('exit', r));
});

/** Runs the AWS CLI with serve's variables; resolves with its exit code, stdout (parsed when JSON) and stderr. */
function aws(...args: string[]): Promise<{ code: number; out: any; err: string }> {
  return new Promise((resolve) => {
    execFile('aws', [...args, '--output', 'json'], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...serve.env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        let out: any = stdout;
        try {
          out = stdout.trim() ? JSON.parse(stdout) : {};
        } catch {
          // not JSON: kept as text
        }
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out, err: stderr });
      });
  });
}

describe('STS', () => {
  test('get-caller-identity: the local account, and an ARN the CDK CLI takes the partition from', async () => {
    const r = await aws('sts', 'get-caller-identity');
    expect(r.code).toBe(0);
    expect(r.out).toEqual({ UserId: 'AIDALOCALPROVIDERUSER', Account: '000000000000', Arn: 'arn:aws:iam::000000000000:user/local' });
  });

  test('assume-role of a bootstrap role: temporary credentials that expire in the future (host clock), and the assumed-role ARN', async () => {
    const role = 'arn:aws:iam::000000000000:role/cdk-hnb659fds-deploy-role-000000000000-eu-west-1';
    const r = await aws('sts', 'assume-role', '--role-arn', role, '--role-session-name', 'aws-cdk-local');
    expect(r.code).toBe(0);
    expect(r.out.Credentials.AccessKeyId).toMatch(/^ASIA[0-9A-F]{16}$/);
    expect(r.out.Credentials.SessionToken.length).toBeGreaterThan(20);
    const expires = new Date(r.out.Credentials.Expiration).getTime();
    expect(expires - Date.now()).toBeGreaterThan(3500_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(3600_000);
    expect(r.out.AssumedRoleUser.Arn).toBe('arn:aws:sts::000000000000:assumed-role/cdk-hnb659fds-deploy-role-000000000000-eu-west-1/aws-cdk-local');
  });

  test.each([
    ['a role of another account', ['--role-arn', 'arn:aws:iam::111111111111:role/x', '--role-session-name', 'ok'], 'AccessDenied'],
    ['a malformed role ARN', ['--role-arn', 'arn:aws:iam::000000000000:user/x', '--role-session-name', 'ok'], 'ValidationError'],
    ['a session name with a space', ['--role-arn', 'arn:aws:iam::000000000000:role/x', '--role-session-name', 'a b'], 'ValidationError'],
    // (A duration outside 900 to 43,200 seconds never reaches the service: the AWS CLI refuses it first.)
  ])('assume-role with %s is refused with %s', async (_name, args, code) => {
    const r = await aws('sts', 'assume-role', ...args);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(`(${code})`);
  });
});

describe('SSM Parameter Store', () => {
  const NAME = '/cdk-bootstrap/hnb659fds/version';

  test('the bootstrap version parameter: missing, put, read, overwritten only when asked, deleted; per region', async () => {
    const missing = await aws('ssm', 'get-parameter', '--name', NAME, '--region', 'eu-west-1');
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain('(ParameterNotFound)');

    expect((await aws('ssm', 'put-parameter', '--name', NAME, '--value', '31', '--type', 'String', '--region', 'eu-west-1')).out).toEqual({ Version: 1, Tier: 'Standard' });
    const again = await aws('ssm', 'put-parameter', '--name', NAME, '--value', '32', '--type', 'String', '--region', 'eu-west-1');
    expect(again.err).toContain('(ParameterAlreadyExists)');
    expect((await aws('ssm', 'put-parameter', '--name', NAME, '--value', '32', '--overwrite', '--region', 'eu-west-1')).out.Version).toBe(2);

    const got = await aws('ssm', 'get-parameter', '--name', NAME, '--with-decryption', '--region', 'eu-west-1');
    expect(got.out.Parameter).toMatchObject({
      Name: NAME, Type: 'String', Value: '32', Version: 2, DataType: 'text', ARN: `arn:aws:ssm:eu-west-1:000000000000:parameter${NAME}`,
    });
    // Another region has its own parameters.
    expect((await aws('ssm', 'get-parameter', '--name', NAME, '--region', 'us-west-2')).err).toContain('(ParameterNotFound)');
    const both = await aws('ssm', 'get-parameters', '--names', NAME, '/nope', '--region', 'eu-west-1');
    expect(both.out.Parameters.map((p: any) => p.Value)).toEqual(['32']);
    expect(both.out.InvalidParameters).toEqual(['/nope']);

    expect((await aws('ssm', 'delete-parameter', '--name', NAME, '--region', 'eu-west-1')).code).toBe(0);
    expect((await aws('ssm', 'delete-parameter', '--name', NAME, '--region', 'eu-west-1')).err).toContain('(ParameterNotFound)');
  });

  test.each([
    ['a name with a space', ['put-parameter', '--name', 'a b', '--value', 'v', '--type', 'String'], 'ValidationException'],
    ['a value over 4 KB', ['put-parameter', '--name', '/big', '--value', 'x'.repeat(4097), '--type', 'String'], 'ValidationException'],
    ['an operation the provider does not emulate', ['describe-parameters'], 'UnknownOperationException'],
  ])('%s is refused with %s, and changes nothing', async (_name, args, code) => {
    const r = await aws('ssm', ...args, '--region', 'eu-west-1');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(`(${code})`);
    expect((await aws('ssm', 'get-parameter', '--name', '/big', '--region', 'eu-west-1')).err).toContain('(ParameterNotFound)');
  });
});
