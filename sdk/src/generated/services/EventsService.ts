/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { CreateEventDto } from '../models/CreateEventDto.js';
import type { CreateRewardDto } from '../models/CreateRewardDto.js';
import type { EventDetailResponseDto } from '../models/EventDetailResponseDto.js';
import type { EventPageResponseDto } from '../models/EventPageResponseDto.js';
import type { EventResponseDto } from '../models/EventResponseDto.js';
import type { EventStatus } from '../models/EventStatus.js';
import type { ProgressResponseDto } from '../models/ProgressResponseDto.js';
import type { RewardResponseDto } from '../models/RewardResponseDto.js';
import type { UpdateEventDto } from '../models/UpdateEventDto.js';
import type { UpdateRewardDto } from '../models/UpdateRewardDto.js';
import type { CancelablePromise } from '../core/CancelablePromise.js';
import type { BaseHttpRequest } from '../core/BaseHttpRequest.js';
export class EventsService {
  constructor(public readonly httpRequest: BaseHttpRequest) {}
  /**
   * Events, newest first; filter by status or by an instant within their period
   * A player asking for a page that is being read for another player (the same query) shares that read; a player's list at an instant (`activeAt`) shares one read of the events meeting that instant's second with the players asking about it meanwhile, each answered exactly for its own instant. A player with PLAYER_READ_MAX_IN_FLIGHT (4) reads of lists, claims or events not in the cache running on the server gets 429 TOO_MANY_REQUESTS with `Retry-After`, nothing read; staff are not counted.
   *
   * Access: any authenticated user (USER, OPERATOR, AUDITOR, ADMIN).
   * @returns EventPageResponseDto OK
   * @throws ApiError
   */
  public listEvents({
    status,
    activeAt,
    page = 1,
    limit = 20,
  }: {
    status?: EventStatus;
    /**
     * Only events whose period contains this instant
     */
    activeAt?: string;
    page?: number;
    limit?: number;
  }): CancelablePromise<EventPageResponseDto> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/events',
      query: {
        status: status,
        activeAt: activeAt,
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
   * Create an event with its condition
   * Recorded in the audit log.
   *
   * Access: roles OPERATOR, ADMIN.
   * @returns EventResponseDto Created
   * @throws ApiError
   */
  public createEvent({ requestBody }: { requestBody: CreateEventDto }): CancelablePromise<EventResponseDto> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/events',
      body: requestBody,
      mediaType: 'application/json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_CONDITION, INVALID_JSON, INVALID_PERIOD, INVALID_TIMEZONE, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        413: `Body larger than 1 MB: PAYLOAD_TOO_LARGE`,
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
   * An event with its rewards
   * A COUPON reward shows its `couponCode` to staff only (OPERATOR, AUDITOR, ADMIN). A player's view counts among their reads only when the server must read the event (not held in its cache for CLAIM_CATALOG_TTL_MS): A player with PLAYER_READ_MAX_IN_FLIGHT (4) reads of lists, claims or events not in the cache running on the server gets 429 TOO_MANY_REQUESTS with `Retry-After`, nothing read; staff are not counted.
   *
   * Access: any authenticated user (USER, OPERATOR, AUDITOR, ADMIN).
   * @returns EventDetailResponseDto OK
   * @throws ApiError
   */
  public getEvent({ id }: { id: string }): CancelablePromise<EventDetailResponseDto> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/events/{id}',
      path: {
        id: id,
      },
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        404: `Not found: EVENT_NOT_FOUND, ROUTE_NOT_FOUND`,
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
   * Change any fields of an event
   * The event as changed is checked as a whole (period, zone, condition). Recorded in the audit log.
   *
   * Access: roles OPERATOR, ADMIN.
   * @returns EventResponseDto OK
   * @throws ApiError
   */
  public updateEvent({ id, requestBody }: { id: string; requestBody: UpdateEventDto }): CancelablePromise<EventResponseDto> {
    return this.httpRequest.request({
      method: 'PATCH',
      url: '/events/{id}',
      path: {
        id: id,
      },
      body: requestBody,
      mediaType: 'application/json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_CONDITION, INVALID_ID, INVALID_JSON, INVALID_PERIOD, INVALID_TIMEZONE, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: EVENT_NOT_FOUND, ROUTE_NOT_FOUND`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        413: `Body larger than 1 MB: PAYLOAD_TOO_LARGE`,
        414: `A path segment longer than 100 characters: URI_TOO_LONG`,
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
   * How far a player is with an event's condition (a dry run of the claim check)
   * The caller's progress; `userId` of another user needs OPERATOR or ADMIN (403 otherwise). One player's requests for one event made while its read runs share that read. 503 PROGRESS_BUSY with `Retry-After` when the server is already making as many progress reads as it can (PROGRESS_MAX_IN_FLIGHT): nothing was read; retry then. 429 TOO_MANY_REQUESTS with `Retry-After` when the server is already reading as many progress checks (of other events) for this caller as it makes at once for one caller (PROGRESS_PLAYER_MAX_IN_FLIGHT, 2): nothing was read; retry then. An operator's checks of a player count as the operator's.
   *
   * Access: any authenticated user (USER, OPERATOR, AUDITOR, ADMIN).
   * @returns ProgressResponseDto OK
   * @throws ApiError
   */
  public getProgress({
    id,
    userId,
  }: {
    id: string;
    /**
     * OPERATOR/ADMIN only: another user's progress (a dry run of their claim); default: the caller
     */
    userId?: string;
  }): CancelablePromise<ProgressResponseDto> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/events/{id}/progress',
      path: {
        id: id,
      },
      query: {
        userId: userId,
      },
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: EVENT_NOT_FOUND, ROUTE_NOT_FOUND`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        414: `A path segment longer than 100 characters: URI_TOO_LONG`,
        417: `An Expect header other than 100-continue: EXPECTATION_FAILED`,
        429: `Too many requests: TOO_MANY_REQUESTS`,
        431: `Request headers too large: HEADERS_TOO_LARGE`,
        502: `The upstream server failed to answer: UPSTREAM_ERROR`,
        503: `Service unavailable, try again: PROGRESS_BUSY, SERVICE_UNAVAILABLE, UPSTREAM_UNAVAILABLE`,
        504: `The upstream server did not answer in time: UPSTREAM_TIMEOUT`,
      },
    });
  }
  /**
   * An event's rewards with their remaining stock, in creation order
   * A COUPON reward shows its `couponCode` to staff only (OPERATOR, AUDITOR, ADMIN). A player's view counts among their reads only when the server must read the event (not held in its cache for CLAIM_CATALOG_TTL_MS): A player with PLAYER_READ_MAX_IN_FLIGHT (4) reads of lists, claims or events not in the cache running on the server gets 429 TOO_MANY_REQUESTS with `Retry-After`, nothing read; staff are not counted.
   *
   * Access: any authenticated user (USER, OPERATOR, AUDITOR, ADMIN).
   * @returns RewardResponseDto OK
   * @throws ApiError
   */
  public listRewards({ id }: { id: string }): CancelablePromise<Array<RewardResponseDto>> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/events/{id}/rewards',
      path: {
        id: id,
      },
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        404: `Not found: EVENT_NOT_FOUND, ROUTE_NOT_FOUND`,
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
   * Add a reward to an event
   * ITEM rewards need `itemCode`, COUPON rewards `couponCode`. An event has at most 20 rewards (409 TOO_MANY_REWARDS). Recorded in the audit log.
   *
   * Access: roles OPERATOR, ADMIN.
   * @returns RewardResponseDto Created
   * @throws ApiError
   */
  public addReward({ id, requestBody }: { id: string; requestBody: CreateRewardDto }): CancelablePromise<RewardResponseDto> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/events/{id}/rewards',
      path: {
        id: id,
      },
      body: requestBody,
      mediaType: 'application/json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, INVALID_JSON, INVALID_REWARD, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: EVENT_NOT_FOUND, ROUTE_NOT_FOUND`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        409: `Conflict: TOO_MANY_REWARDS`,
        413: `Body larger than 1 MB: PAYLOAD_TOO_LARGE`,
        414: `A path segment longer than 100 characters: URI_TOO_LONG`,
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
   * Change a reward's name, quantity or code, or raise its stock
   * Any subset of `name`, `quantity`, `itemCode` / `couponCode` (as its type takes) and, for a limited reward, a `stock` at least what it is now (a top-up: claims refused OUT_OF_STOCK may claim again). Lowering the stock, a stock on an unlimited reward and another type are refused (400 INVALID_REWARD). A claim keeps the reward as it was when it was made. Recorded in the audit log (REWARD_UPDATED); other replicas see it within CLAIM_CATALOG_TTL_MS. Answered with `remaining` counted after the write: should that count take longer than LIST_READ_MAX_MS, the answer is 503 SERVICE_UNAVAILABLE saying the reward was changed.
   *
   * Access: roles OPERATOR, ADMIN.
   * @returns RewardResponseDto OK
   * @throws ApiError
   */
  public updateReward({
    id,
    rewardId,
    requestBody,
  }: {
    id: string;
    rewardId: string;
    requestBody: UpdateRewardDto;
  }): CancelablePromise<RewardResponseDto> {
    return this.httpRequest.request({
      method: 'PATCH',
      url: '/events/{id}/rewards/{rewardId}',
      path: {
        id: id,
        rewardId: rewardId,
      },
      body: requestBody,
      mediaType: 'application/json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, INVALID_JSON, INVALID_REWARD, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: EVENT_NOT_FOUND, REWARD_NOT_FOUND, ROUTE_NOT_FOUND`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        413: `Body larger than 1 MB: PAYLOAD_TOO_LARGE`,
        414: `A path segment longer than 100 characters: URI_TOO_LONG`,
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
}
