import { type KeyObject, createPublicKey, verify as verifySignature } from 'node:crypto';
import { ACCESS_TOKEN_ALGORITHM, ACCESS_VERSION_CLAIM, type AuthenticatedUser, isRole } from './roles.js';

/** Finds the public key for a token's `kid`; undefined when no such key is known. */
export interface KeyResolver {
  getKey(kid: string): Promise<KeyObject | undefined>;
}

export interface AccessTokenPolicy {
  issuer: string;
  audience: string;
  keys: KeyResolver;
}

export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

/** Signed by a published key, but past its `exp`: the client refreshes it (describeFailure says so). */
export class ExpiredTokenError extends InvalidTokenError {
  override name = 'ExpiredTokenError';
}

/** The keys could not be fetched (the auth server is down): the token is not known to be bad, so this is a 503. */
export class SigningKeysUnavailableError extends Error {
  override name = 'SigningKeysUnavailableError';
}

/** See JwksKeyResolver.refusedAtStart. */
const RETRY_REFUSED_AT_START_MS = 100;

/** The `code` of a failed fetch's cause (undici puts the socket's error there: ECONNREFUSED, ...), if any. */
function causeCodeOf(error: unknown): unknown {
  return (error as { cause?: { code?: unknown } } | null)?.cause?.code;
}

interface JwkSet {
  keys: Array<Record<string, unknown>>;
}

/**
 * The auth server's JWKS over HTTP, cached. A token with an unknown `kid` triggers one refresh (at most
 * every `minRefreshMs`, so a flood of forged kids cannot hammer the auth server). Each fetch replaces the
 * whole set, so a key the auth server stopped publishing stops being accepted once the set is fetched again:
 * a set older than `maxAgeMs` (5 minutes, the JWKS's own Cache-Control max-age) is, in the background, by the
 * next request that uses it. A rotation of the signing key keeps every key that may still sign, or whose
 * tokens are still valid, published by every auth replica (docs/design.md), so whichever replica a fetch
 * reaches, the set has every key a valid token needs.
 */
export class JwksKeyResolver implements KeyResolver {
  private keys = new Map<string, KeyObject>();
  private lastFetch = 0;
  /** The last fetch failed (the auth server down or unreachable): the key set says nothing of a kid it lacks. */
  private lastFetchFailed = false;
  /**
   * No key set was fetched yet and the last fetch found nothing listening (a refused connection): most likely an
   * auth server started beside this process (npm start, Compose) that does not listen yet. The next request may
   * fetch again after RETRY_REFUSED_AT_START_MS rather than retryAfterFailureMs: a refused connection costs the auth
   * server nothing, and a player's request in this process's first second is not told 503 for the order in which
   * the servers came up.
   */
  private refusedAtStart = false;
  private everFetched = false;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly options: { timeoutMs?: number; minRefreshMs?: number; retryAfterFailureMs?: number; maxAgeMs?: number } = {},
  ) {}

  /**
   * The key of `kid`; undefined when the auth server's key set, fetched just now or lately, does not have it;
   * throws when it could not be fetched (the caller answers 503: a gateway or server started while the auth
   * server is down must not turn valid tokens away as unknown, which sends clients to refresh or sign in again).
   */
  async getKey(kid: string): Promise<KeyObject | undefined> {
    const known = this.keys.get(kid);
    if (known) {
      this.refreshIfStale();
      return known;
    }
    // Callers arriving while a fetch is under way wait for it rather than judging the old key set.
    const since = Date.now() - this.lastFetch;
    if (this.inFlight) await this.inFlight;
    else if (since >= (this.lastFetchFailed ? this.retryAfterFailureMs() : (this.options.minRefreshMs ?? 10_000))) {
      await this.refresh();
    } else if (this.lastFetchFailed) throw new Error(`the signing keys at ${this.url} could not be fetched`);
    return this.keys.get(kid);
  }

  /**
   * Starts a fetch of a set older than `maxAgeMs`, not awaited: the request that noticed is answered from the
   * set it has, and an auth server that is down does not turn known keys away (the failure is retried a
   * `maxAgeMs` later, as `lastFetch` counts from each attempt).
   */
  private refreshIfStale(): void {
    if (this.inFlight || Date.now() - this.lastFetch < (this.options.maxAgeMs ?? 300_000)) return;
    this.refresh().catch(() => undefined);
  }

  refresh(): Promise<void> {
    this.inFlight ??= this.fetchKeys().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchKeys(): Promise<void> {
    this.lastFetch = Date.now();
    try {
      await this.fetchKeySet();
      this.lastFetchFailed = false;
      this.everFetched = true;
    } catch (error) {
      this.lastFetchFailed = true;
      this.refusedAtStart = !this.everFetched && causeCodeOf(error) === 'ECONNREFUSED';
      throw error;
    }
  }

  /** How long after a failed fetch the next may be made (see refusedAtStart). */
  private retryAfterFailureMs(): number {
    const usual = this.options.retryAfterFailureMs ?? 1_000;
    return this.refusedAtStart ? Math.min(usual, RETRY_REFUSED_AT_START_MS) : usual;
  }

  private async fetchKeySet(): Promise<void> {
    const response = await fetch(this.url, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 2_000) });
    if (!response.ok) throw new Error(`JWKS ${this.url} answered ${response.status}`);
    const set = (await response.json()) as JwkSet;
    const next = new Map<string, KeyObject>();
    for (const jwk of set.keys ?? []) {
      if (typeof jwk.kid !== 'string' || jwk.kty !== 'RSA') continue;
      if (jwk.alg !== undefined && jwk.alg !== ACCESS_TOKEN_ALGORITHM) continue;
      next.set(jwk.kid, createPublicKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' }));
    }
    this.keys = next;
  }
}

/** A JSON object, or undefined for anything else (`null`, an array, a number, a string). */
function asJsonObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function decodeHeader(token: string): { alg?: unknown; kid?: unknown } {
  const [header] = token.split('.');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8'));
  } catch {
    throw new InvalidTokenError('malformed token');
  }
  // Valid JSON that is no object (`null`, `[]`, `1`) is as malformed as invalid JSON, and reading it must not
  // throw a TypeError whose text would reach the client.
  const object = asJsonObject(decoded);
  if (!object) throw new InvalidTokenError('malformed token');
  return object;
}

/** Picks the verification key for a raw token: RS256 only, and a `kid` the auth server published. */
export async function keyForToken(token: string, keys: KeyResolver): Promise<KeyObject> {
  const header = decodeHeader(token);
  // A string alg is named as it is; any other by its type: String() of an object whose toString is no function
  // throws a TypeError, whose text would reach the client, and an array would read as its elements ("RS256").
  if (header.alg !== ACCESS_TOKEN_ALGORITHM) {
    const named = typeof header.alg === 'string' ? header.alg : header.alg === null ? 'null' : typeof header.alg;
    throw new InvalidTokenError(`algorithm ${named} is not accepted`);
  }
  if (typeof header.kid !== 'string' || header.kid.length === 0) throw new InvalidTokenError('token has no kid');
  let key: KeyObject | undefined;
  try {
    key = await keys.getKey(header.kid);
  } catch {
    throw new SigningKeysUnavailableError('The keys that verify access tokens are unavailable; try again shortly');
  }
  if (!key) throw new InvalidTokenError('unknown signing key');
  return key;
}

/** Turns verified claims into the caller; refuses tokens whose claims do not have our shape. */
export function userFromClaims(payload: unknown): AuthenticatedUser {
  const object = asJsonObject(payload);
  if (!object) throw new InvalidTokenError('malformed token');
  // `exp` was required by verifiedClaimsOf, which every caller of this has passed.
  const claims = object as { sub?: unknown; roles?: unknown } & Record<string, unknown>;
  if (typeof claims.sub !== 'string' || claims.sub.length === 0) throw new InvalidTokenError('token has no subject');
  if (!Array.isArray(claims.roles) || !claims.roles.every(isRole)) throw new InvalidTokenError('token roles are malformed');
  const version = claims[ACCESS_VERSION_CLAIM];
  if (version !== undefined && !(Number.isSafeInteger(version) && (version as number) >= 0))
    throw new InvalidTokenError('token access version is malformed');
  return { id: claims.sub, roles: [...claims.roles], accessVersion: (version as number | undefined) ?? 0 };
}

/** A JWS compact segment: base64url without padding, nothing else (no space, no `=`, never empty). */
const SEGMENT = /^[A-Za-z0-9_-]+$/;

/**
 * The claims of an access token once verified completely: three base64url segments; RS256 and a `kid` the
 * auth server published (keyForToken); an RSA key; the RSASSA-PKCS1-v1_5 SHA-256 signature over the first
 * two segments; a JSON object as payload; `nbf` (when present) reached and `exp` (required) not; `iss` ours
 * and `aud` ours (or an array holding ours). What jsonwebtoken's `verify` checked with our options, in one
 * pass: its generic path (re-decoding the token, key-type dispatch, a streaming verifier, the error
 * classes) cost about as much CPU again as the RSA verification itself, paid on every fresh token, which
 * at an event's launch is every player's first request to each server (profiled: docs/benchmarks.md).
 */
export async function verifiedClaimsOf(token: string, policy: AccessTokenPolicy): Promise<Record<string, unknown>> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new InvalidTokenError('malformed token');
  // The header first, so that an `alg: none` token (no signature) is refused as such.
  const key = await keyForToken(token, policy.keys);
  if (!parts.every((part) => SEGMENT.test(part))) throw new InvalidTokenError('malformed token');
  // RS256 is RSASSA-PKCS1-v1_5: a key of another type (an RSA-PSS or EC key under our kid) must not verify it.
  if (key.type !== 'public' || key.asymmetricKeyType !== 'rsa')
    throw new InvalidTokenError('signing key is not an RSA public key');
  const signingInput = Buffer.from(token.slice(0, token.length - parts[2]!.length - 1), 'latin1');
  if (!verifySignature('sha256', signingInput, key, Buffer.from(parts[2]!, 'base64url')))
    throw new InvalidTokenError('invalid signature');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidTokenError('malformed token');
  }
  const claims = asJsonObject(decoded);
  if (!claims) throw new InvalidTokenError('malformed token');
  // Whole seconds, as the claims are and as jsonwebtoken compared them.
  const now = Math.floor(Date.now() / 1000);
  if (claims.nbf !== undefined) {
    if (typeof claims.nbf !== 'number' || !Number.isFinite(claims.nbf)) throw new InvalidTokenError('invalid nbf value');
    if (claims.nbf > now) throw new InvalidTokenError('jwt not active');
  }
  // Required: a token without `exp` would never expire.
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw new InvalidTokenError('token has no expiry');
  if (now >= claims.exp) throw new ExpiredTokenError('jwt expired');
  const audiences: unknown[] = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(policy.audience)) throw new InvalidTokenError('jwt audience invalid');
  if (claims.iss !== policy.issuer) throw new InvalidTokenError('jwt issuer invalid');
  return claims;
}

/** Verifies an access token completely (verifiedClaimsOf) and reads its caller; used outside Passport. */
export async function verifyAccessToken(token: string, policy: AccessTokenPolicy): Promise<AuthenticatedUser> {
  return userFromClaims(await verifiedClaimsOf(token, policy));
}
