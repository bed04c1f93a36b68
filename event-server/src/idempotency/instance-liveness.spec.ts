import { Logger } from '@nestjs/common';
import type { Model } from 'mongoose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EventConfig } from '../config/event-config.js';
import { InstanceLiveness } from './instance-liveness.js';
import type { InstanceEntity } from './instance.schema.js';

/** A store whose every beat fails as the driver's does once its client is closed. */
function closedStore(): Model<InstanceEntity> {
  const failing = () => ({ exec: () => Promise.reject(new Error('Operation interrupted because client was closed')) });
  const stored = () => ({ exec: () => Promise.resolve() });
  return { deleteMany: stored, create: () => Promise.resolve(), updateOne: failing } as unknown as Model<InstanceEntity>;
}

describe('InstanceLiveness', () => {
  afterEach(() => vi.restoreAllMocks());

  it('says a failing beat once while it runs, and nothing of a beat its own shutdown cut off', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const liveness = new InstanceLiveness({ claims: { heartbeatMs: 60_000 } } as EventConfig, closedStore());
    await liveness.onApplicationBootstrap();
    const beat = (liveness as unknown as { beat(): Promise<void> }).beat.bind(liveness);
    await beat();
    await beat();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/heartbeat not stored/);

    warn.mockClear();
    const quiet = new InstanceLiveness({ claims: { heartbeatMs: 60_000 } } as EventConfig, closedStore());
    await quiet.onApplicationBootstrap();
    const cut = (quiet as unknown as { beat(): Promise<void> }).beat.call(quiet);
    quiet.onApplicationShutdown();
    await cut;
    expect(warn).not.toHaveBeenCalled();
  });
});
