// The hand-written entry of @reward/sdk: a generated RewardApiClient whose bearer token it manages.
import { ApiError } from './generated/core/ApiError.js';
import type { ApiRequestOptions } from './generated/core/ApiRequestOptions.js';
import { CancelablePromise } from './generated/core/CancelablePromise.js';
import { FetchHttpRequest } from './generated/core/FetchHttpRequest.js';
import type { OpenAPIConfig } from './generated/core/OpenAPI.js';
import type { ClaimResponseDto } from './generated/models/ClaimResponseDto.js';
import type { ErrorBody } from './generated/models/ErrorBody.js';
import type { TokenPairResponseDto } from './generated/models/TokenPairResponseDto.js';
import { RewardApiClient } from './generated/RewardApiClient.js';

export * from './generated/index.js';
export * from './webhooks.js';

/** Refusals that were recorded as a claim (status REJECTED): their answer carries that claim. */
export const CLAIM_REFUSAL_CODES = ['ALREADY_CLAIMED', 'OUT_OF_STOCK', 'CONDITION_NOT_MET', 'EVENT_NOT_ACTIVE'] as const;
export type ClaimRefusalCode = (typeof CLAIM_REFUSAL_CODES)[number];

/**
 * The body of a refused `claims.claimReward` call: the recorded claim plus the error fields, 409 for
 * ALREADY_CLAIMED and OUT_OF_STOCK, 422 for CONDITION_NOT_MET and EVENT_NOT_ACTIVE.
 */
export type ClaimRefusal = ClaimResponseDto &
  Omit<ErrorBody, 'statusCode' | 'code'> & { statusCode: 409 | 422; code: ClaimRefusalCode };

/**
 * The typed refusal behind a failed `claims.claimReward` call, or undefined when the failure is something
 * else (another status, IDEMPOTENCY_IN_PROGRESS, a network error, ...):
 *
 *     const claim = await api.claims.claimReward({ id }).catch((error: unknown) => {
 *       const refusal = claimRefusalOf(error);
 *       if (!refusal) throw error;
 *       return refusal; // refusal.code, refusal.status === 'REJECTED', refusal.reason, refusal.id
 *     });
 */
export function claimRefusalOf(error: unknown): ClaimRefusal | undefined {
  if (!(error instanceof ApiError) || (error.status !== 409 && error.status !== 422)) return undefined;
  const body: unknown = error.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const { code, id } = body as { code?: unknown; id?: unknown };
  const recorded = (CLAIM_REFUSAL_CODES as readonly unknown[]).includes(code) && typeof id === 'string';
  return recorded ? (body as ClaimRefusal) : undefined;
}

/** Options of `claimUntilAnswered`. */
export interface ClaimRetryOptions {
  /** The claim's key (a new UUID when not given): pass the same one to go on with a claim begun earlier. */
  idempotencyKey?: string;
  /** How many times the claim is sent at most (default 8). */
  maxAttempts?: number;
  /** The longest wait between two sends, whatever an answer asks (seconds, default 10). */
  maxWaitSeconds?: number;
}

/**
 * Claims a reward the way an event's launch needs: under one `Idempotency-Key`, sent again after an answer that
 * says nothing was decided yet (503 CLAIMS_BUSY or SERVICE_UNAVAILABLE, 429, 409 IDEMPOTENCY_IN_PROGRESS) or
 * that was lost (502, 504, a network failure), waiting what each answer's `retryAfterSeconds` says (else 1, 2,
 * 4... s). Resolves with the claim (GRANTED or PENDING) or its recorded refusal (ALREADY_CLAIMED, OUT_OF_STOCK,
 * CONDITION_NOT_MET, EVENT_NOT_ACTIVE: see `claimRefusalOf`), the same answer for every send of the key; rejects
 * with any other error (404, 401, ...) or the last one after `maxAttempts` sends.
 *
 *     const outcome = await claimUntilAnswered(api, event.id);
 *     if ('code' in outcome) console.log('refused', outcome.code); else console.log(outcome.status);
 */
export async function claimUntilAnswered(
  api: Pick<RewardApiClient, 'claims'>,
  eventId: string,
  options: ClaimRetryOptions = {},
): Promise<ClaimResponseDto | ClaimRefusal> {
  const idempotencyKey = options.idempotencyKey ?? globalThis.crypto.randomUUID();
  const send = (): Promise<ClaimResponseDto | ClaimRefusal> =>
    api.claims.claimReward({ id: eventId, idempotencyKey }).catch((error: unknown) => {
      const refusal = claimRefusalOf(error);
      if (refusal) return refusal;
      throw error;
    });
  return sendUntilAnswered(send, isUndecided, options.maxAttempts ?? 8, options.maxWaitSeconds ?? 10);
}

/**
 * Sends `send()` until it resolves, again after each failure `again` accepts (up to `maxAttempts` sends), waiting
 * what the failure's body asks (`retryAfterSeconds`), else 1, 2, 4... s, at most `maxWaitSeconds`.
 */
async function sendUntilAnswered<T>(
  send: () => Promise<T>,
  again: (error: unknown) => boolean,
  maxAttempts: number,
  maxWaitSeconds: number,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await send();
    } catch (error) {
      if (!again(error) || attempt >= maxAttempts) throw error;
      const seconds = Math.min(retryAfterSecondsOf(error) ?? 2 ** (attempt - 1), maxWaitSeconds);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    }
  }
}

/** A request whose answer was lost, or never came (502, 503, 504, a network failure): nothing is known of it. */
const isLostAnswer = (error: unknown): boolean =>
  error instanceof ApiError ? error.status >= 502 && error.status <= 504 : error instanceof TypeError;

/** An answer after which the claim is not decided yet, or not known to be: its key is sent again. */
function isUndecided(error: unknown): boolean {
  if (isLostAnswer(error)) return true;
  if (!(error instanceof ApiError)) return false;
  if (error.status === 409) return (error.body as { code?: unknown } | undefined)?.code === 'IDEMPOTENCY_IN_PROGRESS';
  return error.status === 429;
}

export interface Tokens {
  accessToken: string;
  refreshToken?: string;
}

export interface RewardClientOptions {
  /** The gateway, e.g. `http://localhost:3000`. */
  baseUrl: string;
  /** An access token to start with (otherwise call `login`). */
  token?: string;
  /** A refresh token: on a 401 the client refreshes the access token once and retries the call once. */
  refreshToken?: string;
  /** Called whenever the client obtains new tokens (login or refresh), e.g. to persist them. */
  onTokens?: (tokens: TokenPairResponseDto) => void;
  /**
   * Called when a refresh is refused (401 REFRESH_TOKEN_REUSED or INVALID_REFRESH_TOKEN): the session has ended,
   * sign in again. Not called when the auth server could not be reached (the session may still be alive: the
   * next call refreshes again, as a retry of the same refresh).
   */
  onSessionEnded?: (error: ApiError) => void;
}

export interface RewardClient extends RewardApiClient {
  /** Logs in, keeps the token pair for the following calls and returns it. */
  login(email: string, password: string): Promise<TokenPairResponseDto>;
  /** The tokens the client currently sends (undefined before login when none were given). */
  readonly tokens: Tokens | undefined;
}

/** What a failed refresh leaves the call that needed it: `true` when new tokens came, else the error to throw. */
type RefreshOutcome = true | { failure: unknown } | undefined;

/**
 * An ApiError's message as the server gave it: `403 FORBIDDEN: An event is not claimed by anyone who created or
 * changed it...`. The generated client names only the status's generic text (`Forbidden`, or the OpenAPI's one
 * description of that status for the route, which may be about another cause), so a thrown error said nothing of
 * why. Changed in place (the same ApiError, its `body` and `status` as they were); an answer without the error
 * body (not JSON, a proxy's page) keeps the generated message.
 */
export function withServerMessage(error: unknown): unknown {
  if (!(error instanceof ApiError)) return error;
  const body: unknown = error.body;
  if (typeof body !== 'object' || body === null) return error;
  const { code, message } = body as { code?: unknown; message?: unknown };
  const text = Array.isArray(message) ? message.filter((line) => typeof line === 'string').join('; ') : message;
  if (typeof text !== 'string' || text === '') return error;
  error.message = `${error.status}${typeof code === 'string' ? ` ${code}` : ''}: ${text}`;
  return error;
}

/** Every call's ApiError carries the server's own message (withServerMessage). */
class ExplainingHttpRequest extends FetchHttpRequest {
  public override request<T>(options: ApiRequestOptions): CancelablePromise<T> {
    return new CancelablePromise<T>((resolve, reject, onCancel) => {
      const call = super.request<T>(options);
      onCancel(() => call.cancel());
      call.then(resolve, (error: unknown) => reject(withServerMessage(error)));
    });
  }
}

/**
 * The one retry after a refresh only happens for calls that sent a token and got 401 back. A call whose 401 came
 * after another call's refresh had already replaced the token it was sent with is sent again with the new one,
 * without refreshing again. When the refresh fails, the call fails with the refresh's error (a 401
 * REFRESH_TOKEN_REUSED or INVALID_REFRESH_TOKEN: the session has ended; a 502/503/504 or a network error: the
 * auth server could not be reached, the session may still be alive), or with its own 401 when there is no
 * refresh token.
 */
class RefreshingHttpRequest extends ExplainingHttpRequest {
  constructor(
    config: OpenAPIConfig,
    private readonly session: { accessToken: () => string | undefined; refresh: () => Promise<RefreshOutcome> },
  ) {
    super(config);
  }

  public override request<T>(options: ApiRequestOptions): CancelablePromise<T> {
    return new CancelablePromise<T>((resolve, reject, onCancel) => {
      const sentWith = this.session.accessToken();
      let current = super.request<T>(options);
      onCancel(() => current.cancel());
      current.then(resolve, async (error: unknown) => {
        try {
          if (!(error instanceof ApiError && error.status === 401)) throw error;
          if (this.session.accessToken() === sentWith) {
            const outcome = await this.session.refresh();
            if (outcome !== true) throw outcome ? outcome.failure : error;
          }
          current = super.request<T>(options);
          resolve(await current);
        } catch (failure) {
          reject(failure);
        }
      });
    });
  }
}

/** How often a refresh is sent in all when its answers are lost (a 502/503/504 or a network failure). */
const REFRESH_ATTEMPTS = 5;
/** The longest wait between two of them, whatever an answer's `retryAfterSeconds` says. */
const REFRESH_MAX_WAIT_SECONDS = 10;

/** The wait an error body asks for (`retryAfterSeconds`, which every 503 and 429 carries), if any. */
function retryAfterSecondsOf(error: unknown): number | undefined {
  const body: unknown = error instanceof ApiError ? error.body : undefined;
  const seconds =
    typeof body === 'object' && body !== null ? (body as { retryAfterSeconds?: unknown }).retryAfterSeconds : undefined;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/**
 * One refresh under one `Idempotency-Key`: if its answer is lost (a 502, 503 or 504, or no answer at all), it is
 * sent again with the same token and key, which the auth server answers with the same new refresh token rather
 * than ending the login as a second use of the token (REFRESH_TOKEN_REUSED), after the answer's
 * `retryAfterSeconds` (else 1, 2, 4, 8 s). A 4xx is final.
 */
function refreshWithRetries(plain: RewardApiClient, refreshToken: string, idempotencyKey: string): Promise<TokenPairResponseDto> {
  return sendUntilAnswered(
    () => plain.auth.refreshTokens({ requestBody: { refreshToken }, idempotencyKey }),
    isLostAnswer,
    REFRESH_ATTEMPTS,
    REFRESH_MAX_WAIT_SECONDS,
  );
}

export function createRewardClient(options: RewardClientOptions): RewardClient {
  let tokens: Tokens | undefined = options.token ? { accessToken: options.token, refreshToken: options.refreshToken } : undefined;
  let refreshing: Promise<RefreshOutcome> | undefined;
  // The key of a refresh whose answer never came, kept with its token until one does (a later refresh of the same
  // token must be a retry of it, not a second use: REFRESH_TOKEN_REUSED).
  let unanswered: { refreshToken: string; idempotencyKey: string } | undefined;
  const config: Partial<OpenAPIConfig> = {
    BASE: options.baseUrl.replace(/\/+$/, ''),
    // Resolved per request, so a refreshed token is used from then on.
    TOKEN: () => Promise.resolve(tokens?.accessToken ?? ''),
  };
  const store = (pair: TokenPairResponseDto): TokenPairResponseDto => {
    tokens = { accessToken: pair.accessToken, refreshToken: pair.refreshToken };
    options.onTokens?.(pair);
    return pair;
  };

  // A plain client for login/refresh, so a failing refresh never recurses into another refresh.
  const plain = new RewardApiClient({ BASE: config.BASE }, ExplainingHttpRequest);
  const refresh = (): Promise<RefreshOutcome> => {
    const refreshToken = tokens?.refreshToken;
    if (!refreshToken) return Promise.resolve(undefined);
    // Concurrent 401s share one refresh: refresh tokens are single use.
    if (unanswered?.refreshToken !== refreshToken) unanswered = { refreshToken, idempotencyKey: globalThis.crypto.randomUUID() };
    const pending = unanswered;
    refreshing ??= refreshWithRetries(plain, refreshToken, pending.idempotencyKey)
      .then(
        (pair): RefreshOutcome => ((unanswered = undefined), store(pair), true),
        (failure: unknown): RefreshOutcome => {
          if (!isLostAnswer(failure) && unanswered === pending) unanswered = undefined;
          if (failure instanceof ApiError && failure.status === 401) {
            // The session is over: its refresh token is not sent again (each send would be refused, and said again).
            if (tokens?.refreshToken === refreshToken) tokens = { accessToken: tokens.accessToken };
            options.onSessionEnded?.(failure);
          }
          return { failure };
        },
      )
      .finally(() => (refreshing = undefined));
    return refreshing;
  };

  const client = new RewardApiClient(
    config,
    class extends RefreshingHttpRequest {
      constructor(resolved: OpenAPIConfig) {
        super(resolved, { accessToken: () => tokens?.accessToken, refresh });
      }
    },
  );
  const login = async (email: string, password: string): Promise<TokenPairResponseDto> =>
    store(await plain.auth.login({ requestBody: { email, password } }));
  return Object.defineProperties(client as RewardClient, {
    login: { value: login },
    tokens: { get: () => tokens },
  });
}
