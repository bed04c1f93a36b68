/** The most items one write of GroupedWrites carries. */
export const GROUPED_WRITE_MAX = 256;

/**
 * Group commit: items given while a write is under way wait for it to end, and then go in one write
 * together (at most `max` per write); an item given while none is under way is written at once. A caller's
 * promise settles when the write carrying its item did (a failed write fails every caller in it). Alone, an
 * item costs one write as before; under a crowd, one write serves many.
 */
export class GroupedWrites<T> {
  private pending: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private writing = false;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly max = GROUPED_WRITE_MAX,
  ) {}

  add(item: T): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.pending.push({ item, resolve, reject }));
    if (!this.writing) void this.drain();
    return done;
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending.length > 0) {
        const group = this.pending.splice(0, this.max);
        try {
          await this.write(group.map(({ item }) => item));
          for (const { resolve } of group) resolve();
        } catch (error) {
          for (const { reject } of group) reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}
