/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { ActivityBatchDto } from '../models/ActivityBatchDto.js';
import type { ActivityInputDto } from '../models/ActivityInputDto.js';
import type { ActivityPageResponseDto } from '../models/ActivityPageResponseDto.js';
import type { ImportResultResponseDto } from '../models/ImportResultResponseDto.js';
import type { CancelablePromise } from '../core/CancelablePromise.js';
import type { BaseHttpRequest } from '../core/BaseHttpRequest.js';
export class ActivitiesService {
  constructor(public readonly httpRequest: BaseHttpRequest) {}
  /**
   * Recorded activities, most recent first, with filters
   * Access: roles OPERATOR, AUDITOR, ADMIN.
   * @returns ActivityPageResponseDto OK
   * @throws ApiError
   */
  public listActivities({
    from,
    to,
    userId,
    type,
    page = 1,
    limit = 20,
  }: {
    /**
     * From this instant (included); not after `to`
     */
    from?: string;
    /**
     * Up to this instant (included)
     */
    to?: string;
    userId?: string;
    type?: string;
    page?: number;
    limit?: number;
  }): CancelablePromise<ActivityPageResponseDto> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/activities',
      query: {
        from: from,
        to: to,
        userId: userId,
        type: type,
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
   * Record player activities: one, or a batch of up to 1000
   * All items are checked before anything is written (one bad item writes nothing). The same `externalId` twice records one activity. The whole body is at most 1 MiB (413 PAYLOAD_TOO_LARGE): 1000 items fit when their attributes average under about 900 bytes, and it holds at most 100,000 values in all (400 JSON_TOO_MANY_VALUES: about 8 per item plus 2 per attribute field, so 1000 items of up to about 45 attribute fields); split larger imports. Recorded in the audit log. An item for the caller's own user id is 403 FORBIDDEN (staff who also play do not record their own activities). 503 ACTIVITIES_BUSY with `Retry-After` when the server is already making as many activity writes as it can (ACTIVITY_MAX_IN_FLIGHT): nothing was written; retry then (the same `externalId`s record each activity once).
   *
   * Access: roles OPERATOR, ADMIN.
   * @returns ImportResultResponseDto Created
   * @throws ApiError
   */
  public importActivities({
    requestBody,
  }: {
    requestBody: ActivityInputDto | ActivityBatchDto;
  }): CancelablePromise<ImportResultResponseDto> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/activities',
      body: requestBody,
      mediaType: 'application/json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_JSON, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
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
        503: `Service unavailable, try again: ACTIVITIES_BUSY, SERVICE_UNAVAILABLE, UPSTREAM_UNAVAILABLE`,
        504: `The upstream server did not answer in time: UPSTREAM_TIMEOUT`,
      },
    });
  }
}
