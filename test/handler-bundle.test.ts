/**
 * The handler bundles the package ships (assets/<bundle>, built by `bundle:lambda` before the tests):
 * the AWS SDK is the Lambda runtime's, not a copy inside, and each asset stays small. Sizes and load
 * times are printed by `npx projen bench:handlers`.
 */
import * as fs from 'fs';
import * as path from 'path';

const assets = path.join(__dirname, '..', 'assets');

test.each<[string, string[]]>([
  ['custom-resources', ['client-elasticache', 'client-s3', 'client-cloudformation']],
  ['export-workflow', ['client-elasticache', 'client-s3']],
  ['standby-restore', ['client-elasticache', 'client-s3', 'client-route-53']],
])('%s: the SDK clients are required from the runtime, not bundled; the asset is under 50 KB', (bundle, clients) => {
  const dir = path.join(assets, bundle);
  const code = fs.readFileSync(path.join(dir, 'index.js'), 'utf-8');
  for (const client of clients) {
    expect(code).toContain(`require("@aws-sdk/${client}")`);
  }
  // A bundled SDK would carry its endpoint rule sets.
  expect(code).not.toContain('endpointRuleSet');
  const files = fs.readdirSync(dir);
  expect(files.sort()).toEqual(['index.js', 'index.js.map']);
  const size = files.reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
  expect(size).toBeLessThan(50 * 1024);
});

test('every bundle the functions use is built, and nothing else', () => {
  expect(fs.readdirSync(assets).sort()).toEqual(['custom-resources', 'export-workflow', 'rotation', 'standby-check', 'standby-restore']);
});

test('the AUTH token rotation function\'s own asset uses the runtime\'s Secrets Manager client and is under 50 KB', () => {
  const rotation = path.join(__dirname, '..', 'assets', 'rotation');
  const code = fs.readFileSync(path.join(rotation, 'index.js'), 'utf-8');
  expect(code).toContain('require("@aws-sdk/client-secrets-manager")');
  expect(code).not.toContain('endpointRuleSet');
  const files = fs.readdirSync(rotation);
  expect(files.sort()).toEqual(['index.js', 'index.js.map']);
  expect(files.reduce((sum, f) => sum + fs.statSync(path.join(rotation, f)).size, 0)).toBeLessThan(50 * 1024);
});

test('the standby check\'s own asset bundles the Redis client (ioredis), not the AWS SDK, and is under 400 KB', () => {
  // The check connects to the standby as applications do, Redis Cluster and TLS included: ioredis
  // does that (about 150 KB minified), which is why it is a bundle of its own.
  const dir = path.join(assets, 'standby-check');
  const code = fs.readFileSync(path.join(dir, 'index.js'), 'utf-8');
  // It calls no AWS API but Secrets Manager (the runtime's client), for an AUTH token.
  expect([...code.matchAll(/require\("(@aws-sdk\/[a-z0-9-]+)"\)/g)].map((m) => m[1])).toEqual(['@aws-sdk/client-secrets-manager']);
  expect(code.includes('endpointRuleSet')).toBe(false);
  expect(code.includes('CLUSTER')).toBe(true);
  const files = fs.readdirSync(dir);
  expect(files.sort()).toEqual(['index.js', 'index.js.map']);
  expect(files.reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0)).toBeLessThan(400 * 1024);
});
