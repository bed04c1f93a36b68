import type { AuthenticatedUser } from '@reward/server-kit/roles';

export interface VerifiedTokenCacheOptions {
  /** The most tokens remembered; the least recently used one is forgotten first. */
  capacity?: number;
  /** The longest a verification is reused, so a key withdrawn from the JWKS stops counting soon. */
  maxAgeMs?: number;
  now?: () => number;
}

interface Entry {
  user: AuthenticatedUser;
  /** Until when (ms) the verification may be reused: never past the token's own `exp`. */
  until: number;
}

const BEARER = /^Bearer ([A-Za-z0-9_.-]+)$/i;

/** The token of an `Authorization: Bearer <token>` header written the one plain way, else undefined. */
export function bearerTokenOf(authorization: unknown): string | undefined {
  return typeof authorization === 'string' ? BEARER.exec(authorization)?.[1] : undefined;
}

/** The `exp` (seconds) of a token whose signature was already verified; undefined when it has none. */
function expiryOf(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' && Number.isFinite(payload.exp) ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Access tokens the gateway has verified completely (signature, alg, kid, iss, aud, exp), keyed by the
 * whole token string, so a burst of requests with one token costs one RSA verification instead of one
 * per request. Any change to a token (one byte of its signature or claims) is another key and is
 * verified from scratch; an entry never outlives the token's `exp` (nor `maxAgeMs`); roles are still
 * checked on every request against the remembered claims, which are the token's own.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly capacity: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(options: VerifiedTokenCacheOptions = {}) {
    this.capacity = options.capacity ?? 10_000;
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The caller of a token verified before and not yet expired, else undefined. */
  get(token: string): AuthenticatedUser | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    this.entries.delete(token);
    if (entry.until <= this.now()) return undefined;
    // Re-inserted: a Map iterates in insertion order, so the first key is the least recently used.
    this.entries.set(token, entry);
    return { id: entry.user.id, roles: [...entry.user.roles] };
  }

  /** Remembers a token that was just verified; one without `exp` is never remembered. */
  remember(token: string, user: AuthenticatedUser): void {
    const exp = expiryOf(token);
    if (exp === undefined) return;
    const now = this.now();
    const until = Math.min(exp * 1000, now + this.maxAgeMs);
    if (until <= now) return;
    this.entries.delete(token);
    this.entries.set(token, { user: { id: user.id, roles: [...user.roles] }, until });
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}
