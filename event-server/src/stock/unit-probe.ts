/** How many random probes follow a refused first guess before the taken units are scanned. */
export const RANDOM_PROBES = 3;

export type Probe = { kind: 'unit'; unit: number } | { kind: 'scan' };

/**
 * Which unit to try on the given attempt of taking one unit of a reward with `stock` units of which
 * `taken` are held: the next free number first (right when nobody races), then random numbers (spreads
 * concurrent takers over the range), then a scan of the units actually taken.
 */
export function nextProbe(attempt: number, taken: number, stock: number, random: () => number = Math.random): Probe {
  if (attempt === 0 && taken < stock) return { kind: 'unit', unit: taken + 1 };
  if (attempt <= RANDOM_PROBES) return { kind: 'unit', unit: 1 + Math.min(stock - 1, Math.floor(random() * stock)) };
  return { kind: 'scan' };
}

/** The unit numbers in 1..stock missing from `takenSorted` (ascending), at most `max` of them. */
export function freeUnits(takenSorted: readonly number[], stock: number, max: number): number[] {
  const free: number[] = [];
  let index = 0;
  for (let unit = 1; unit <= stock && free.length < max; unit++) {
    while (index < takenSorted.length && takenSorted[index]! < unit) index++;
    if (takenSorted[index] !== unit) free.push(unit);
  }
  return free;
}
