import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
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
 * The headers helmet sets for this configuration, computed once. They do not depend on the request, and
 * @fastify/helmet rebuilt helmet's middleware on every request (then set each header on the raw response):
 * measured at the gateway, about 10 µs of CPU per request, in front of an upstream that costs little more.
 */
export function securityHeadersFor(config: SecurityHeadersConfig): Record<string, string> {
  const options: HelmetOptions = {
    contentSecurityPolicy: { useDefaults: false, directives: parseDirectives(API_CSP) },
    hsts: config.hstsMaxAgeSeconds > 0 ? { maxAge: config.hstsMaxAgeSeconds, includeSubDomains: true } : false,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  };
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return headers;
}

/**
 * Security headers on every answer (those of helmet's that act on a JSON answer, all of them on a /docs page;
 * set by the first hook of all so that even a request refused in an early hook carries them), Swagger UI's
 * own CSP under /docs, and `Cache-Control: no-store` on every answer that does not say otherwise (token
 * answers included, RFC 6749 §5.1; static assets set their own).
 * One plain-callback hook sets them all before the handler runs, so whatever the handler (or a proxied
 * upstream's answer) sets itself, its own Cache-Control included, replaces them; no hook at send time.
 *
 * They go straight onto the raw response (Fastify's getHeader, hasHeader and removeHeader read it too,
 * and whatever the reply sets is written over them when it is sent): through `reply.headers()` each was
 * stored once more in the reply's own table and copied from there header by header at send time, for
 * every answer (on the gateway's proxied path, a third of what its answer's headers cost).
 */
export function installSecurityHeaders(fastify: FastifyInstance, headers: AnswerHeaders): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    setHeaders(reply.raw, isDocsPath(request.url) ? headers.docs : headers.api);
    done();
  });
}

/** Every answer's headers as entries, computed once: an API answer's, and a page's under /docs. */
export interface AnswerHeaders {
  api: ReadonlyArray<readonly [string, string]>;
  docs: ReadonlyArray<readonly [string, string]>;
}

/**
 * Of helmet's headers, those that do anything for a JSON answer (OWASP's REST Security Cheat Sheet): it
 * loads and frames nothing (CSP, X-Frame-Options), is never sniffed into something else (nosniff), is not
 * read by another origin's no-cors request (CORP), sends no referrer, and HSTS when configured. The rest
 * only act on an HTML document (Cross-Origin-Opener-Policy, Origin-Agent-Cluster, X-DNS-Prefetch-Control,
 * X-XSS-Protection), on Internet Explorer 8 (X-Download-Options) or on Flash and PDF readers
 * (X-Permitted-Cross-Domain-Policies): pages under /docs keep them all. Every header is set, validated and
 * written by the server and parsed by the client on every answer: at the gateway, in front of an upstream
 * that answers at once, the six that do nothing for JSON were a visible part of what an answer cost both.
 */
export const API_SECURITY_HEADERS: readonly string[] = [
  'content-security-policy',
  'cross-origin-resource-policy',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-frame-options',
];

/** An API answer's headers (API_SECURITY_HEADERS and `Cache-Control: no-store`), and a /docs page's (all of helmet's, its own CSP). */
export function answerHeadersFor(config: SecurityHeadersConfig): AnswerHeaders {
  const helmetHeaders = securityHeadersFor(config);
  const api = Object.entries(helmetHeaders).filter(([name]) => API_SECURITY_HEADERS.includes(name));
  return {
    api: [...api, ['cache-control', 'no-store']],
    docs: Object.entries({ ...helmetHeaders, 'cache-control': 'no-store', 'content-security-policy': DOCS_CSP }),
  };
}

/** Sets the entries on a raw response (a plain loop: this runs for every answer). */
export function setHeaders(response: ServerResponse, entries: AnswerHeaders['api']): void {
  for (let index = 0; index < entries.length; index++) {
    const [name, value] = entries[index]!;
    response.setHeader(name, value);
  }
}

function parseDirectives(policy: string): Record<string, string[]> {
  return Object.fromEntries(
    policy.split(';').map((part) => {
      const [name = '', ...values] = part.trim().split(/\s+/);
      return [name, values];
    }),
  );
}
