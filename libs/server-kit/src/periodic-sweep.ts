import type { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { isStoreUnavailable } from './store-unavailable.js';

/**
 * A sweep of what crashed requests left behind, run when the server starts (a crashed server is restarted) and
 * then every `everyMs` (none when 0), one at a time: a timer's sweep while one is under way is skipped, since it
 * would only repeat it. `sweep()` asked for directly (a test, a caller that just left something behind) runs a
 * whole pass that starts after the call, after the one under way if any, which may have listed its documents
 * before the latest were left so. A store that is away is a warning (the next sweep tries again), anything
 * else an error line.
 */
export abstract class PeriodicSweep implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  /** `what`: the sweep's name in its log lines. */
  protected constructor(
    private readonly what: string,
    private readonly everyMs: number,
  ) {}

  protected abstract readonly logger: Logger;

  /** One whole pass; `now` is its clock. */
  protected abstract sweepOnce(now: Date): Promise<void>;

  onApplicationBootstrap(): void {
    void this.sweepInBackground();
    if (this.everyMs > 0) this.timer = setInterval(() => void this.sweepInBackground(), this.everyMs).unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** A whole pass that starts after this call (see the class); `now`: its clock. */
  sweep(now?: Date): Promise<void> {
    const next = (this.running ?? Promise.resolve()).catch(() => undefined).then(() => this.sweepOnce(now ?? new Date()));
    const settled = next.finally(() => {
      if (this.running === settled) this.running = undefined;
    });
    this.running = settled;
    return settled;
  }

  private async sweepInBackground(): Promise<void> {
    if (this.running) return;
    try {
      await this.sweep();
    } catch (error) {
      if (isStoreUnavailable(error)) this.logger.warn(`${this.what} failed, tried again later: ${String(error)}`);
      else this.logger.error({ err: error }, `${this.what} failed`);
    }
  }
}
