import { vi } from 'vitest';

/** An async method's name on `T`. */
type AsyncMethodOf<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof T] &
  string;

/** What a held call gives the test: whether (and how often) the method was called, and the release of the held call. */
export interface HeldCall {
  /** Whether the held call has been made. */
  reached: () => boolean;
  /** Calls of the method since it was held, the held one included (the later ones run at once). */
  calls: () => number;
  /** Lets the held call go on to the real method. */
  release: () => void;
}

/**
 * Holds the next call of `target[method]` (a repository's, say) until `release()`, then runs the real method:
 * a test fills a gate or a queue with requests it controls, with no timing involved. Later calls run at once.
 * Undone by vi.restoreAllMocks().
 */
export function holdNextCall<T extends object, M extends AsyncMethodOf<T>>(target: T, method: M): HeldCall {
  const real = (target[method] as (...args: unknown[]) => Promise<unknown>).bind(target);
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  // Spied by its name only: the method's own signature is not what a test holding it checks.
  const methods = target as unknown as { [name: string]: (...args: unknown[]) => Promise<unknown> };
  const spy = vi.spyOn(methods, method as string).mockImplementationOnce(async (...args: unknown[]) => {
    await released;
    return real(...args);
  });
  return { reached: () => spy.mock.calls.length > 0, calls: () => spy.mock.calls.length, release };
}
