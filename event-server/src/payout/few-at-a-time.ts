/**
 * How many of the relay's per-item store commands run at once. One: measured with npm run bench:payout,
 * four at once cleared a burst's backlog about 1.5x faster but slowed claims made meanwhile about 1.9x
 * (one at a time: about 1.1x), and claims are what must not slow down.
 */
export const STORE_COMMANDS_AT_ONCE = 1;

/**
 * The entries grouped by their value (values alike when they serialise alike), each group with its keys
 * in order: the relay writes each group with one command.
 */
export function groupAlike<K, V>(entries: Iterable<readonly [K, V]>): Array<{ value: V; keys: K[] }> {
  const groups = new Map<string, { value: V; keys: K[] }>();
  for (const [key, value] of entries) {
    const id = JSON.stringify(value);
    const group = groups.get(id);
    if (group) group.keys.push(key);
    else groups.set(id, { value, keys: [key] });
  }
  return [...groups.values()];
}

/**
 * Runs `work` over the items, at most `width` at a time; results in the items' order. The relay's
 * per-item store commands go through this: FerretDB v1 stalls for good (every later command with it) when
 * many updates arrive at once, and a narrow width leaves the claim path little relay work to queue behind.
 */
export async function fewAtATime<T, R>(
  items: Iterable<T>,
  work: (item: T) => Promise<R>,
  width = STORE_COMMANDS_AT_ONCE,
): Promise<R[]> {
  const list = [...items];
  const results: R[] = new Array<R>(list.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < list.length) {
      const index = next++;
      results[index] = await work(list[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, list.length) }, worker));
  return results;
}
