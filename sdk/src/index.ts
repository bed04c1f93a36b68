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
}

export interface RewardClient extends RewardApiClient {
  /** Logs in, keeps the token pair for the following calls and returns it. */
  login(email: string, password: string): Promise<TokenPairResponseDto>;
  /** The tokens the client currently sends (undefined before login when none were given). */
  readonly tokens: Tokens | undefined;
}

/** The one retry after a refresh only happens for calls that sent a token and got 401 back. */
class RefreshingHttpRequest extends FetchHttpRequest {
  constructor(
    config: OpenAPIConfig,
    private readonly refresh: () => Promise<boolean>,
  ) {
    super(config);
  }

  public override request<T>(options: ApiRequestOptions): CancelablePromise<T> {
    return new CancelablePromise<T>((resolve, reject, onCancel) => {
      let current = super.request<T>(options);
      onCancel(() => current.cancel());
      current.then(resolve, async (error: unknown) => {
        try {
          if (!(error instanceof ApiError && error.status === 401) || !(await this.refresh())) throw error;
          current = super.request<T>(options);
          resolve(await current);
        } catch (failure) {
          reject(failure);
        }
      });
    });
  }
}

/** How often a refresh whose answer was lost (a 502/503/504 or a network failure) is sent again with its key. */
const REFRESH_ATTEMPTS = 4;

/**
 * One refresh under one `Idempotency-Key`: if its answer is lost (a 502, 503 or 504, or no answer at all), it is
 * sent again with the same token and key, which the auth server answers with the same new refresh token rather
 * than ending the login as a second use of the token (REFRESH_TOKEN_REUSED). A 4xx is final.
 */
const isLostAnswer = (error: unknown): boolean =>
  error instanceof ApiError ? error.status >= 502 && error.status <= 504 : error instanceof TypeError;

async function refreshWithRetries(
  plain: RewardApiClient,
  refreshToken: string,
  idempotencyKey: string,
): Promise<TokenPairResponseDto> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await plain.auth.refreshTokens({ requestBody: { refreshToken }, idempotencyKey });
    } catch (error) {
      if (!isLostAnswer(error) || attempt >= REFRESH_ATTEMPTS) throw error;
      // 1, 2, then 4 s (the answers' Retry-After is 1 s or a few: the generated client does not expose it).
      await new Promise((resolve) => setTimeout(resolve, 1000 * 2 ** (attempt - 1)));
    }
  }
}

export function createRewardClient(options: RewardClientOptions): RewardClient {
  let tokens: Tokens | undefined = options.token ? { accessToken: options.token, refreshToken: options.refreshToken } : undefined;
  let refreshing: Promise<boolean> | undefined;
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
  const plain = new RewardApiClient({ BASE: config.BASE });
  const refresh = (): Promise<boolean> => {
    const refreshToken = tokens?.refreshToken;
    if (!refreshToken) return Promise.resolve(false);
    // Concurrent 401s share one refresh: refresh tokens are single use.
    if (unanswered?.refreshToken !== refreshToken) unanswered = { refreshToken, idempotencyKey: globalThis.crypto.randomUUID() };
    const pending = unanswered;
    refreshing ??= refreshWithRetries(plain, refreshToken, pending.idempotencyKey)
      .then(
        (pair) => ((unanswered = undefined), store(pair), true),
        (error: unknown) => {
          if (!isLostAnswer(error) && unanswered === pending) unanswered = undefined;
          return false;
        },
      )
      .finally(() => (refreshing = undefined));
    return refreshing;
  };

  const client = new RewardApiClient(
    config,
    class extends RefreshingHttpRequest {
      constructor(resolved: OpenAPIConfig) {
        super(resolved, refresh);
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
