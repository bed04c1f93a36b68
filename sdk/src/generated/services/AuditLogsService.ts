/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { AuditAction } from '../models/AuditAction.js';
import type { AuditLogPageResponseDto } from '../models/AuditLogPageResponseDto.js';
import type { AuditTargetType } from '../models/AuditTargetType.js';
import type { CancelablePromise } from '../core/CancelablePromise.js';
import type { BaseHttpRequest } from '../core/BaseHttpRequest.js';
export class AuditLogsService {
  constructor(public readonly httpRequest: BaseHttpRequest) {}
  /**
   * Changes made by staff, most recent first, with filters
   * Access: roles AUDITOR, ADMIN.
   * @returns AuditLogPageResponseDto OK
   * @throws ApiError
   */
  public listAuditLogs({
    from,
    to,
    actorId,
    action,
    targetType,
    targetId,
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
    /**
     * Who made the change: a user id, or `system` for what the platform changed by itself
     */
    actorId?: string;
    action?: AuditAction;
    targetType?: AuditTargetType;
    /**
     * The id of what was changed; for an activity import, its externalId (or `batch:<first externalId>+<n>`)
     */
    targetId?: string;
    page?: number;
    limit?: number;
  }): CancelablePromise<AuditLogPageResponseDto> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/audit-logs',
      query: {
        from: from,
        to: to,
        actorId: actorId,
        action: action,
        targetType: targetType,
        targetId: targetId,
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
}
