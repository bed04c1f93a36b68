/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { ClaimPageResponseDto } from '../models/ClaimPageResponseDto.js';
import type { ClaimResponseDto } from '../models/ClaimResponseDto.js';
import type { ClaimStatus } from '../models/ClaimStatus.js';
import type { PayoutStatus } from '../models/PayoutStatus.js';
import type { ReviewNoteDto } from '../models/ReviewNoteDto.js';
import type { CancelablePromise } from '../core/CancelablePromise.js';
import type { BaseHttpRequest } from '../core/BaseHttpRequest.js';
export class ClaimsService {
  constructor(public readonly httpRequest: BaseHttpRequest) {}
  /**
   * All claims, newest first, with filters
   * Access: roles OPERATOR, AUDITOR, ADMIN.
   * @returns ClaimPageResponseDto OK
   * @throws ApiError
   */
  public listClaims({
    eventId,
    status,
    from,
    to,
    userId,
    payoutStatus,
    page = 1,
    limit = 20,
  }: {
    /**
     * Only claims for this event
     */
    eventId?: string;
    status?: ClaimStatus;
    /**
     * From this instant (included); not after `to`
     */
    from?: string;
    /**
     * Up to this instant (included)
     */
    to?: string;
    /**
     * Only this user's claims
     */
    userId?: string;
    /**
     * Only claims with this payout status
     */
    payoutStatus?: PayoutStatus;
    page?: number;
    limit?: number;
  }): CancelablePromise<ClaimPageResponseDto> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/claims',
      query: {
        eventId: eventId,
        status: status,
        from: from,
        to: to,
        userId: userId,
        payoutStatus: payoutStatus,
        page: page,
        limit: limit,
      },
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
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
   * All claims matching the filters as CSV, one row per claim
   * Streamed, UTF-8; cells that a spreadsheet would read as a formula are escaped. For Excel add `bom=true`: the file then starts with a byte order mark, without which Excel misreads non-Latin (e.g. Korean) text. Each server streams a bounded number of exports at once (CLAIM_EXPORTS_AT_ONCE, 2 by default); another is answered 503 EXPORTS_BUSY with `Retry-After` before anything is read. An export whose client reads nothing for CLAIM_EXPORT_STALL_MS (60 s by default) while its connection stays open is dropped.
   *
   * Access: roles OPERATOR, AUDITOR, ADMIN.
   * @returns string CSV with a header row
   * @throws ApiError
   */
  public exportClaims({
    eventId,
    status,
    from,
    to,
    userId,
    payoutStatus,
    bom = 'false',
  }: {
    /**
     * Only claims for this event
     */
    eventId?: string;
    status?: ClaimStatus;
    /**
     * From this instant (included); not after `to`
     */
    from?: string;
    /**
     * Up to this instant (included)
     */
    to?: string;
    /**
     * Only this user's claims
     */
    userId?: string;
    /**
     * Only claims with this payout status
     */
    payoutStatus?: PayoutStatus;
    /**
     * true: the file starts with a UTF-8 byte order mark, so Excel reads it as UTF-8 (Korean or other non-Latin text shows as written instead of mojibake). Other tools do not need it.
     */
    bom?: 'true' | 'false';
  }): CancelablePromise<string> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/claims/export',
      query: {
        eventId: eventId,
        status: status,
        from: from,
        to: to,
        userId: userId,
        payoutStatus: payoutStatus,
        bom: bom,
      },
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        417: `An Expect header other than 100-continue: EXPECTATION_FAILED`,
        429: `Too many requests: TOO_MANY_REQUESTS`,
        431: `Request headers too large: HEADERS_TOO_LARGE`,
        502: `The upstream server failed to answer: UPSTREAM_ERROR`,
        503: `Service unavailable, try again: EXPORTS_BUSY, SERVICE_UNAVAILABLE, UPSTREAM_UNAVAILABLE`,
        504: `The upstream server did not answer in time: UPSTREAM_TIMEOUT`,
      },
    });
  }
  /**
   * The caller's claims, newest first
   * A player with PLAYER_READ_MAX_IN_FLIGHT (4) reads of lists, claims or events not in the cache running on the server gets 429 TOO_MANY_REQUESTS with `Retry-After`, nothing read; staff are not counted.
   *
   * Access: any authenticated user (USER, OPERATOR, AUDITOR, ADMIN).
   * @returns ClaimPageResponseDto OK
   * @throws ApiError
   */
  public listMyClaims({
    eventId,
    status,
    page = 1,
    limit = 20,
  }: {
    /**
     * Only claims for this event
     */
    eventId?: string;
    status?: ClaimStatus;
    page?: number;
    limit?: number;
  }): CancelablePromise<ClaimPageResponseDto> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/claims/me',
      query: {
        eventId: eventId,
        status: status,
        page: page,
        limit: limit,
      },
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
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
   * A claim
   * The owner, OPERATOR, AUDITOR or ADMIN; another user's claim is a 404. A player with PLAYER_READ_MAX_IN_FLIGHT (4) reads of lists, claims or events not in the cache running on the server gets 429 TOO_MANY_REQUESTS with `Retry-After`, nothing read; staff are not counted.
   *
   * Access: any authenticated user (USER, OPERATOR, AUDITOR, ADMIN).
   * @returns ClaimResponseDto OK
   * @throws ApiError
   */
  public getClaim({ id }: { id: string }): CancelablePromise<ClaimResponseDto> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/claims/{id}',
      path: {
        id: id,
      },
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        404: `Not found: CLAIM_NOT_FOUND, ROUTE_NOT_FOUND`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        414: `A path segment longer than 100 characters: URI_TOO_LONG`,
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
   * Approve a PENDING claim (-> GRANTED)
   * No body (or `{}`). Recorded in the audit log. The same reviewer's decision again (a retry after a lost answer, a double click) is answered 200 with the claim as that decision left it, nothing recorded again; another reviewer's is 409 INVALID_TRANSITION. 503 REVIEWS_BUSY with `Retry-After` when the server is already making as many review decisions as it can (REVIEW_MAX_IN_FLIGHT): nothing was decided; retry then.
   *
   * Access: roles OPERATOR, ADMIN.
   * @returns ClaimResponseDto OK
   * @throws ApiError
   */
  public approveClaim({ id }: { id: string }): CancelablePromise<ClaimResponseDto> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/claims/{id}/approve',
      path: {
        id: id,
      },
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, INVALID_JSON, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: CLAIM_NOT_FOUND, ROUTE_NOT_FOUND`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        409: `Conflict: INVALID_TRANSITION`,
        413: `Body larger than 1 MB: PAYLOAD_TOO_LARGE`,
        414: `A path segment longer than 100 characters: URI_TOO_LONG`,
        415: `Unsupported body media type: UNSUPPORTED_MEDIA_TYPE`,
        417: `An Expect header other than 100-continue: EXPECTATION_FAILED`,
        429: `Too many requests: TOO_MANY_REQUESTS`,
        431: `Request headers too large: HEADERS_TOO_LARGE`,
        502: `The upstream server failed to answer: UPSTREAM_ERROR`,
        503: `Service unavailable, try again: REVIEWS_BUSY, SERVICE_UNAVAILABLE, UPSTREAM_UNAVAILABLE`,
        504: `The upstream server did not answer in time: UPSTREAM_TIMEOUT`,
      },
    });
  }
  /**
   * Reject a PENDING claim (-> REJECTED, reason REVIEW_REJECTED, stock released)
   * The rejection blocks later claims of the user for this event. Recorded in the audit log. The same reviewer's decision again (a retry after a lost answer, a double click) is answered 200 with the claim as that decision left it, nothing recorded again; another reviewer's is 409 INVALID_TRANSITION. 503 REVIEWS_BUSY with `Retry-After` when the server is already making as many review decisions as it can (REVIEW_MAX_IN_FLIGHT): nothing was decided; retry then.
   *
   * Access: roles OPERATOR, ADMIN.
   * @returns ClaimResponseDto OK
   * @throws ApiError
   */
  public rejectClaim({ id, requestBody }: { id: string; requestBody: ReviewNoteDto }): CancelablePromise<ClaimResponseDto> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/claims/{id}/reject',
      path: {
        id: id,
      },
      body: requestBody,
      mediaType: 'application/json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, INVALID_JSON, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: CLAIM_NOT_FOUND, ROUTE_NOT_FOUND`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        409: `Conflict: INVALID_TRANSITION`,
        413: `Body larger than 1 MB: PAYLOAD_TOO_LARGE`,
        414: `A path segment longer than 100 characters: URI_TOO_LONG`,
        415: `Unsupported body media type: UNSUPPORTED_MEDIA_TYPE`,
        417: `An Expect header other than 100-continue: EXPECTATION_FAILED`,
        429: `Too many requests: TOO_MANY_REQUESTS`,
        431: `Request headers too large: HEADERS_TOO_LARGE`,
        502: `The upstream server failed to answer: UPSTREAM_ERROR`,
        503: `Service unavailable, try again: REVIEWS_BUSY, SERVICE_UNAVAILABLE, UPSTREAM_UNAVAILABLE`,
        504: `The upstream server did not answer in time: UPSTREAM_TIMEOUT`,
      },
    });
  }
  /**
   * Revoke a GRANTED claim (-> REVOKED, its stock returned)
   * The revocation blocks later claims of the user for this event. Recorded in the audit log. The same reviewer's decision again (a retry after a lost answer, a double click) is answered 200 with the claim as that decision left it, nothing recorded again; another reviewer's is 409 INVALID_TRANSITION. 503 REVIEWS_BUSY with `Retry-After` when the server is already making as many review decisions as it can (REVIEW_MAX_IN_FLIGHT): nothing was decided; retry then.
   *
   * Access: roles OPERATOR, ADMIN.
   * @returns ClaimResponseDto OK
   * @throws ApiError
   */
  public revokeClaim({ id, requestBody }: { id: string; requestBody: ReviewNoteDto }): CancelablePromise<ClaimResponseDto> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/claims/{id}/revoke',
      path: {
        id: id,
      },
      body: requestBody,
      mediaType: 'application/json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, INVALID_JSON, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: CLAIM_NOT_FOUND, ROUTE_NOT_FOUND`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        409: `Conflict: INVALID_TRANSITION`,
        413: `Body larger than 1 MB: PAYLOAD_TOO_LARGE`,
        414: `A path segment longer than 100 characters: URI_TOO_LONG`,
        415: `Unsupported body media type: UNSUPPORTED_MEDIA_TYPE`,
        417: `An Expect header other than 100-continue: EXPECTATION_FAILED`,
        429: `Too many requests: TOO_MANY_REQUESTS`,
        431: `Request headers too large: HEADERS_TOO_LARGE`,
        502: `The upstream server failed to answer: UPSTREAM_ERROR`,
        503: `Service unavailable, try again: REVIEWS_BUSY, SERVICE_UNAVAILABLE, UPSTREAM_UNAVAILABLE`,
        504: `The upstream server did not answer in time: UPSTREAM_TIMEOUT`,
      },
    });
  }
  /**
   * Claim an event's rewards
   * Every request that is decided is recorded as a claim (one turned away with 429 or 503 records nothing). 201 GRANTED (approval AUTO) or PENDING (approval MANUAL, stock reserved). Refusals are recorded as REJECTED claims and answered with the claim plus `code`: 422 CONDITION_NOT_MET or EVENT_NOT_ACTIVE, 409 OUT_OF_STOCK or ALREADY_CLAIMED. The same `Idempotency-Key` from the same user replays the first answer and records nothing new (409 IDEMPOTENCY_IN_PROGRESS, with `Retry-After`, while that first request has not recorded its outcome yet). 503 CLAIMS_BUSY (with `Retry-After`) when the server sheds load: this request recorded nothing (an earlier one with the same key may have), retry after it with the same `Idempotency-Key`. 429 TOO_MANY_REQUESTS (with `Retry-After`) when the player has made more claim requests than the server allows (CLAIM_PLAYER_BURST, then CLAIM_PLAYER_PER_MINUTE): nothing recorded either. 403 FORBIDDEN, nothing recorded, for a caller who created or changed the event or its rewards (staff who also play). 503 SERVICE_UNAVAILABLE (with `Retry-After`) when the database cannot be reached, fails mid-request or does not let the claim finish before the gateway would stop waiting (a request with an `Idempotency-Key` is then answered 409 IDEMPOTENCY_IN_PROGRESS): this request may have recorded its claim; retry with the same `Idempotency-Key`, which answers with that claim or decides. No body (or `{}`).
   *
   * Access: roles USER, ADMIN.
   * @returns ClaimResponseDto GRANTED or PENDING
   * @throws ApiError
   */
  public claimReward({
    id,
    idempotencyKey,
  }: {
    id: string;
    /**
     * Repeat a request safely: the same key from the same user returns the first answer (kept 24 h at least)
     */
    idempotencyKey?: string;
  }): CancelablePromise<ClaimResponseDto> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/events/{id}/claims',
      path: {
        id: id,
      },
      headers: {
        'Idempotency-Key': idempotencyKey,
      },
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, INVALID_IDEMPOTENCY_KEY, INVALID_JSON, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: EVENT_NOT_FOUND, ROUTE_NOT_FOUND`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        409: `Conflict: ALREADY_CLAIMED, IDEMPOTENCY_IN_PROGRESS, OUT_OF_STOCK. ALREADY_CLAIMED and OUT_OF_STOCK carry the recorded claim`,
        413: `Body larger than 16 KB: PAYLOAD_TOO_LARGE`,
        414: `A path segment longer than 100 characters: URI_TOO_LONG`,
        415: `Unsupported body media type: UNSUPPORTED_MEDIA_TYPE`,
        417: `An Expect header other than 100-continue: EXPECTATION_FAILED`,
        422: `Unprocessable: CONDITION_NOT_MET, EVENT_NOT_ACTIVE, IDEMPOTENCY_KEY_REUSED. CONDITION_NOT_MET and EVENT_NOT_ACTIVE carry the recorded claim`,
        429: `Too many requests: TOO_MANY_REQUESTS`,
        431: `Request headers too large: HEADERS_TOO_LARGE`,
        502: `The upstream server failed to answer: UPSTREAM_ERROR`,
        503: `Service unavailable, try again: CLAIMS_BUSY, CLAIM_INTERRUPTED, SERVICE_UNAVAILABLE, UPSTREAM_UNAVAILABLE`,
        504: `The upstream server did not answer in time: UPSTREAM_TIMEOUT`,
      },
    });
  }
}
