/**
 * A CDK app that uses the built package the way a user's app does: `import ... from
 * 'cdk-elasticache-backup'`, resolved through package.json to lib/, type-checked against the
 * published .d.ts files, compiled with tsc and run with node.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

const APP = `
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { MaintenanceWindow, RedisReplicationGroup, SnapshotWindow } from 'cdk-elasticache-backup';

const app = new App();
const stack = new Stack(app, 'Consumer');
const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0 });
new RedisReplicationGroup(stack, 'Cache', {
  vpc,
  nodeType: 'cache.r7g.large',
  backup: { retention: Duration.days(7), window: SnapshotWindow.fromString('05:00-06:00') },
  maintenanceWindow: MaintenanceWindow.fromString(process.env.MAINTENANCE_WINDOW ?? 'sun:23:00-mon:00:30'),
});
app.synth();
`;

describe('an app that imports the built package', () => {
  let dir: string;

  beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, 'lib', 'index.js')) || !fs.existsSync(path.join(ROOT, 'lib', 'index.d.ts'))) {
      throw new Error('lib/ is not built: run `npx projen compile` (or the whole `npx projen build`) first');
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-'));
    const modules = path.join(dir, 'node_modules');
    fs.mkdirSync(modules);
    fs.symlinkSync(ROOT, path.join(modules, 'cdk-elasticache-backup'), 'dir');
    for (const dep of ['aws-cdk-lib', 'constructs']) {
      fs.symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(modules, dep), 'dir');
    }
    fs.writeFileSync(path.join(dir, 'app.ts'), APP);
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, esModuleInterop: true, skipLibCheck: true, types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')] },
      files: ['app.ts'],
    }));
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', dir], { cwd: dir, stdio: 'pipe' });
  });

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function synth(env: Record<string, string> = {}) {
    const out = path.join(dir, `cdk.out-${Object.keys(env).length}`);
    execFileSync(process.execPath, ['app.js'], { cwd: dir, env: { ...process.env, ...env, CDK_OUTDIR: out }, stdio: 'pipe' });
    return JSON.parse(fs.readFileSync(path.join(out, 'Consumer.template.json'), 'utf-8'));
  }

  test('the synthesized template carries the backup plan and the maintenance window', () => {
    const groups = Object.values<any>(synth().Resources).filter((r) => r.Type === 'AWS::ElastiCache::ReplicationGroup');
    expect(groups).toHaveLength(1);
    expect(groups[0].Properties).toMatchObject({
      SnapshotRetentionLimit: 7,
      SnapshotWindow: '05:00-06:00',
      PreferredMaintenanceWindow: 'sun:23:00-mon:00:30',
    });
    expect(groups[0].DeletionPolicy).toEqual('Snapshot');
  });

  test('an invalid window stops the app before synthesis finishes', () => {
    let stderr = '';
    try {
      synth({ MAINTENANCE_WINDOW: 'sun:05:30-sun:06:30' });
    } catch (e: any) {
      stderr = String(e.stderr);
    }
    expect(stderr).toContain("backup.window '05:00-06:00' overlaps maintenanceWindow 'sun:05:30-sun:06:30'");
  });
});
