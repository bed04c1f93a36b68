import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ClaimsService } from '../claims/claims.service.js';

/**
 * How long no claim must have been running before the relay takes its turn. Back-to-back claims of one
 * client leave gaps of a few milliseconds (its next request on the way): the relay must not slip into one.
 */
export const CLAIM_QUIET_MS = 15;
/** How often the claim path's load is looked at while the relay waits for a quiet moment. */
const SAMPLE_MS = 1;

/**
 * The clock of `gap`'s and `quiet`'s deadlines: monotonic (performance.now()), not the wall clock. A wall
 * clock set back (NTP stepping it, an operator) would stretch a wait meant to last a moment by as much as
 * it moved, and the relay, whose round awaits it, would deliver nothing meanwhile (as seen when a test moved
 * Date.now ahead while a round began: closing the server then waited for the wall clock to catch up).
 */
export const loadClock = (): number => performance.now();

/** Claims in flight in this process now, as the claim path's admission gate counts them. */
export type LoadProbe = () => { inFlight: number; queued: number };

/**
 * Whether this process's claim path is busy (read-only, no I/O). The relay and the claims share the store
 * and the CPU; a claim that waits behind relay commands is slower, a webhook that waits a moment is not
 * late. So the relay asks this before each batch of store work and waits for a quiet moment (bounded).
 *
 * The claim path exposes only its gate's counts, so "quiet" is seen by sampling them every millisecond
 * while the relay waits: nothing runs while nobody waits.
 */
@Injectable()
export class ClaimLoad implements OnApplicationBootstrap {
  private claimsProbe: LoadProbe = () => ({ inFlight: 0, queued: 0 });
  private probe: LoadProbe = () => this.claimsProbe();

  constructor(private readonly moduleRef: ModuleRef) {}

  onApplicationBootstrap(): void {
    // ClaimsService belongs to ClaimsModule, which does not export it: its load is the one thing read here.
    const claims = this.moduleRef.get(ClaimsService, { strict: false });
    this.claimsProbe = () => claims.load();
  }

  /** Test-only: what is sampled instead of the claim path (none: the claim path again). */
  useProbe(probe?: LoadProbe): void {
    this.probe = probe ?? (() => this.claimsProbe());
  }

  busy(): boolean {
    const { inFlight, queued } = this.probe();
    return inFlight + queued > 0;
  }

  /** Resolves as soon as no claim is in flight (at once when none is), or at `until` (loadClock ms) at the latest. */
  async gap(until: number): Promise<void> {
    while (this.busy() && loadClock() < until) await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
  }

  /**
   * Resolves once no claim has run for CLAIM_QUIET_MS, or at `until` (loadClock ms) at the latest; true when
   * it had to wait. `fromNow`: count the quiet time from now even when no claim is running (the start of
   * a round may fall into the gap between two claims); otherwise an idle claim path resolves at once.
   */
  async quiet(until: number, fromNow = false): Promise<boolean> {
    if (loadClock() >= until || (!fromNow && !this.busy())) return false;
    let lastBusy = loadClock();
    while (loadClock() < until) {
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
      if (this.busy()) lastBusy = loadClock();
      else if (loadClock() - lastBusy >= CLAIM_QUIET_MS) return true;
    }
    return true;
  }
}
