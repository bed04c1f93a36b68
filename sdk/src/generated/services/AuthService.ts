/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { JwksResponseDto } from '../models/JwksResponseDto.js';
import type { LoginDto } from '../models/LoginDto.js';
import type { RefreshTokenDto } from '../models/RefreshTokenDto.js';
import type { RegisterUserDto } from '../models/RegisterUserDto.js';
import type { TokenPairResponseDto } from '../models/TokenPairResponseDto.js';
import type { UserResponseDto } from '../models/UserResponseDto.js';
import type { CancelablePromise } from '../core/CancelablePromise.js';
import type { BaseHttpRequest } from '../core/BaseHttpRequest.js';
export class AuthService {
  constructor(public readonly httpRequest: BaseHttpRequest) {}
  /**
   * The public keys (JWKS) that verify access tokens
   * Access: public (no token).
   * @returns JwksResponseDto OK
   * @throws ApiError
   */
  public getJwks(): CancelablePromise<JwksResponseDto> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/.well-known/jwks.json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, MALFORMED_REQUEST, VALIDATION_FAILED`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        417: `An Expect header other than 100-continue: EXPECTATION_FAILED`,
        429: `Too many requests: TOO_MANY_REQUESTS`,
        431: `Request headers too large: HEADERS_TOO_LARGE`,
        502: `The upstream server failed to answer: UPSTREAM_ERROR`,
        503: `Service unavailable, try again: SERVICE_UNAVAILABLE, UPSTREAM_UNAVAILABLE`,
        504: `The upstream server did not answer in time: UPSTREAM_TIMEOUT`,
      },
    });
  }
  /**
   * Exchange email and password for an access and a refresh token
   * The same 401 INVALID_CREDENTIALS answers an unknown email and a wrong password. Failed attempts are throttled per account and address, per account, and (a much higher ceiling) per address; a successful login never counts: 429 with a `Retry-After` header (seconds). The per-account ceiling does not refuse an address the account signed in from within the last 60 days (`LOGIN_KNOWN_ADDRESS_DAYS`), so guesses from elsewhere do not lock the owner out there. A successful login records a LOGIN activity. 503 AUTH_BUSY with `Retry-After` when the server is already checking as many passwords as it can (a crowd signing in at once): nothing was done and nothing counts; retry then.
   *
   * Access: public (no token).
   * @returns TokenPairResponseDto OK
   * @throws ApiError
   */
  public login({ requestBody }: { requestBody: LoginDto }): CancelablePromise<TokenPairResponseDto> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/auth/login',
      body: requestBody,
      mediaType: 'application/json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_JSON, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: INVALID_CREDENTIALS`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        413: `Body larger than 16 KB: PAYLOAD_TOO_LARGE`,
        415: `Unsupported body media type: UNSUPPORTED_MEDIA_TYPE`,
        417: `An Expect header other than 100-continue: EXPECTATION_FAILED`,
        429: `Too many requests: TOO_MANY_REQUESTS`,
        431: `Request headers too large: HEADERS_TOO_LARGE`,
        502: `The upstream server failed to answer: UPSTREAM_ERROR`,
        503: `Service unavailable, try again: AUTH_BUSY, SERVICE_UNAVAILABLE, UPSTREAM_UNAVAILABLE`,
        504: `The upstream server did not answer in time: UPSTREAM_TIMEOUT`,
      },
    });
  }
  /**
   * End the login a refresh token belongs to
   * A token that is unknown or not the caller's changes nothing (still 204). A staff member's logout (a token with a role besides USER) also ends the staff powers of every access token of the account issued before it: 401 STALE_ACCESS_TOKEN on staff routes (on the event server within moments). The account's other sessions go on: their next refresh gives a token that works.
   *
   * Access: any authenticated user (USER, OPERATOR, AUDITOR, ADMIN).
   * @returns void
   * @throws ApiError
   */
  public logout({ requestBody }: { requestBody: RefreshTokenDto }): CancelablePromise<void> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/auth/logout',
      body: requestBody,
      mediaType: 'application/json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_JSON, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: UNAUTHORIZED`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        413: `Body larger than 16 KB: PAYLOAD_TOO_LARGE`,
        415: `Unsupported body media type: UNSUPPORTED_MEDIA_TYPE`,
        417: `An Expect header other than 100-continue: EXPECTATION_FAILED`,
        429: `Too many requests: TOO_MANY_REQUESTS`,
        431: `Request headers too large: HEADERS_TOO_LARGE`,
        502: `The upstream server failed to answer: UPSTREAM_ERROR`,
        503: `Service unavailable, try again: SERVICE_UNAVAILABLE, UPSTREAM_UNAVAILABLE`,
        504: `The upstream server did not answer in time: UPSTREAM_TIMEOUT`,
      },
    });
  }
  /**
   * Exchange a refresh token for a new pair (the old refresh token stops working)
   * Presenting a refresh token that was already rotated revokes the whole login (REFRESH_TOKEN_REUSED). A successful refresh records a LOGIN activity, as a login does (a session resumed is a sign-in for the login conditions), at most one per quarter hour of a session. Send an `Idempotency-Key` (a new one for each refresh, kept with the refresh token until the answer arrives) to retry safely: if the answer was lost (a 502, 503 or 504, a dropped connection), the same token with the same key within 5 minutes is answered the same new refresh token (and an access token that expires when the first answer's does, `expiresIn` saying what is left) instead of REFRESH_TOKEN_REUSED, as long as that new refresh token has not been used. Without a key, or with another one, a second use of a token ends the login as before. A login may refresh 10 times at once, then once a minute (`REFRESH_BURST_PER_LOGIN`, `REFRESH_INTERVAL_SECONDS_PER_LOGIN`; per auth replica): past that, 429 TOO_MANY_REQUESTS with `Retry-After`, nothing written, and the token still works then.
   *
   * Access: public (no token).
   * @returns TokenPairResponseDto OK
   * @throws ApiError
   */
  public refreshTokens({
    requestBody,
    idempotencyKey,
  }: {
    requestBody: RefreshTokenDto;
    /**
     * Retry a refresh whose answer was lost: the same token and key within 5 minutes get the same new refresh token
     */
    idempotencyKey?: string;
  }): CancelablePromise<TokenPairResponseDto> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/auth/refresh',
      headers: {
        'Idempotency-Key': idempotencyKey,
      },
      body: requestBody,
      mediaType: 'application/json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_IDEMPOTENCY_KEY, INVALID_JSON, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: INVALID_REFRESH_TOKEN, REFRESH_TOKEN_REUSED`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        413: `Body larger than 16 KB: PAYLOAD_TOO_LARGE`,
        415: `Unsupported body media type: UNSUPPORTED_MEDIA_TYPE`,
        417: `An Expect header other than 100-continue: EXPECTATION_FAILED`,
        429: `Too many requests: TOO_MANY_REQUESTS`,
        431: `Request headers too large: HEADERS_TOO_LARGE`,
        502: `The upstream server failed to answer: UPSTREAM_ERROR`,
        503: `Service unavailable, try again: SERVICE_UNAVAILABLE, UPSTREAM_UNAVAILABLE`,
        504: `The upstream server did not answer in time: UPSTREAM_TIMEOUT`,
      },
    });
  }
  /**
   * Create an account (roles ["USER"])
   * With another user's `referralCode`, a FRIEND_INVITE activity is recorded for that user. Attempts are limited per client address (REGISTRATIONS_PER_ADDRESS per REGISTRATION_WINDOW_SECONDS): 429 with `Retry-After`. 503 AUTH_BUSY with `Retry-After` when the server is already hashing as many passwords as it can: nothing was done and the attempt does not count; retry then. A registration whose answer was lost (a 502/503/504, a dropped connection) may have made the account: if its retry is 409 EMAIL_TAKEN, log in with the same email and password.
   *
   * Access: public (no token).
   * @returns UserResponseDto The new account
   * @throws ApiError
   */
  public register({ requestBody }: { requestBody: RegisterUserDto }): CancelablePromise<UserResponseDto> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/auth/register',
      body: requestBody,
      mediaType: 'application/json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_JSON, INVALID_REFERRAL_CODE, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        409: `Conflict: EMAIL_TAKEN`,
        413: `Body larger than 16 KB: PAYLOAD_TOO_LARGE`,
        415: `Unsupported body media type: UNSUPPORTED_MEDIA_TYPE`,
        417: `An Expect header other than 100-continue: EXPECTATION_FAILED`,
        429: `Too many requests: TOO_MANY_REQUESTS`,
        431: `Request headers too large: HEADERS_TOO_LARGE`,
        502: `The upstream server failed to answer: UPSTREAM_ERROR`,
        503: `Service unavailable, try again: AUTH_BUSY, SERVICE_UNAVAILABLE, UPSTREAM_UNAVAILABLE`,
        504: `The upstream server did not answer in time: UPSTREAM_TIMEOUT`,
      },
    });
  }
}
