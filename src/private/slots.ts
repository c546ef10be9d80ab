/** The number of hash slots in a Redis Cluster. */
export const HASH_SLOTS = 16384;

/**
 * Splits the hash slots evenly over `shards`, the way `redis-cli --cluster create` does:
 * 3 shards get `0-5460`, `5461-10922`, `10923-16383`.
 */
export function slotRanges(shards: number): string[] {
  const perShard = HASH_SLOTS / shards;
  const ranges: string[] = [];
  let first = 0;
  let cursor = 0;
  for (let i = 0; i < shards; i++) {
    let last = Math.round(cursor + perShard - 1);
    if (last > HASH_SLOTS - 1 || i === shards - 1) {
      last = HASH_SLOTS - 1;
    }
    ranges.push(`${first}-${last}`);
    first = last + 1;
    cursor += perShard;
  }
  return ranges;
}
