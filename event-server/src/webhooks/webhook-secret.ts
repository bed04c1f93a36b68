import { randomBytes } from 'node:crypto';
import type { WebhookSecret } from './webhook-endpoint.js';

/** How long the previous secret still signs after a rotation, so receivers can switch without a gap. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes (the HMAC key is those bytes). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The secrets that sign now: the current one and a rotated-out one until its overlap ends. */
export function signingSecrets(secrets: readonly WebhookSecret[], now: Date): string[] {
  return secrets.filter((secret) => !secret.expiresAt || secret.expiresAt > now).map((secret) => secret.value);
}

/**
 * Rotated-out secrets that still sign at most, each until its own overlap ends: a second rotation within a
 * day does not cut short the overlap the first one announced (its answer and audit entry gave its end).
 * Beyond this many, the ones whose overlap ends first are dropped, so a request never carries more than
 * this many signatures plus one.
 */
export const MAX_PREVIOUS_SECRETS = 3;

/**
 * After a rotation: the new secret, the old current one until the overlap ends, and the secrets rotated out
 * before whose overlaps have not ended (at most MAX_PREVIOUS_SECRETS in all, the latest-ending kept).
 */
export function rotate(secrets: readonly WebhookSecret[], now: Date): WebhookSecret[] {
  const current = secrets.find((secret) => !secret.expiresAt);
  const rotatedOut = current ? [{ ...current, expiresAt: new Date(now.getTime() + ROTATION_OVERLAP_MS) }] : [];
  const previous = previousSecrets([...secrets, ...rotatedOut], now).map((secret) => ({ ...secret }));
  return [{ value: newWebhookSecret(), createdAt: now }, ...previous.slice(0, MAX_PREVIOUS_SECRETS)];
}

/** The rotated-out secrets that still sign at `now`, the one that signs longest (the latest rotation's) first. */
export function previousSecrets(secrets: readonly WebhookSecret[], now: Date): WebhookSecret[] {
  return secrets
    .filter((secret) => secret.expiresAt && secret.expiresAt > now)
    .sort((a, b) => b.expiresAt!.getTime() - a.expiresAt!.getTime());
}
