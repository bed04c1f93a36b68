import { describe, expect, it } from 'vitest';
import type { WebhookSecret } from './webhook-endpoint.js';
import { MAX_PREVIOUS_SECRETS, ROTATION_OVERLAP_MS, newWebhookSecret, rotate, signingSecrets } from './webhook-secret.js';

const HOUR = 60 * 60 * 1000;
const at = (ms: number) => new Date(Date.parse('2026-12-01T00:00:00Z') + ms);

describe('rotate', () => {
  it('keeps the rotated-out secret signing for the overlap, beside the new one', () => {
    const first: WebhookSecret[] = [{ value: newWebhookSecret(), createdAt: at(0) }];
    const second = rotate(first, at(HOUR));
    expect(signingSecrets(second, at(HOUR))).toEqual([second[0]!.value, first[0]!.value]);
    expect(signingSecrets(second, at(HOUR + ROTATION_OVERLAP_MS - 1))).toContain(first[0]!.value);
    expect(signingSecrets(second, at(HOUR + ROTATION_OVERLAP_MS))).toEqual([second[0]!.value]);
  });

  it('does not cut short an overlap already announced when it rotates again within it', () => {
    const s0: WebhookSecret[] = [{ value: newWebhookSecret(), createdAt: at(0) }];
    const s1 = rotate(s0, at(HOUR));
    const s2 = rotate(s1, at(2 * HOUR));
    // s0 was told to sign until an hour plus the overlap: it still does, beside s1 and the new secret.
    expect(signingSecrets(s2, at(2 * HOUR))).toEqual([s2[0]!.value, s1[0]!.value, s0[0]!.value]);
    expect(signingSecrets(s2, at(HOUR + ROTATION_OVERLAP_MS))).toEqual([s2[0]!.value, s1[0]!.value]);
    expect(signingSecrets(s2, at(2 * HOUR + ROTATION_OVERLAP_MS))).toEqual([s2[0]!.value]);
  });

  it(`keeps at most ${MAX_PREVIOUS_SECRETS} rotated-out secrets, the latest-ending ones, and drops the ended ones`, () => {
    let secrets: WebhookSecret[] = [{ value: newWebhookSecret(), createdAt: at(0) }];
    const handedOut = [secrets[0]!.value];
    for (let i = 1; i <= 6; i++) {
      secrets = rotate(secrets, at(i * HOUR));
      handedOut.push(secrets[0]!.value);
    }
    expect(signingSecrets(secrets, at(6 * HOUR))).toEqual(handedOut.slice(-1 - MAX_PREVIOUS_SECRETS).reverse());
    expect(rotate(secrets, at(6 * HOUR + 2 * ROTATION_OVERLAP_MS))).toHaveLength(1 + 1);
  });
});
