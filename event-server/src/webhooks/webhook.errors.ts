import { DomainError } from '@reward/server-kit/errors';

export const WebhookErrorCode = {
  WEBHOOK_ENDPOINT_NOT_FOUND: 'WEBHOOK_ENDPOINT_NOT_FOUND',
  INVALID_WEBHOOK_URL: 'INVALID_WEBHOOK_URL',
  WEBHOOK_URL_REFUSED: 'WEBHOOK_URL_REFUSED',
  WEBHOOK_ENDPOINT_LIMIT: 'WEBHOOK_ENDPOINT_LIMIT',
} as const;

/** 409 for an endpoint beyond WEBHOOK_ENDPOINTS_MAX: nothing created. */
export function webhookEndpointLimit(max: number): DomainError {
  return new DomainError(
    409,
    WebhookErrorCode.WEBHOOK_ENDPOINT_LIMIT,
    `At most ${max} webhook endpoints may exist at once (WEBHOOK_ENDPOINTS_MAX); delete one first`,
  );
}

/** 404 for an endpoint id that names none (the endpoints' routes and the deliveries' alike). */
export function webhookEndpointNotFound(id: string): DomainError {
  return new DomainError(404, WebhookErrorCode.WEBHOOK_ENDPOINT_NOT_FOUND, `Webhook endpoint ${id} not found`);
}
