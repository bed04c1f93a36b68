import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import type { EnvReader } from './env.js';

/** The prefix under which a server serves Swagger UI (the gateway's /docs); only there may a page run scripts. */
export const DOCS_PATH_PREFIX = '/docs';

export interface SecurityHeadersConfig {
  /** Strict-Transport-Security max-age; 0 (the default) sends no HSTS header (TLS ends in front of us, if at all). */
  hstsMaxAgeSeconds: number;
}

/** `HSTS_MAX_AGE_SECONDS` (0 = off), the same variable on every server. */
export function readSecurityHeadersConfig(reader: EnvReader): SecurityHeadersConfig {
  return { hstsMaxAgeSeconds: reader.int('HSTS_MAX_AGE_SECONDS', { default: 0, min: 0, max: 63_072_000 }) };
}

/** JSON answers: nothing may load, nothing may frame them. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Swagger UI: its script and styles come from the same origin (no inline script: the init script is a file),
 * it draws icons as data: images and sets inline styles, and "Try it out" calls the same origin.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

function isDocsPath(url: string): boolean {
  return url === DOCS_PATH_PREFIX || url.startsWith(`${DOCS_PATH_PREFIX}/`) || url.startsWith(`${DOCS_PATH_PREFIX}?`);
}

/**
 * Security headers on every answer (helmet, registered before any other hook so that even a request refused
 * in an early hook carries them), Swagger UI's own CSP under /docs, and `Cache-Control: no-store` on every
 * answer that does not say otherwise (token answers included, RFC 6749 §5.1; static assets set their own).
 */
export async function installSecurityHeaders(fastify: FastifyInstance, config: SecurityHeadersConfig): Promise<void> {
  await fastify.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: parseDirectives(API_CSP) },
    hsts: config.hstsMaxAgeSeconds > 0 ? { maxAge: config.hstsMaxAgeSeconds, includeSubDomains: true } : false,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  });
  fastify.addHook('onSend', async (request, reply, payload) => {
    if (isDocsPath(request.url)) void reply.header('content-security-policy', DOCS_CSP);
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    return payload;
  });
}

function parseDirectives(policy: string): Record<string, string[]> {
  return Object.fromEntries(
    policy.split(';').map((part) => {
      const [name = '', ...values] = part.trim().split(/\s+/);
      return [name, values];
    }),
  );
}
