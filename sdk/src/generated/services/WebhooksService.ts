/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { CreateWebhookEndpointDto } from '../models/CreateWebhookEndpointDto.js';
import type { DeliveryPageResponseDto } from '../models/DeliveryPageResponseDto.js';
import type { DeliveryResponseDto } from '../models/DeliveryResponseDto.js';
import type { DeliveryStatus } from '../models/DeliveryStatus.js';
import type { RetryFailedResponseDto } from '../models/RetryFailedResponseDto.js';
import type { SendPendingResponseDto } from '../models/SendPendingResponseDto.js';
import type { UpdateWebhookEndpointDto } from '../models/UpdateWebhookEndpointDto.js';
import type { WebhookEndpointPageResponseDto } from '../models/WebhookEndpointPageResponseDto.js';
import type { WebhookEndpointResponseDto } from '../models/WebhookEndpointResponseDto.js';
import type { WebhookEndpointWithSecretResponseDto } from '../models/WebhookEndpointWithSecretResponseDto.js';
import type { CancelablePromise } from '../core/CancelablePromise.js';
import type { BaseHttpRequest } from '../core/BaseHttpRequest.js';
export class WebhooksService {
  constructor(public readonly httpRequest: BaseHttpRequest) {}
  /**
   * Webhook deliveries, newest first, with every attempt (status code, latency, error)
   * Access: roles OPERATOR, AUDITOR, ADMIN.
   * @returns DeliveryPageResponseDto OK
   * @throws ApiError
   */
  public listDeliveries({
    status,
    endpointId,
    claimId,
    page = 1,
    limit = 20,
  }: {
    status?: DeliveryStatus;
    /**
     * Only deliveries to this endpoint
     */
    endpointId?: string;
    /**
     * Only this claim's deliveries
     */
    claimId?: string;
    page?: number;
    limit?: number;
  }): CancelablePromise<DeliveryPageResponseDto> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/deliveries',
      query: {
        status: status,
        endpointId: endpointId,
        claimId: claimId,
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
   * Send a FAILED delivery again (a fresh retry schedule)
   * Same `webhook-id` and body as before. No body (or `{}`). Recorded in the audit log. Of concurrent retries of one failure one succeeds, the others are 409 `DELIVERY_NOT_FAILED`; a delivery whose endpoint was deleted is 409 `DELIVERY_ENDPOINT_DELETED`, one whose endpoint is disabled 409 `DELIVERY_ENDPOINT_DISABLED` (enable it, then retry). All of an endpoint's FAILED deliveries at once: `POST /webhook-endpoints/{id}/retry-failed`.
   *
   * Access: roles OPERATOR, ADMIN.
   * @returns DeliveryResponseDto OK
   * @throws ApiError
   */
  public retryDelivery({ id }: { id: string }): CancelablePromise<DeliveryResponseDto> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/deliveries/{id}/retry',
      path: {
        id: id,
      },
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, INVALID_JSON, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: DELIVERY_NOT_FOUND, ROUTE_NOT_FOUND`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        409: `Conflict: DELIVERY_ENDPOINT_DELETED, DELIVERY_ENDPOINT_DISABLED, DELIVERY_NOT_FAILED`,
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
   * Webhook endpoints, newest first (without secrets)
   * Access: roles ADMIN.
   * @returns WebhookEndpointPageResponseDto OK
   * @throws ApiError
   */
  public listWebhookEndpoints({
    page = 1,
    limit = 20,
  }: {
    page?: number;
    limit?: number;
  }): CancelablePromise<WebhookEndpointPageResponseDto> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/webhook-endpoints',
      query: {
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
   * Subscribe a receiver to claim events (payout webhooks)
   * The answer carries the signing `secret`, shown only this once. http(s) only; loopback, private and link-local addresses are refused unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true, cloud metadata addresses always. Recorded in the audit log. At most 20 endpoints exist at once (`WEBHOOK_ENDPOINTS_MAX`): one more is 409 WEBHOOK_ENDPOINT_LIMIT, nothing created (every grant is sent to each subscribed endpoint).
   *
   * Access: roles ADMIN.
   * @returns WebhookEndpointWithSecretResponseDto Created
   * @throws ApiError
   */
  public createWebhookEndpoint({
    requestBody,
  }: {
    requestBody: CreateWebhookEndpointDto;
  }): CancelablePromise<WebhookEndpointWithSecretResponseDto> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/webhook-endpoints',
      body: requestBody,
      mediaType: 'application/json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_JSON, INVALID_WEBHOOK_URL, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED, WEBHOOK_URL_REFUSED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        409: `Conflict: WEBHOOK_ENDPOINT_LIMIT`,
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
   * Delete an endpoint; its pending deliveries end as FAILED
   * No body (or `{}`). Recorded in the audit log.
   *
   * Access: roles ADMIN.
   * @returns void
   * @throws ApiError
   */
  public deleteWebhookEndpoint({ id }: { id: string }): CancelablePromise<void> {
    return this.httpRequest.request({
      method: 'DELETE',
      url: '/webhook-endpoints/{id}',
      path: {
        id: id,
      },
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, INVALID_JSON, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: ROUTE_NOT_FOUND, WEBHOOK_ENDPOINT_NOT_FOUND`,
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
   * A webhook endpoint (without its secret)
   * Access: roles ADMIN.
   * @returns WebhookEndpointResponseDto OK
   * @throws ApiError
   */
  public getWebhookEndpoint({ id }: { id: string }): CancelablePromise<WebhookEndpointResponseDto> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/webhook-endpoints/{id}',
      path: {
        id: id,
      },
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: ROUTE_NOT_FOUND, WEBHOOK_ENDPOINT_NOT_FOUND`,
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
   * Change the url, events, description, or enable/disable an endpoint
   * A new url is checked like on creation. Recorded in the audit log.
   *
   * Access: roles ADMIN.
   * @returns WebhookEndpointResponseDto OK
   * @throws ApiError
   */
  public updateWebhookEndpoint({
    id,
    requestBody,
  }: {
    id: string;
    requestBody: UpdateWebhookEndpointDto;
  }): CancelablePromise<WebhookEndpointResponseDto> {
    return this.httpRequest.request({
      method: 'PATCH',
      url: '/webhook-endpoints/{id}',
      path: {
        id: id,
      },
      body: requestBody,
      mediaType: 'application/json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, INVALID_JSON, INVALID_WEBHOOK_URL, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED, WEBHOOK_URL_REFUSED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: ROUTE_NOT_FOUND, WEBHOOK_ENDPOINT_NOT_FOUND`,
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
   * Send an endpoint's FAILED deliveries again (after an outage, or after a stray 410 disabled it)
   * For OPERATOR (and ADMIN). Every FAILED delivery to the endpoint last attempted before this request is made PENDING again with a fresh retry schedule, as `POST /deliveries/{id}/retry` does one, and sent with the same `webhook-id` and body: the first within seconds, the rest steadily at the endpoint's share of the relay's sends, by whichever replica's relay takes them (another replica learns of the request within about 10 s). Each is sent once for the request, whichever replicas and operators ask at once; one that fails again follows its new schedule. A disabled endpoint is 409 `DELIVERY_ENDPOINT_DISABLED`: enable it first (a deleted one's deliveries cannot be sent again). Call it once the receiver answers again. No body (or `{}`). Recorded in the audit log.
   *
   * Access: roles OPERATOR, ADMIN.
   * @returns RetryFailedResponseDto Success
   * @throws ApiError
   */
  public retryFailedDeliveries({ id }: { id: string }): CancelablePromise<RetryFailedResponseDto> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/webhook-endpoints/{id}/retry-failed',
      path: {
        id: id,
      },
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, INVALID_JSON, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: ROUTE_NOT_FOUND, WEBHOOK_ENDPOINT_NOT_FOUND`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        409: `Conflict: DELIVERY_ENDPOINT_DISABLED`,
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
   * Replace the signing secret (shown once); the previous one still signs for 24 h
   * Until `previousSecretExpiresAt` every request carries two signatures, one per secret, so the receiver can switch without a gap; secrets rotated out earlier keep signing until their own 24 h end (at most three rotated-out secrets at once). Other replicas sign with the old secret alone for up to WEBHOOK_ENDPOINT_CACHE_MS (5 s) after the rotation. No body (or `{}`). Recorded in the audit log.
   *
   * Access: roles ADMIN.
   * @returns WebhookEndpointWithSecretResponseDto OK
   * @throws ApiError
   */
  public rotateWebhookSecret({ id }: { id: string }): CancelablePromise<WebhookEndpointWithSecretResponseDto> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/webhook-endpoints/{id}/rotate-secret',
      path: {
        id: id,
      },
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, INVALID_JSON, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: ROUTE_NOT_FOUND, WEBHOOK_ENDPOINT_NOT_FOUND`,
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
   * Send an endpoint's PENDING deliveries now, not at their next retry time (after a receiver outage)
   * For OPERATOR (and ADMIN). Every PENDING delivery to the endpoint last attempted before this request gets one attempt now, by whichever replica's relay takes it (another replica learns of the request within about 10 s; those never attempted are due anyway), with the same `webhook-id` and body, and that attempt starts its retry schedule over (as a retry of a FAILED one does). A delivery is sent once for the request, whichever replicas know of it (replicas' clocks must agree, NTP). FAILED deliveries are not touched (`POST /webhook-endpoints/{id}/retry-failed`, or one by one `POST /deliveries/{id}/retry`). No body (or `{}`). Recorded in the audit log.
   *
   * Access: roles OPERATOR, ADMIN.
   * @returns SendPendingResponseDto Success
   * @throws ApiError
   */
  public sendPendingDeliveries({ id }: { id: string }): CancelablePromise<SendPendingResponseDto> {
    return this.httpRequest.request({
      method: 'POST',
      url: '/webhook-endpoints/{id}/send-pending',
      path: {
        id: id,
      },
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, INVALID_ID, INVALID_JSON, JSON_TOO_DEEP, JSON_TOO_MANY_VALUES, MALFORMED_REQUEST, VALIDATION_FAILED`,
        401: `Missing, invalid or expired bearer token: STALE_ACCESS_TOKEN, UNAUTHORIZED`,
        403: `The caller lacks a required role: FORBIDDEN`,
        404: `Not found: ROUTE_NOT_FOUND, WEBHOOK_ENDPOINT_NOT_FOUND`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        409: `Conflict: DELIVERY_ENDPOINT_DISABLED`,
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
