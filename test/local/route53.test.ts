/**
 * The local provider's Route 53, driven through the real @aws-sdk/client-route-53.
 */
import {
  ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, DeleteHostedZoneCommand, GetChangeCommand, GetHostedZoneCommand, HostedZoneAlreadyExists,
  HostedZoneNotEmpty, InvalidChangeBatch, ListHostedZonesCommand, ListResourceRecordSetsCommand, NoSuchHostedZone, Route53Client,
} from '@aws-sdk/client-route-53';
import { LocalProvider } from '../../local/provider';

let provider: LocalProvider;
let r53: Route53Client;
let zoneId: string;

const cname = (Action: 'CREATE' | 'UPSERT' | 'DELETE', Name: string, value: string, TTL = 60) => ({
  Action, ResourceRecordSet: { Name, Type: 'CNAME' as const, TTL, ResourceRecords: [{ Value: value }] },
});

beforeAll(async () => {
  provider = await LocalProvider.start({ speed: 600, dnsSyncDelay: 60_000 });
  r53 = new Route53Client({ region: 'us-east-1', endpoint: provider.endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
  const out = await r53.send(new CreateHostedZoneCommand({ Name: 'cache.example.com', CallerReference: 'zone-1' }));
  zoneId = out.HostedZone!.Id!;
});

afterAll(async () => {
  r53?.destroy();
  await provider?.stop();
});

test('hosted zones are created once per caller reference and listed', async () => {
  expect(zoneId).toMatch(/^\/hostedzone\/Z[0-9A-F]+$/);
  await expect(r53.send(new CreateHostedZoneCommand({ Name: 'other.example.com', CallerReference: 'zone-1' }))).rejects.toBeInstanceOf(HostedZoneAlreadyExists);
  const zones = await r53.send(new ListHostedZonesCommand({}));
  expect(zones.HostedZones!.map((z) => z.Name)).toEqual(['cache.example.com.']);
  await expect(r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: 'ZNOPE' }))).rejects.toBeInstanceOf(NoSuchHostedZone);
});

test('a change is PENDING, then INSYNC; resolution follows only what is in sync', async () => {
  const out = await r53.send(new ChangeResourceRecordSetsCommand({
    HostedZoneId: zoneId,
    ChangeBatch: { Changes: [cname('CREATE', 'redis.cache.example.com', 'primary-a.eu-west-1.local')] },
  }));
  expect(out.ChangeInfo?.Status).toBe('PENDING');
  expect(provider.route53.resolve('redis.cache.example.com')).toEqual([]);
  const listed = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  expect(listed.ResourceRecordSets!.map((r) => `${r.Name} ${r.Type}`)).toEqual(['cache.example.com. NS', 'cache.example.com. SOA', 'redis.cache.example.com. CNAME']);

  await provider.clock.advance(60_000);
  expect((await r53.send(new GetChangeCommand({ Id: out.ChangeInfo!.Id }))).ChangeInfo?.Status).toBe('INSYNC');
  expect(provider.route53.resolve('redis.cache.example.com')).toEqual(['primary-a.eu-west-1.local']);

  // The cutover: an UPSERT moves the name; until it is in sync, the old answer stands.
  const cutover = await r53.send(new ChangeResourceRecordSetsCommand({
    HostedZoneId: zoneId, ChangeBatch: { Changes: [cname('UPSERT', 'redis.cache.example.com.', 'primary-b.us-west-2.local')] },
  }));
  expect(provider.route53.resolve('redis.cache.example.com')).toEqual(['primary-a.eu-west-1.local']);
  await provider.clock.advance(60_000);
  expect((await r53.send(new GetChangeCommand({ Id: cutover.ChangeInfo!.Id }))).ChangeInfo?.Status).toBe('INSYNC');
  expect(provider.route53.resolve('REDIS.cache.example.com.')).toEqual(['primary-b.us-west-2.local']);
});

test.each([
  ['creating a record that exists', [cname('CREATE', 'redis.cache.example.com', 'x')],
    "[Tried to create resource record set [name='redis.cache.example.com.', type='CNAME'] but it already exists]"],
  ['deleting a record that does not exist', [cname('DELETE', 'gone.cache.example.com', 'x')],
    "[Tried to delete resource record set [name='gone.cache.example.com.', type='CNAME'] but it was not found]"],
  ['deleting with values that do not match', [cname('DELETE', 'redis.cache.example.com', 'primary-a.eu-west-1.local')],
    "[Tried to delete resource record set [name='redis.cache.example.com.', type='CNAME'] but the values provided do not match the current values]"],
  ['a name outside the zone', [cname('UPSERT', 'redis.example.org', 'x')],
    '[RRSet with DNS name redis.example.org. is not permitted in zone cache.example.com.]'],
  ['a CNAME at the apex', [cname('UPSERT', 'cache.example.com', 'x')],
    '[RRSet of type CNAME with DNS name cache.example.com. is not permitted at apex in zone cache.example.com.]'],
])('InvalidChangeBatch for %s, and nothing in the batch applies', async (_name, changes, message) => {
  const before = (await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets;
  const error = await r53.send(new ChangeResourceRecordSetsCommand({
    HostedZoneId: zoneId, ChangeBatch: { Changes: [cname('UPSERT', 'extra.cache.example.com', 'y'), ...changes] },
  })).catch((e) => e);
  expect(error).toBeInstanceOf(InvalidChangeBatch);
  expect(error.message).toBe(message);
  expect((await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }))).ResourceRecordSets).toEqual(before);
});

test('an injected throttling error is retried by the SDK; a rejected change fails with its code and changes nothing', async () => {
  provider.route53.faults.rejectChanges = 1;
  provider.route53.faults.rejectCode = 'PriorRequestNotComplete';
  const retried = await r53.send(new ChangeResourceRecordSetsCommand({
    HostedZoneId: zoneId, ChangeBatch: { Changes: [cname('UPSERT', 'retried.cache.example.com', 'r')] },
  }));
  expect(retried.$metadata.attempts).toBe(2);

  provider.route53.faults.rejectChanges = 1;
  provider.route53.faults.rejectCode = 'InvalidInput';
  const error = await r53.send(new ChangeResourceRecordSetsCommand({
    HostedZoneId: zoneId, ChangeBatch: { Changes: [cname('UPSERT', 'redis.cache.example.com', 'z')] },
  })).catch((e) => e);
  expect(error.name).toBe('InvalidInput');
  await provider.clock.advance(60_000);
  expect(provider.route53.resolve('redis.cache.example.com')).toEqual(['primary-b.us-west-2.local']);
});

test('a hosted zone is deleted only without records of its own (HostedZoneNotEmpty), then is gone', async () => {
  const zone = (await r53.send(new CreateHostedZoneCommand({ Name: 'gone.example.com', CallerReference: 'zone-gone' }))).HostedZone!.Id!;
  await r53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zone, ChangeBatch: { Changes: [cname('CREATE', 'a.gone.example.com', 'b.example.com')] } }));
  await expect(r53.send(new DeleteHostedZoneCommand({ Id: zone }))).rejects.toBeInstanceOf(HostedZoneNotEmpty);
  await r53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: zone, ChangeBatch: { Changes: [cname('DELETE', 'a.gone.example.com', 'b.example.com')] } }));
  const out = await r53.send(new DeleteHostedZoneCommand({ Id: zone }));
  expect(out.ChangeInfo?.Status).toBe('PENDING');
  await expect(r53.send(new GetHostedZoneCommand({ Id: zone }))).rejects.toBeInstanceOf(NoSuchHostedZone);
  await expect(r53.send(new DeleteHostedZoneCommand({ Id: zone }))).rejects.toBeInstanceOf(NoSuchHostedZone);
});
