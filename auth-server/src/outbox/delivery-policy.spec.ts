import { describe, expect, it } from 'vitest';
import { backoffDelayMs, classifyDelivery } from './delivery-policy.js';

describe('classifyDelivery', () => {
  it.each([200, 201, 204])('%i is delivered', (status) => {
    expect(classifyDelivery({ kind: 'response', status, body: '{}' })).toEqual({ verdict: 'delivered' });
  });

  it.each([400, 403, 404, 409, 413, 422])('%i is poison: marked failed with the error, never retried', (status) => {
    expect(classifyDelivery({ kind: 'response', status, body: '{"code":"VALIDATION_FAILED"}' })).toEqual({
      verdict: 'poison',
      error: `HTTP ${status}: {"code":"VALIDATION_FAILED"}`,
    });
  });

  it.each([401, 408, 429, 500, 502, 503, 504, 302])('%i is retried', (status) => {
    expect(classifyDelivery({ kind: 'response', status, body: '' })).toEqual({ verdict: 'retry', error: `HTTP ${status}` });
  });

  it('retries a network failure and keeps its reason', () => {
    expect(classifyDelivery({ kind: 'network', error: 'fetch failed: connect ECONNREFUSED (ECONNREFUSED)' })).toEqual({
      verdict: 'retry',
      error: 'network: fetch failed: connect ECONNREFUSED (ECONNREFUSED)',
    });
  });

  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'])('marks a failure to connect (%s) unreachable: nothing was sent', (code) => {
    expect(classifyDelivery({ kind: 'network', error: `fetch failed (${code})`, code })).toEqual({
      verdict: 'retry',
      error: `network: fetch failed (${code})`,
      unreachable: true,
    });
  });

  it('does not call a failure after connecting (a reset, a timeout) unreachable', () => {
    expect(classifyDelivery({ kind: 'network', error: 'fetch failed (ECONNRESET)', code: 'ECONNRESET' })).toEqual({
      verdict: 'retry',
      error: 'network: fetch failed (ECONNRESET)',
    });
  });

  it('abandons (no attempt counted) when the relay stopped mid-request', () => {
    expect(classifyDelivery({ kind: 'aborted' })).toEqual({ verdict: 'abandoned' });
  });

  it('keeps at most 500 characters of a response body in the error', () => {
    const outcome = classifyDelivery({ kind: 'response', status: 400, body: 'x'.repeat(2000) });
    expect(outcome.verdict).toBe('poison');
    expect((outcome as { error: string }).error.length).toBeLessThanOrEqual(501);
  });
});

describe('backoffDelayMs', () => {
  const policy = { baseMs: 1000, maxMs: 30_000 };

  it('doubles from the base per failure up to the cap (upper bound, random → 1)', () => {
    const schedule = [1, 2, 3, 4, 5, 6, 7, 10, 50].map((attempts) => backoffDelayMs(attempts, policy, 0.999_999));
    expect(schedule).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
  });

  it('never waits less than half of the step (lower bound, random = 0)', () => {
    const schedule = [1, 2, 3, 4, 5, 6, 20].map((attempts) => backoffDelayMs(attempts, policy, 0));
    expect(schedule).toEqual([500, 1000, 2000, 4000, 8000, 15_000, 15_000]);
  });

  it('stays within [step/2, step] for any random draw', () => {
    for (let attempts = 1; attempts <= 12; attempts += 1) {
      const step = Math.min(30_000, 1000 * 2 ** (attempts - 1));
      for (const random of [0, 0.25, 0.5, 0.75, 0.999]) {
        const delay = backoffDelayMs(attempts, policy, random);
        expect(delay).toBeGreaterThanOrEqual(step / 2);
        expect(delay).toBeLessThanOrEqual(step);
      }
    }
  });

  it('treats a first attempt of 0 like 1 and does not overflow on huge counts', () => {
    expect(backoffDelayMs(0, policy, 0)).toBe(500);
    expect(backoffDelayMs(10_000, policy, 0)).toBe(15_000);
  });
});
