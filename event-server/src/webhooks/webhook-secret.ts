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

/** After a rotation: the new secret, and the old current one until the overlap ends (older ones dropped). */
export function rotate(secrets: readonly WebhookSecret[], now: Date): WebhookSecret[] {
  const current = secrets.find((secret) => !secret.expiresAt);
  const next: WebhookSecret[] = [{ value: newWebhookSecret(), createdAt: now }];
  if (current) next.push({ ...current, expiresAt: new Date(now.getTime() + ROTATION_OVERLAP_MS) });
  return next;
}
