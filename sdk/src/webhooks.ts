// Hand-written: verifying the payout webhooks the event server sends (Standard Webhooks, symmetric v1).
import { createHmac, timingSafeEqual } from 'node:crypto';

/** A claim as a webhook carries it. */
export interface WebhookClaim {
  /** The claim id: use it as the grant's idempotency key in the game (credit each claim once). */
  id: string;
  eventId: string;
  userId: string;
  status: 'GRANTED' | 'REVOKED' | 'PENDING' | 'REJECTED';
  reason?: string;
  note?: string;
  /** `itemCode` (an ITEM) and `couponCode` (a COUPON): what to give in the game, as the reward had them then. */
  rewards: Array<{ rewardId: string; type: string; name: string; quantity: number; itemCode?: string; couponCode?: string }>;
  createdAt: string;
  /** When it was decided; absent from `claim.pending` (not decided yet). */
  decidedAt?: string;
}

export type WebhookPayloadType = 'claim.granted' | 'claim.revoked' | 'claim.pending' | 'claim.rejected';

/** The JSON body of every payout webhook. */
export interface WebhookPayload<T extends WebhookPayloadType = WebhookPayloadType> {
  /** Equals the `webhook-id` header: the same on every retry, dedupe by it. */
  id: string;
  type: T;
  createdAt: string;
  data: WebhookClaim;
}

export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

export interface VerifyWebhookOptions {
  /** How far `webhook-timestamp` may be from now, either way (default 300 s): replays of old requests fail. */
  toleranceSeconds?: number;
  /** For tests: the current time in ms. */
  now?: number;
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(bag).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : bag[key];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks a webhook's signature and age and returns its parsed payload; throws WebhookVerificationError
 * otherwise. `rawBody` must be the bytes as received (not re-serialized JSON). `secret` is the endpoint's
 * `whsec_...` secret; during a rotation the request carries one signature per secret and either verifies.
 */
export function verifyWebhook(
  secret: string,
  headers: HeaderBag,
  rawBody: string | Uint8Array,
  options: VerifyWebhookOptions = {},
): WebhookPayload {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures)
    throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature');
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError('malformed webhook-timestamp');
  const tolerance = options.toleranceSeconds ?? 300;
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > tolerance)
    throw new WebhookVerificationError('webhook-timestamp is outside the tolerance');
  const body = typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody).toString('utf8');
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  const matches = signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookVerificationError('no matching signature');
  try {
    return JSON.parse(body) as WebhookPayload;
  } catch {
    throw new WebhookVerificationError('the body is not JSON');
  }
}
