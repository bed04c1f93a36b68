/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { ChangePasswordDto } from '../models/ChangePasswordDto.js';
import type { UpdateRolesDto } from '../models/UpdateRolesDto.js';
import type { UserPageResponseDto } from '../models/UserPageResponseDto.js';
import type { UserResponseDto } from '../models/UserResponseDto.js';
import type { CancelablePromise } from '../core/CancelablePromise.js';
import type { BaseHttpRequest } from '../core/BaseHttpRequest.js';
export class UsersService {
  constructor(public readonly httpRequest: BaseHttpRequest) {}
  /**
   * Users, newest first, optionally only those holding a role
   * Authorized against the caller's current roles, not the token's.
   *
   * Access: roles ADMIN.
   * @returns UserPageResponseDto OK
   * @throws ApiError
   */
  public listUsers({
    role,
    page = 1,
    limit = 20,
  }: {
    /**
     * Only users holding this role
     */
    role?: 'USER' | 'OPERATOR' | 'AUDITOR' | 'ADMIN';
    page?: number;
    limit?: number;
  }): CancelablePromise<UserPageResponseDto> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/users',
      query: {
        role: role,
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
   * The caller's account
   * Access: any authenticated user (USER, OPERATOR, AUDITOR, ADMIN).
   * @returns UserResponseDto OK
   * @throws ApiError
   */
  public getMe(): CancelablePromise<UserResponseDto> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/users/me',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: UNAUTHORIZED`,
        404: `Not found: USER_NOT_FOUND`,
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
   * Change the caller's password (given the current one); every session ends
   * Every refresh token of the account stops working at once, this session's too: sign in again with the new password. Access tokens can make no staff write on the event server from 60 s later, nor use the auth server's staff routes. A wrong current password is 403 WRONG_PASSWORD and counts as a failed login of the account from this address (429 with Retry-After once throttled, as POST /auth/login).
   *
   * Access: any authenticated user (USER, OPERATOR, AUDITOR, ADMIN).
   * @returns void
   * @throws ApiError
   */
  public changePassword({ requestBody }: { requestBody: ChangePasswordDto }): CancelablePromise<void> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/users/me/password',
      body: requestBody,
      mediaType: 'application/json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_JSON, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: WRONG_PASSWORD`,
        404: `Not found: USER_NOT_FOUND`,
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
   * End every session of a user (the caller themselves, or any user for an ADMIN)
   * Every refresh token of the user stops working at once; the user's access tokens can make no staff write on the event server from 60 s later, nor use the auth server's staff routes (this one included: 401 STALE_ACCESS_TOKEN). An ADMIN is judged by current roles.
   *
   * Access: any authenticated user (USER, OPERATOR, AUDITOR, ADMIN).
   * @returns void
   * @throws ApiError
   */
  public logoutEverywhere({ id }: { id: string }): CancelablePromise<void> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/users/{id}/logout-all',
      path: {
        id: id,
      },
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, INVALID_JSON, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: ROUTE_NOT_FOUND, USER_NOT_FOUND`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        413: `Body larger than 16 KB: PAYLOAD_TOO_LARGE`,
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
   * Replace a user's roles
   * The change is recorded in the audit log. Authorized against the caller's current roles, not the token's. A change that would leave no ADMIN is refused (409 LAST_ADMIN), also when two admins demote each other at once. The user's older access tokens can make no staff write on the event server from 60 s after the change.
   *
   * Access: roles ADMIN.
   * @returns UserResponseDto OK
   * @throws ApiError
   */
  public updateUserRoles({ id, requestBody }: { id: string; requestBody: UpdateRolesDto }): CancelablePromise<UserResponseDto> {
    return this.httpRequest.request({
      method: 'PATCH',
      url: '/users/{id}/roles',
      path: {
        id: id,
      },
      body: requestBody,
      mediaType: 'application/json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, INVALID_JSON, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: ROUTE_NOT_FOUND, USER_NOT_FOUND`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        409: `Conflict: LAST_ADMIN`,
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
