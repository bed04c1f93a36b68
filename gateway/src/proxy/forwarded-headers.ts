import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { REQUEST_ID_HEADER } from '@reward/server-kit/http-app';
import { ANSWER_OWED_HEADER } from '@reward/server-kit/resent-after-drop';
import { START_BY_HEADER } from '@reward/server-kit/start-by';
import { REPLICA_KEY_HEADER } from './replica-pool.js';

/**
 * Headers by which a caller could claim an identity, an address or an original URL that an upstream
 * (or a proxy in front of it) might believe: user/role/auth headers, every X-Forwarded-*, Forwarded,
 * the usual client-IP headers, and X-Original-* and X-Rewrite-URL. The one rule, applied to every proxied
 * request; the gateway sets the ones it vouches for itself.
 */
const SPOOFABLE_HEADER =
  /^(?:x-user(?:-.+)?|x-roles?|x-auth(?:-.+)?|x-authenticated-.+|x-remote-.+|remote-user|x-forwarded(?:-.+)?|forwarded|x-real-ip|x-client-ip|true-client-ip|x-original-.+|x-rewrite-url|x-internal-.+)$/i;

export function isSpoofableHeader(name: string): boolean {
  return SPOOFABLE_HEADER.test(name);
}

export interface ForwardingFacts {
  requestId: string;
  /** The client address as the gateway sees it (the socket, or a trusted proxy's X-Forwarded-For). */
  clientIp: string;
  /** The length of the buffered body; undefined when no body is forwarded. */
  bodyLength: number | undefined;
  /** When the upstream should no longer start work on the request (START_BY_HEADER's value); none for a read. */
  startBy: string | undefined;
  /** What the replica pool chooses the request's first replica by (REPLICA_KEY_HEADER); none for most requests. */
  replicaKey?: string | undefined;
}

/** Hop-by-hop headers (RFC 9110 7.6.1) that describe one connection and are never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);

/**
 * Headers of the client's request that are about its connection with the gateway, not the request, and are
 * never forwarded (forwarded, undici refused to send the request, and the client got a 502 that blamed the
 * upstream): the hop-by-hop ones, `Expect` (the gateway answered `100 Continue` itself and read the whole
 * body), and the framing headers the gateway sets itself (the body was read completely to enforce the size
 * limit, so its length is known, and a body that is not forwarded, a GET's, must not be announced, or the
 * upstream would wait for it).
 */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'expect', 'transfer-encoding', 'content-length']);

/**
 * The names of a request's headers not forwarded (NOT_FORWARDED or SPOOFABLE_HEADER), by name: judged once
 * per name rather than by a pattern of fifteen alternatives per header per request. Clients send the same
 * few dozen names; at most NAMES_REMEMBERED are kept (first seen), so names made up per request cost what
 * they did and no more memory.
 */
const droppedByName = new Map<string, boolean>();
const NAMES_REMEMBERED = 512;

function isDropped(name: string): boolean {
  const known = droppedByName.get(name);
  if (known !== undefined) return known;
  const dropped = NOT_FORWARDED.has(name) || isSpoofableHeader(name);
  if (droppedByName.size < NAMES_REMEMBERED) droppedByName.set(name, dropped);
  return dropped;
}

/**
 * The client address the gateway vouches for (X-Forwarded-For): Fastify's `request.ip`, the peer or, behind a
 * trusted proxy, the address that proxy forwarded, when it is an IP address (with a port some proxies add, the address alone). A trusted proxy that passes on what
 * its client wrote could make it anything (`foo`, `999.1.1.1`, 3,000 characters): the auth server's throttles key
 * on it and its log prints it, so then the proxy's own address stands for the client.
 */
export function vouchedClientIp(ip: string, peer: string | undefined): string {
  if (isIP(ip) !== 0) return ip;
  // Some proxies write the client's port too (`203.0.113.9:5555`, `[2001:db8::7]:5555`): the address is kept.
  const withPort = IPV4_WITH_PORT.exec(ip) ?? BRACKETED_IPV6.exec(ip);
  if (withPort && isIP(withPort[1] as string) !== 0) return withPort[1] as string;
  return peer ?? ip;
}

const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;
const BRACKETED_IPV6 = /^\[([0-9A-Fa-f:.]{2,45})\](?::\d{1,5})?$/;

/**
 * The headers an upstream receives: the client's, minus those of its connection with the gateway (and any
 * its Connection header names) and the spoofable ones, plus what the gateway vouches for.
 */
export function upstreamHeaders(headers: IncomingHttpHeaders, facts: ForwardingFacts): IncomingHttpHeaders {
  const named = typeof headers.connection === 'string' ? connectionTokens(headers.connection) : undefined;
  // Built by copying what passes (a `delete` per request would turn the object into a slow dictionary).
  const result: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (!isDropped(name) && !named?.has(name)) result[name] = headers[name];
  }
  result[REQUEST_ID_HEADER] = facts.requestId;
  result['x-forwarded-for'] = facts.clientIp;
  if (facts.startBy !== undefined) result[START_BY_HEADER] = facts.startBy;
  if (facts.replicaKey !== undefined) result[REPLICA_KEY_HEADER] = facts.replicaKey;
  if (facts.bodyLength !== undefined) result['content-length'] = String(facts.bodyLength);
  return result;
}

/**
 * The headers a client receives of an upstream's answer: the upstream's, minus those that describe the
 * gateway's own connection to it (the hop-by-hop ones and any the upstream names in its Connection header).
 * Copied, the upstream's "Connection: keep-alive" overrode the client's "Connection: close" (Node keeps a
 * connection open when the answer sets that header itself) and its Keep-Alive timeout was told to clients.
 */
export function downstreamHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = typeof headers.connection === 'string' ? connectionTokens(headers.connection) : undefined;
  const result: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (!NOT_ANSWERED.has(name) && !named?.has(name)) result[name] = headers[name];
  }
  return result;
}

/** An upstream's answer headers that never reach a client: the hop-by-hop ones, and what it tells the gateway alone. */
const NOT_ANSWERED = new Set([...HOP_BY_HOP, ANSWER_OWED_HEADER]);

/** The header names a Connection header lists, lower-cased ("keep-alive" alone, the usual case, names no other). */
function connectionTokens(connection: string): Set<string> | undefined {
  if (connection === 'keep-alive' || connection === 'close') return undefined;
  return new Set(connection.split(',').map((token) => token.trim().toLowerCase()));
}
