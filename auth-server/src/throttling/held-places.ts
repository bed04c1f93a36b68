/**
 * Takes one of `key`'s places counted in `held` and returns its release: called once or more, it gives the
 * place back once, and a key holding none has no entry (the map holds only keys with places taken).
 */
export function takePlace(held: Map<string, number>, key: string): () => void {
  held.set(key, (held.get(key) ?? 0) + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (held.get(key) ?? 1) - 1;
    if (left > 0) held.set(key, left);
    else held.delete(key);
  };
}
