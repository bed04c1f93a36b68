/**
 * A chore one process does at most every `everyMs` (a sweep that, on some stores, reads every record it
 * might delete): `due(now)` is true when `everyMs` has passed since it last was, and then counts the next
 * interval from `now`. With a real clock the first call is due.
 */
export class AtMostEvery {
  private last = 0;

  constructor(private readonly everyMs: number) {}

  due(now: number): boolean {
    if (now - this.last < this.everyMs) return false;
    this.last = now;
    return true;
  }
}
