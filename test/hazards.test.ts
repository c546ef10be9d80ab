/**
 * Hazards a user can declare without a word, refused (or warned about) at synth time: names that
 * collide across the app, an export schedule inside the group's windows, and checks that used to
 * be skipped because a group's id is a Ref token.
 */
import { App, Duration, Lazy, Stack, StackProps, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import { IConstruct } from 'constructs';
import {
  BackupSource, ClusterMode, MaintenanceWindow, RedisReplicationGroup, RedisReplicationGroupProps, RedisSnapshot, ScheduledSnapshotExport,
  ScheduledSnapshotExportProps, SnapshotExportBucket, SnapshotReplicaBucket, SnapshotWindow,
} from '../src';

const ACCOUNT = '111111111111';
const EU = { account: ACCOUNT, region: 'eu-west-1' };
const SNAPSHOT_REASON = 'ElastiCache snapshot names are unique in an account and region, so whichever is taken second fails (SnapshotAlreadyExistsFault) and a group whose final snapshot cannot be taken is not deleted: give each snapshot its own name';
const GROUP_REASON = 'ElastiCache replication group ids are unique in an account and region, so the second group cannot be created (ReplicationGroupAlreadyExists): give each group its own replicationGroupId';
const PREFIX_REASON = "each workflow prunes the snapshots and exports named <prefix>-YYYYMMDD-HHMMSS, so two workflows with one prefix delete each other's backups: give each its own snapshotPrefix";
const EU_ENV = `both in account ${ACCOUNT}, region eu-west-1`;

type GroupProps = Omit<RedisReplicationGroupProps, 'vpc'>;

/** A stack with a VPC for groups. */
function stackIn(app: App, id: string, env?: StackProps['env']): { stack: Stack; vpc: ec2.Vpc } {
  const stack = new Stack(app, id, { env });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'cache', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
  return { stack, vpc };
}

function group(scope: { stack: Stack; vpc: ec2.Vpc }, id: string, props: Partial<GroupProps> = {}): RedisReplicationGroup {
  return new RedisReplicationGroup(scope.stack, id, { vpc: scope.vpc, nodeType: 'cache.r7g.large', ...props });
}

/** An app with a group in Main (eu-west-1) and an export bucket replicating to Dr (us-west-2). */
function exportApp(groupProps: Partial<GroupProps> = {}) {
  const app = new App();
  const dr = new Stack(app, 'Dr', { env: { account: ACCOUNT, region: 'us-west-2' } });
  const main = stackIn(app, 'Main', EU);
  const cache = group(main, 'Cache', { replicationGroupId: 'orders', ...groupProps });
  const exportBucket = new SnapshotExportBucket(main.stack, 'Exports', { replica: new SnapshotReplicaBucket(dr, 'Replica') });
  const flow = (id: string, props: Partial<ScheduledSnapshotExportProps> = {}) =>
    new ScheduledSnapshotExport(main.stack, id, { replicationGroup: cache, exportBucket, ...props });
  return { app, main, dr, cache, exportBucket, flow };
}

describe('names that collide across the app fail synth, naming both constructs', () => {
  const cases: Array<[string, () => IConstruct, string[]]> = [
    ['two workflows with one snapshotPrefix', () => {
      const { flow } = exportApp();
      flow('Nightly', { snapshotPrefix: 'nightly' });
      return flow('Hourly', { snapshotPrefix: 'nightly' });
    }, [`snapshotPrefix 'nightly' of Main/Hourly is also the snapshotPrefix of Main/Nightly, in this app; ${PREFIX_REASON}`]],
    ['two workflows with one snapshotPrefix in different stacks and regions', () => {
      const { app, flow } = exportApp();
      flow('Nightly', { snapshotPrefix: 'nightly' });
      const us = stackIn(app, 'Us', { account: ACCOUNT, region: 'us-east-1' });
      const dr = new Stack(app, 'UsDr', { env: { account: ACCOUNT, region: 'us-west-1' } });
      return new ScheduledSnapshotExport(us.stack, 'Nightly', {
        replicationGroup: group(us, 'Cache'),
        exportBucket: new SnapshotExportBucket(us.stack, 'Exports', { replica: new SnapshotReplicaBucket(dr, 'Replica') }),
        snapshotPrefix: 'nightly',
      });
    }, [`snapshotPrefix 'nightly' of Us/Nightly is also the snapshotPrefix of Main/Nightly, in this app; ${PREFIX_REASON}`]],
    ['two RedisSnapshots with one name in a stack', () => {
      const app = new App();
      const main = stackIn(app, 'Main', EU);
      const cache = group(main, 'Cache');
      new RedisSnapshot(main.stack, 'First', { replicationGroup: cache, snapshotName: 'before-upgrade' });
      return new RedisSnapshot(main.stack, 'Second', { replicationGroup: cache, snapshotName: 'before-upgrade' });
    }, [`snapshotName 'before-upgrade' of Main/Second is also the snapshotName of Main/First, ${EU_ENV}; ${SNAPSHOT_REASON}`]],
    ['two RedisSnapshots with one name in two stacks of one account and region', () => {
      const app = new App();
      const one = stackIn(app, 'One', EU);
      const two = stackIn(app, 'Two', EU);
      new RedisSnapshot(one.stack, 'Snap', { replicationGroup: group(one, 'Cache'), snapshotName: 'before-upgrade' });
      return new RedisSnapshot(two.stack, 'Snap', { replicationGroup: group(two, 'Cache'), snapshotName: 'before-upgrade' });
    }, [`snapshotName 'before-upgrade' of Two/Snap is also the snapshotName of One/Snap, ${EU_ENV}; ${SNAPSHOT_REASON}`]],
    ["a RedisSnapshot named like a group's final snapshot", () => {
      const app = new App();
      const main = stackIn(app, 'Main', EU);
      const cache = group(main, 'Cache', { backup: { retention: Duration.days(1), finalSnapshotName: 'orders-final' } });
      return new RedisSnapshot(main.stack, 'Snap', { replicationGroup: cache, snapshotName: 'orders-final' });
    }, [`snapshotName 'orders-final' of Main/Snap is also the backup.finalSnapshotName of Main/Cache, ${EU_ENV}; ${SNAPSHOT_REASON}`]],
    ['two groups with one final snapshot name', () => {
      const app = new App();
      const main = stackIn(app, 'Main', EU);
      group(main, 'Orders', { backup: { retention: Duration.days(1), finalSnapshotName: 'final' } });
      return group(main, 'Sessions', { backup: { retention: Duration.days(1), finalSnapshotName: 'final' } });
    }, [`backup.finalSnapshotName 'final' of Main/Sessions is also the backup.finalSnapshotName of Main/Orders, ${EU_ENV}; ${SNAPSHOT_REASON}`]],
    ['two groups with one id in two stacks of one account and region', () => {
      const app = new App();
      group(stackIn(app, 'One', EU), 'Cache', { replicationGroupId: 'orders' });
      return group(stackIn(app, 'Two', EU), 'Cache', { replicationGroupId: 'orders' });
    }, [`replicationGroupId 'orders' of Two/Cache is also the replicationGroupId of One/Cache, ${EU_ENV}; ${GROUP_REASON}`]],
    ['two groups with one id in env-agnostic stacks', () => {
      const app = new App();
      group(stackIn(app, 'One'), 'Cache', { replicationGroupId: 'orders' });
      return group(stackIn(app, 'Two'), 'Cache', { replicationGroupId: 'orders' });
    }, [`replicationGroupId 'orders' of Two/Cache is also the replicationGroupId of One/Cache, both in env-agnostic stacks (compared as one account and region); ${GROUP_REASON}`]],
    ['two groups with one id and one final snapshot name: both reported', () => {
      const app = new App();
      const props = { replicationGroupId: 'orders', backup: { retention: Duration.days(1), finalSnapshotName: 'orders-final' } };
      group(stackIn(app, 'One', { account: ACCOUNT }), 'Cache', props);
      return group(stackIn(app, 'Two', { account: ACCOUNT }), 'Cache', props);
    }, [
      `replicationGroupId 'orders' of Two/Cache is also the replicationGroupId of One/Cache, both in account ${ACCOUNT}, region (unknown at synth time); ${GROUP_REASON}`,
      `backup.finalSnapshotName 'orders-final' of Two/Cache is also the backup.finalSnapshotName of One/Cache, both in account ${ACCOUNT}, region (unknown at synth time); ${SNAPSHOT_REASON}`,
    ]],
  ];

  test.each(cases)('%s', (_name, build, messages) => {
    expect(build().node.validate()).toEqual(messages);
  });

  test('the app does not synthesize', () => {
    const app = new App();
    group(stackIn(app, 'One', EU), 'Cache', { replicationGroupId: 'orders' });
    group(stackIn(app, 'Two', EU), 'Cache', { replicationGroupId: 'orders' });
    expect(() => app.synth()).toThrow(`replicationGroupId 'orders' of Two/Cache is also the replicationGroupId of One/Cache, ${EU_ENV}; ${GROUP_REASON}`);
  });
});

describe('names that do not collide', () => {
  const cases: Array<[string, (app: App) => void]> = [
    ['one snapshot name in two regions', (app) => {
      const one = stackIn(app, 'One', EU);
      const two = stackIn(app, 'Two', { account: ACCOUNT, region: 'us-east-1' });
      new RedisSnapshot(one.stack, 'Snap', { replicationGroup: group(one, 'Cache'), snapshotName: 'before-upgrade' });
      new RedisSnapshot(two.stack, 'Snap', { replicationGroup: group(two, 'Cache'), snapshotName: 'before-upgrade' });
    }],
    ['one group id in two accounts', (app) => {
      group(stackIn(app, 'One', EU), 'Cache', { replicationGroupId: 'orders' });
      group(stackIn(app, 'Two', { account: '222222222222', region: 'eu-west-1' }), 'Cache', { replicationGroupId: 'orders' });
    }],
    ['one group id in an env-agnostic stack and in a stack with an env', (app) => {
      group(stackIn(app, 'One', EU), 'Cache', { replicationGroupId: 'orders' });
      group(stackIn(app, 'Two'), 'Cache', { replicationGroupId: 'orders' });
    }],
    ['names that are tokens', (app) => {
      const t = (v: string) => Token.asString(Lazy.string({ produce: () => v }));
      const one = stackIn(app, 'One', EU);
      group(one, 'A', { replicationGroupId: t('orders') });
      group(one, 'B', { replicationGroupId: t('orders') });
      const cache = group(one, 'C');
      new RedisSnapshot(one.stack, 'S1', { replicationGroup: cache, snapshotName: t('snap') });
      new RedisSnapshot(one.stack, 'S2', { replicationGroup: cache, snapshotName: t('snap') });
    }],
    ['default group ids and prefixes, derived from the paths', (app) => {
      const one = stackIn(app, 'One', EU);
      const dr = new Stack(app, 'Dr', { env: { account: ACCOUNT, region: 'us-west-2' } });
      const exportBucket = new SnapshotExportBucket(one.stack, 'Exports', { replica: new SnapshotReplicaBucket(dr, 'Replica') });
      new ScheduledSnapshotExport(one.stack, 'A', { replicationGroup: group(one, 'Cache'), exportBucket });
      new ScheduledSnapshotExport(one.stack, 'B', { replicationGroup: group(one, 'Other'), exportBucket });
    }],
  ];

  test.each(cases)('%s', (_name, build) => {
    const app = new App();
    build(app);
    expect(() => app.synth()).not.toThrow();
  });

  test('separate apps never meet', () => {
    for (const app of [new App(), new App()]) {
      group(stackIn(app, 'One', EU), 'Cache', { replicationGroupId: 'orders' });
      expect(() => app.synth()).not.toThrow();
    }
  });
});

describe("an export schedule and the group's windows", () => {
  const snapshotAt = (window: string) => ({ backup: { retention: Duration.days(7), window: SnapshotWindow.fromString(window) } });
  const maintenanceAt = (window: string) => ({ maintenanceWindow: MaintenanceWindow.fromString(window) });
  const IN_SNAPSHOT = "ElastiCache takes the group's automatic snapshot in that window every day, and while it runs the group is snapshotting and refuses CreateSnapshot (InvalidReplicationGroupState), so the run waits through its retries or fails: start the export outside the snapshot window";
  const IN_MAINTENANCE = 'when ElastiCache applies maintenance then (updates, node replacement), the group is busy and the run waits through its retries or fails: consider starting the export outside the maintenance window';

  const errors: Array<[string, Partial<GroupProps>, events.Schedule, string]> = [
    ['a daily run inside the snapshot window', snapshotAt('05:00-06:00'), events.Schedule.expression('cron(30 5 * * ? *)'),
      `schedule 'cron(30 5 * * ? *)' starts runs at 05:30 UTC, inside backup.window '05:00-06:00' of replication group Main/Cache; ${IN_SNAPSHOT}`],
    ['a run at the start of the window', snapshotAt('05:00-06:00'), events.Schedule.cron({ hour: '5', minute: '0' }),
      `schedule 'cron(0 5 * * ? *)' starts runs at 05:00 UTC, inside backup.window '05:00-06:00' of replication group Main/Cache; ${IN_SNAPSHOT}`],
    ['every minute of an hour (Schedule.cron with only an hour)', snapshotAt('05:30-06:30'), events.Schedule.cron({ hour: '5' }),
      `schedule 'cron(* 5 * * ? *)' starts runs at 05:30 UTC, inside backup.window '05:30-06:30' of replication group Main/Cache; ${IN_SNAPSHOT}`],
    ['a window across midnight', snapshotAt('23:30-00:30'), events.Schedule.expression('cron(15 0 ? * MON-FRI *)'),
      `schedule 'cron(15 0 ? * MON-FRI *)' starts runs at 00:15 UTC, inside backup.window '23:30-00:30' of replication group Main/Cache; ${IN_SNAPSHOT}`],
    ['steps and lists', snapshotAt('05:00-06:00'), events.Schedule.expression('cron(10/20 4,5 * * ? *)'),
      `schedule 'cron(10/20 4,5 * * ? *)' starts runs at 05:10 UTC, inside backup.window '05:00-06:00' of replication group Main/Cache; ${IN_SNAPSHOT}`],
    ['a monthly run', snapshotAt('05:00-06:00'), events.Schedule.expression('cron(0 5 1 * ? *)'),
      `schedule 'cron(0 5 1 * ? *)' starts runs at 05:00 UTC, inside backup.window '05:00-06:00' of replication group Main/Cache; ${IN_SNAPSHOT}`],
  ];

  test.each(errors)('%s is refused', (_name, groupProps, schedule, message) => {
    const { flow } = exportApp(groupProps);
    expect(() => flow('Nightly', { schedule })).toThrow(new Error(message));
  });

  const warnings: Array<[string, Partial<GroupProps>, events.Schedule, string]> = [
    ['a run on the maintenance day', maintenanceAt('sun:23:00-mon:00:30'), events.Schedule.expression('cron(15 0 ? * MON *)'),
      `schedule 'cron(15 0 ? * MON *)' starts runs at mon:00:15 UTC, inside maintenanceWindow 'sun:23:00-mon:00:30' of replication group Main/Cache; ${IN_MAINTENANCE}`],
    ['a daily run meets the weekly window', maintenanceAt('wed:02:00-wed:03:00'), events.Schedule.cron({ hour: '2', minute: '30' }),
      `schedule 'cron(30 2 * * ? *)' starts runs at wed:02:30 UTC, inside maintenanceWindow 'wed:02:00-wed:03:00' of replication group Main/Cache; ${IN_MAINTENANCE}`],
    ['day of week by number, across the end of the week', maintenanceAt('sat:23:00-sun:00:30'), events.Schedule.expression('cron(0 0 ? * 1 *)'),
      `schedule 'cron(0 0 ? * 1 *)' starts runs at sun:00:00 UTC, inside maintenanceWindow 'sat:23:00-sun:00:30' of replication group Main/Cache; ${IN_MAINTENANCE}`],
    ['the second Sunday (#)', maintenanceAt('sun:23:00-mon:00:30'), events.Schedule.expression('cron(0 23 ? * 1#2 *)'),
      `schedule 'cron(0 23 ? * 1#2 *)' starts runs at sun:23:00 UTC, inside maintenanceWindow 'sun:23:00-mon:00:30' of replication group Main/Cache; ${IN_MAINTENANCE}`],
    ['the last day of the week (L)', maintenanceAt('sat:22:30-sat:23:30'), events.Schedule.expression('cron(0 23 ? * L *)'),
      `schedule 'cron(0 23 ? * L *)' starts runs at sat:23:00 UTC, inside maintenanceWindow 'sat:22:30-sat:23:30' of replication group Main/Cache; ${IN_MAINTENANCE}`],
    ['a day of the month falls on any day of the week', maintenanceAt('tue:04:00-tue:05:00'), events.Schedule.expression('cron(30 4 15 * ? *)'),
      `schedule 'cron(30 4 15 * ? *)' starts runs at tue:04:30 UTC, inside maintenanceWindow 'tue:04:00-tue:05:00' of replication group Main/Cache; ${IN_MAINTENANCE}`],
  ];

  test.each(warnings)('%s is warned about', (_name, groupProps, schedule, message) => {
    const { main, flow } = exportApp(groupProps);
    flow('Nightly', { schedule });
    expect(Annotations.fromStack(main.stack).findWarning('/Main/Nightly', message + ' [ack: cdk-elasticache-backup:scheduleInMaintenanceWindow]')).toHaveLength(1);
  });

  const fine: Array<[string, Partial<GroupProps>, events.Schedule]> = [
    ['a run when the snapshot window ends', snapshotAt('05:00-06:00'), events.Schedule.cron({ hour: '6', minute: '0' })],
    ['a run before the snapshot window', snapshotAt('05:00-06:00'), events.Schedule.cron({ hour: '4', minute: '59' })],
    ['another day than the maintenance window', maintenanceAt('sun:23:00-mon:00:30'), events.Schedule.expression('cron(15 0 ? * TUE-SAT *)')],
    ['a rate schedule', { ...snapshotAt('05:00-06:00'), ...maintenanceAt('sun:23:00-mon:00:30') }, events.Schedule.rate(Duration.hours(1))],
    ['automatic backups off', { backup: { retention: Duration.days(0), window: SnapshotWindow.fromString('05:00-06:00') } }, events.Schedule.cron({ hour: '5', minute: '30' })],
    ['a schedule that is a token', snapshotAt('05:00-06:00'), events.Schedule.expression(Token.asString(Lazy.string({ produce: () => 'cron(30 5 * * ? *)' })))],
    ['a cron expression not understood here', snapshotAt('05:00-06:00'), events.Schedule.expression('cron(30 5 * * ?)')],
  ];

  test.each(fine)('%s passes without a warning', (_name, groupProps, schedule) => {
    const { main, flow } = exportApp(groupProps);
    flow('Nightly', { schedule });
    Annotations.fromStack(main.stack).hasNoWarning('/Main/Nightly', Match.anyValue());
  });

  test('an imported group has no known windows', () => {
    const { main, exportBucket } = exportApp();
    const imported = RedisReplicationGroup.fromReplicationGroupAttributes(main.stack, 'Imported', { replicationGroupId: 'legacy' });
    expect(() => new ScheduledSnapshotExport(main.stack, 'Nightly', {
      replicationGroup: imported, exportBucket, schedule: events.Schedule.cron({ hour: '5', minute: '30' }),
    })).not.toThrow();
  });
});

describe('members are checked against the group defined in the app', () => {
  const MEMBERS = 'app-001, app-002';
  const cases: Array<[string, (g: RedisReplicationGroup) => void, string]> = [
    ['RedisSnapshot from a member of another group', (g) => new RedisSnapshot(g.stack, 'S', { replicationGroup: g, snapshotName: 's', source: BackupSource.member('other-002') }),
      `source member 'other-002' is not a member of replication group 'app' (Main/Cache), whose members are ${MEMBERS}`],
    ['RedisSnapshot from a member the group does not have', (g) => new RedisSnapshot(g.stack, 'S', { replicationGroup: g, snapshotName: 's', source: BackupSource.member('app-003') }),
      `source member 'app-003' is not a member of replication group 'app' (Main/Cache), whose members are ${MEMBERS}`],
    ['ScheduledSnapshotExport from a member of another group', (g) => {
      const dr = new Stack(g.stack.node.root as App, 'Dr', { env: { account: ACCOUNT, region: 'us-west-2' } });
      new ScheduledSnapshotExport(g.stack, 'Nightly', {
        replicationGroup: g,
        exportBucket: new SnapshotExportBucket(g.stack, 'Exports', { replica: new SnapshotReplicaBucket(dr, 'Replica') }),
        source: BackupSource.member('other-002'),
      });
    }, `source member 'other-002' is not a member of replication group 'app' (Main/Cache), whose members are ${MEMBERS}`],
  ];

  test.each(cases)('%s is refused', (_name, build, message) => {
    const app = new App();
    const g = group(stackIn(app, 'Main', EU), 'Cache', { replicationGroupId: 'app' });
    expect(() => build(g)).toThrow(new Error(message));
  });

  test('BackupSource.replica() of a group without replicas is refused', () => {
    const app = new App();
    const g = group(stackIn(app, 'Main', EU), 'Cache', { replicationGroupId: 'app', replicasPerShard: 0 });
    expect(() => new RedisSnapshot(g.stack, 'S', { replicationGroup: g, snapshotName: 's', source: BackupSource.replica() }))
      .toThrow(new Error('source is BackupSource.replica() but replication group Main/Cache has no replicas (replicasPerShard is 0); use BackupSource.primary() or add a replica'));
  });

  test('a member the group has is taken as given', () => {
    const app = new App();
    const main = stackIn(app, 'Main', EU);
    const g = group(main, 'Cache', { replicationGroupId: 'app', replicasPerShard: 2 });
    new RedisSnapshot(main.stack, 'S', { replicationGroup: g, snapshotName: 's', source: BackupSource.member('app-003') });
    Template.fromStack(main.stack).hasResourceProperties('Custom::RedisSnapshot', { CacheClusterId: 'app-003' });
  });

  test('a group whose id is a token is not checked', () => {
    const app = new App();
    const main = stackIn(app, 'Main', EU);
    const g = group(main, 'Cache', { replicationGroupId: Token.asString(Lazy.string({ produce: () => 'app' })) });
    expect(() => new RedisSnapshot(main.stack, 'S', { replicationGroup: g, snapshotName: 's', source: BackupSource.member('other-002') })).not.toThrow();
  });
});

describe('metricReplicationLag needs a replica', () => {
  test.each<[string, Partial<GroupProps>]>([
    ['cluster mode disabled', { replicasPerShard: 0, multiAz: false }],
    ['cluster mode enabled', { clusterMode: ClusterMode.ENABLED, shards: 2, replicasPerShard: 0 }],
  ])('a group without replicas, %s, refuses it', (_name, props) => {
    const g = group(stackIn(new App(), 'Main', EU), 'Cache', props);
    const message = 'metricReplicationLag() is asked of replication group Main/Cache, which has no replicas (replicasPerShard is 0); ElastiCache publishes ReplicationLag only for replicas';
    expect(() => g.metricReplicationLag()).toThrow(new Error(message));
    expect(() => g.metricReplicationLag({ memberId: 'x-001' })).toThrow(new Error(message));
  });

  test('a group with replicas reports its first replica', () => {
    const g = group(stackIn(new App(), 'Main', EU), 'Cache', { replicationGroupId: 'app' });
    expect(g.stack.resolve(g.metricReplicationLag().dimensions)).toEqual({ CacheClusterId: { 'Fn::Join': ['', [{ Ref: expect.stringMatching(/^Cache/) }, '-002']] } });
  });
});
