import { HASH_SLOTS, slotRanges } from '../src/private/slots';

test.each([
  [1, ['0-16383']],
  [2, ['0-8191', '8192-16383']],
  [3, ['0-5460', '5461-10922', '10923-16383']],
  [5, ['0-3276', '3277-6553', '6554-9829', '9830-13106', '13107-16383']],
])('%d shards get %j', (shards, expected) => {
  expect(slotRanges(shards)).toEqual(expected);
});

test.each([1, 7, 90, 500])('the slot ranges of %d shards cover every slot once, in order', (shards) => {
  const ranges = slotRanges(shards).map((r) => r.split('-').map(Number));
  expect(ranges).toHaveLength(shards);
  let next = 0;
  for (const [first, last] of ranges) {
    expect(first).toBe(next);
    expect(last).toBeGreaterThanOrEqual(first);
    next = last + 1;
  }
  expect(next).toBe(HASH_SLOTS);
});
