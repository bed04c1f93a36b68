import type { AuthenticatedUser } from './roles.js';

export interface VerifiedTokenCacheOptions {
  /** The most tokens remembered; beyond it, one not asked for lately is forgotten (see evictOne). */
  capacity?: number;
  /** The longest a verification is reused, so a key withdrawn from the JWKS stops counting soon. */
  maxAgeMs?: number;
  now?: () => number;
}

interface Entry {
  user: AuthenticatedUser;
  /** Until when (ms) the verification may be reused: never past the token's own `exp`. */
  until: number;
  /** Asked for since it was last passed over for eviction (it then gets a second chance). */
  recent: boolean;
  /** No longer in the cache (expired, evicted or replaced): a connection that kept it finds nothing. */
  forgotten: boolean;
}

const BEARER = /^Bearer ([A-Za-z0-9_.-]+)$/i;

/** The token of an `Authorization: Bearer <token>` header written the one plain way, else undefined. */
export function bearerTokenOf(authorization: unknown): string | undefined {
  return typeof authorization === 'string' ? BEARER.exec(authorization)?.[1] : undefined;
}

/**
 * What to look a header up by: the text after `Bearer ` without checking it, so a remembered token costs no
 * scan of its ~700 characters (only a token that passed `bearerTokenOf` and the whole verification is ever
 * remembered, so a malformed one is never found); any other spelling goes through `bearerTokenOf`.
 */
export function lookupKeyOf(authorization: unknown): string | undefined {
  if (typeof authorization === 'string' && authorization.startsWith('Bearer ')) return authorization.slice(7);
  return bearerTokenOf(authorization);
}

/** A copy of a caller (the token's claims, access version included): what a request does with it stays its own. */
function copyOf(user: AuthenticatedUser): AuthenticatedUser {
  return { id: user.id, roles: [...user.roles], ...(user.accessVersion !== undefined && { accessVersion: user.accessVersion }) };
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
 * Access tokens a server has verified completely (signature, alg, kid, iss, aud, exp and the claims' shape),
 * keyed by the whole token string, so a burst of requests with one token costs one RSA verification instead
 * of one per request (every server's JwtAuthGuard keeps one; the gateway's proxy shares its app's). Any
 * change to a token (one byte of its signature or claims) is another key and is verified from scratch; an
 * entry never outlives the token's `exp` (nor `maxAgeMs`); roles are still checked on every request against
 * the remembered claims, which are the token's own.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();
  /** Per connection, the last Authorization header found here (see getByHeader). */
  private readonly lastOnConnection = new WeakMap<object, { header: string; token: string; entry: Entry }>();
  private readonly capacity: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(options: VerifiedTokenCacheOptions = {}) {
    this.capacity = options.capacity ?? 10_000;
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
    // Read at each use (not Date.now itself kept): a test's fake clock is the clock.
    this.now = options.now ?? (() => Date.now());
  }

  get size(): number {
    return this.entries.size;
  }

  /** The caller of a token verified before and not yet expired, else undefined. */
  get(token: string): AuthenticatedUser | undefined {
    const entry = this.entries.get(token);
    return entry && this.answer(token, entry);
  }

  /**
   * The caller of an `Authorization` header (as `get(lookupKeyOf(header))`), looked up first by the
   * connection it came on: a keep-alive client sends the same header on every request, and comparing it
   * with the connection's last one (a comparison of bytes) costs less than finding the token in the Map,
   * which hashes its ~700 characters one by one on every request. The connection keeps the Map's own
   * entry, which is marked once the Map lets it go (expired, evicted, replaced), so the answer is always
   * `get`'s; only a header that was found is kept, and it is forgotten with the connection.
   */
  getByHeader(header: unknown, connection: object | undefined): AuthenticatedUser | undefined {
    if (typeof header !== 'string') return undefined;
    const last = connection && this.lastOnConnection.get(connection);
    if (last !== undefined && last.header === header && !last.entry.forgotten) return this.answer(last.token, last.entry);
    const token = lookupKeyOf(header);
    const entry = token === undefined ? undefined : this.entries.get(token);
    if (token === undefined || entry === undefined) return undefined;
    const user = this.answer(token, entry);
    if (user && connection) this.lastOnConnection.set(connection, { header, token, entry });
    return user;
  }

  private answer(token: string, entry: Entry): AuthenticatedUser | undefined {
    if (entry.until <= this.now()) {
      this.forget(token);
      return undefined;
    }
    // Marked rather than moved to the end of the Map (a delete and an insert on every request): eviction
    // gives a marked entry a second chance instead.
    entry.recent = true;
    return copyOf(entry.user);
  }

  /**
   * Remembers the token of an `Authorization` header whose request was just verified completely, for
   * getByHeader to find: a header written any way but the one plain `Bearer <token>` is not remembered.
   */
  rememberByHeader(header: unknown, user: AuthenticatedUser): void {
    const token = bearerTokenOf(header);
    if (token !== undefined) this.remember(token, user);
  }

  /** Remembers a token that was just verified; one without `exp` is never remembered. */
  remember(token: string, user: AuthenticatedUser): void {
    const exp = expiryOf(token);
    if (exp === undefined) return;
    const now = this.now();
    const until = Math.min(exp * 1000, now + this.maxAgeMs);
    if (until <= now) return;
    this.forget(token);
    // Room is made first, so the newcomer (not asked for yet) is not the one forgotten.
    if (this.entries.size >= this.capacity) this.evictOne();
    this.entries.set(token, { user: copyOf(user), until, recent: false, forgotten: false });
  }

  private forget(token: string): void {
    const entry = this.entries.get(token);
    if (entry === undefined) return;
    entry.forgotten = true;
    this.entries.delete(token);
  }

  /**
   * Forgets the oldest entry not asked for since it was last passed over (the "second chance" or clock
   * approximation of least recently used): a Map iterates in insertion order, and an entry passed over
   * is moved to the end unmarked. Each mark is cleared once, so this costs one step per hit at most.
   */
  private evictOne(): void {
    for (const [token, entry] of this.entries) {
      this.entries.delete(token);
      if (!entry.recent) {
        entry.forgotten = true;
        return;
      }
      entry.recent = false;
      this.entries.set(token, entry);
    }
  }
}
