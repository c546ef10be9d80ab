import { firstReplicaMemberId, memberId, memberIds, nodeGroupId, primaryMemberId } from '../src/private/members';

// The same member lists the emulator's own tests expect of ElastiCache (test/local/elasticache.test.ts
// and test/local/cluster.test.ts): the library and the emulator keep separate copies of the rule.
test.each([
  ['cluster mode disabled', 'sessions', false, 1, 2, ['sessions-001', 'sessions-002', 'sessions-003']],
  ['cluster mode disabled, no replicas', 'solo', false, 1, 0, ['solo-001']],
  ['cluster mode enabled', 'catalog', true, 3, 1,
    ['catalog-0001-001', 'catalog-0001-002', 'catalog-0002-001', 'catalog-0002-002', 'catalog-0003-001', 'catalog-0003-002']],
  ['cluster mode enabled, no replicas', 'wide', true, 2, 0, ['wide-0001-001', 'wide-0002-001']],
])('%s: memberIds(%j, ...) lists every member, shard by shard, primary first', (_, groupId, clustered, shards, replicas, expected) => {
  expect(memberIds(groupId, clustered, shards, replicas)).toEqual(expected);
});

test.each([
  [1, '0001'],
  [12, '0012'],
  [500, '0500'],
])('node group %d is %j', (shard, expected) => {
  expect(nodeGroupId(shard)).toBe(expected);
});

test.each([
  ['orders', undefined, 1, 'orders-001'],
  ['orders', undefined, 6, 'orders-006'],
  ['orders', 2, 3, 'orders-0002-003'],
  ['*', undefined, 2, '*-002'],
])('memberId(%j, %j, %d) is %j', (groupId, shard, node, expected) => {
  expect(memberId(groupId, shard, node)).toBe(expected);
});

test.each([
  [false, 'orders-001', 'orders-002'],
  [true, 'orders-0001-001', 'orders-0001-002'],
])('with clustered %j the primary is %j and the first replica %j', (clustered, primary, replica) => {
  expect(primaryMemberId('orders', clustered)).toBe(primary);
  expect(firstReplicaMemberId('orders', clustered)).toBe(replica);
});
