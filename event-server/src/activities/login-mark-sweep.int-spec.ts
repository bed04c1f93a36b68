import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { newId, startEventTestApp } from '../testing/event-test-app.js';
import { marksOf, recordLoginsWithoutMarks } from '../testing/login-test-kit.js';
import { LoginMarkSweep } from './login-mark-sweep.js';
import { LoginQuarterRepository } from './login-quarter.repository.js';

/** The sweep that marks LOGINs recorded without their mark: with clocks that disagree, and at shutdown. */
describe('login mark sweep', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('marks a login recorded by a replica whose clock is behind the sweeping one (the record is a createdAt, not the sweeper clock)', async () => {
    const app = await startEventTestApp('login_mark_sweep', { LOGIN_MARK_SWEEP_MS: '0' });
    const sweeper = app.app.get(LoginMarkSweep);
    try {
      const earlier = newId();
      await recordLoginsWithoutMarks(app, earlier, [new Date()]);
      // A sweep by a replica whose clock is two hours ahead (more than SWEEP_OVERLAP_MS); only the sweep runs
      // on that clock.
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 2 * 3_600_000, shouldAdvanceTime: true });
      try {
        await sweeper.sweep();
      } finally {
        vi.useRealTimers();
      }
      expect(await marksOf(app, earlier)).toBe(1);
      // Then a login by a right clock, without its mark, and the next sweep.
      const player = newId();
      await recordLoginsWithoutMarks(app, player, [new Date()]);
      await sweeper.sweep();
      expect(await marksOf(app, player)).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('lets a sweep under way finish its batch when the server closes, before the store goes: no failure logged', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const app = await startEventTestApp('login_mark_sweep', { LOGIN_MARK_SWEEP_MS: '0' });
    const player = newId();
    await recordLoginsWithoutMarks(app, player, [new Date()]);
    // The sweep holds at its marks insert until the server's close has reached the sweep.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const atMarks = new Promise<void>((resolve) => (reached = resolve));
    const marks = app.app.get(LoginQuarterRepository);
    const mark = marks.mark.bind(marks);
    vi.spyOn(marks, 'mark').mockImplementation(async (logins) => {
      reached();
      await gate;
      return mark(logins);
    });
    const sweeper = app.app.get(LoginMarkSweep);
    const destroy = sweeper.onModuleDestroy.bind(sweeper);
    vi.spyOn(sweeper, 'onModuleDestroy').mockImplementation(() => {
      release();
      return destroy();
    });
    const sweep = sweeper.sweep();
    await atMarks;
    await app.close();
    await expect(sweep).resolves.toBe(1);
    expect(warn.mock.calls.map((call) => String(call[0])).filter((line) => line.includes('login mark sweep'))).toEqual([]);
  });
});
