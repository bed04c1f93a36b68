/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
import type { HealthReportDto } from '../models/HealthReportDto.js';
import type { CancelablePromise } from '../core/CancelablePromise.js';
import type { BaseHttpRequest } from '../core/BaseHttpRequest.js';
export class GatewayService {
  constructor(public readonly httpRequest: BaseHttpRequest) {}
  /**
   * Whether the gateway and both servers are ready
   * 503 names the servers that are not ready (`services`).
   *
   * Access: public (no token).
   * @returns HealthReportDto OK
   * @throws ApiError
   */
  public getHealth(): CancelablePromise<HealthReportDto> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/health',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, MALFORMED_REQUEST, VALIDATION_FAILED`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        417: `An Expect header other than 100-continue: EXPECTATION_FAILED`,
        429: `Too many requests: TOO_MANY_REQUESTS`,
        431: `Request headers too large: HEADERS_TOO_LARGE`,
        503: `Service unavailable, try again: SERVICE_UNAVAILABLE. a server that is not ready: \`services\` says which`,
      },
    });
  }
  /**
   * This document: the merged OpenAPI of the whole platform
   * Access: public (no token).
   * @returns any OpenAPI 3 document
   * @throws ApiError
   */
  public getOpenApi(): CancelablePromise<Record<string, any>> {
    return this.httpRequest.request({
      method: 'GET',
      url: '/openapi.json',
      errors: {
        400: `Bad request: ENCODED_UNRESERVED_CHARACTER, MALFORMED_REQUEST, VALIDATION_FAILED`,
        405: `Method not allowed on this path (the Allow header lists those it takes): METHOD_NOT_ALLOWED`,
        408: `The request took too long to arrive: REQUEST_TIMEOUT`,
        417: `An Expect header other than 100-continue: EXPECTATION_FAILED`,
        429: `Too many requests: TOO_MANY_REQUESTS`,
        431: `Request headers too large: HEADERS_TOO_LARGE`,
        503: `Service unavailable, try again: SERVICE_UNAVAILABLE`,
      },
    });
  }
}
