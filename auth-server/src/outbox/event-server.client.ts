import { Inject, Injectable } from '@nestjs/common';
import type { AuthConfig } from '../config/auth-config.js';
import { AUTH_CONFIG } from '../config/config.module.js';
import type { DeliveryResult } from './delivery-policy.js';
import type { AccessVersionNotice, ActivityItem, AuditEntry } from './outbox-message.js';
import { ServiceTokenIssuer } from './service-token.issuer.js';

/** Long enough for a 1000-item batch on a busy event server, short enough to stay well inside the lease. */
export const EVENT_SERVER_TIMEOUT_MS = 10_000;
const MAX_BODY_KEPT = 500;

/** The event server's internal routes, called directly (not through the gateway) with a service token. */
@Injectable()
export class EventServerClient {
  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    private readonly tokens: ServiceTokenIssuer,
  ) {}

  postActivities(items: ActivityItem[], signal: AbortSignal): Promise<DeliveryResult> {
    return this.post('/internal/activities', { items }, signal);
  }

  postAuditEntry(entry: AuditEntry, signal: AbortSignal): Promise<DeliveryResult> {
    return this.post('/internal/audit-logs', entry, signal);
  }

  postAccessVersion(notice: AccessVersionNotice, signal: AbortSignal): Promise<DeliveryResult> {
    return this.post('/internal/access-versions', notice, signal);
  }

  private async post(path: string, body: unknown, signal: AbortSignal): Promise<DeliveryResult> {
    if (signal.aborted) return { kind: 'aborted' };
    try {
      const response = await fetch(`${this.config.outbox.eventServiceUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await this.tokens.token()}` },
        body: JSON.stringify(body),
        signal: AbortSignal.any([signal, AbortSignal.timeout(EVENT_SERVER_TIMEOUT_MS)]),
      });
      const text = await response.text();
      // The event server may not have fetched our key yet, or it was rotated: sign afresh next time.
      if (response.status === 401) this.tokens.invalidate();
      return { kind: 'response', status: response.status, body: text.slice(0, MAX_BODY_KEPT) };
    } catch (error) {
      if (signal.aborted) return { kind: 'aborted' };
      const code = ((error as { cause?: { code?: unknown } }).cause ?? {}).code;
      return { kind: 'network', error: describe(error), ...(typeof code === 'string' && { code }) };
    }
  }
}

/** fetch wraps the real reason (ECONNREFUSED, a timeout) in `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return [error.message, cause?.message, typeof code === 'string' ? `(${code})` : undefined].filter(Boolean).join(': ');
}
