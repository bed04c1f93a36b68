import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type IncomingMessage, STATUS_CODES, type ServerResponse } from 'node:http';
import { CommonErrorCode, errorBody } from './errors.js';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';
import type { AnswerHeaders } from './security-headers.js';
import type { OverLimit } from './connection-limits.js';

/** Codes of the answers Node gives a request it could not parse as HTTP (no route ever sees it). */
export const ClientErrorCode = {
  MALFORMED_REQUEST: 'MALFORMED_REQUEST',
  HEADERS_TOO_LARGE: 'HEADERS_TOO_LARGE',
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  EXPECTATION_FAILED: 'EXPECTATION_FAILED',
} as const;

function answerOf(error: NodeJS.ErrnoException): [status: number, code: string, message: string] {
  if (error.code === 'HPE_HEADER_OVERFLOW') return [431, ClientErrorCode.HEADERS_TOO_LARGE, 'Request headers are too large'];
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return [408, ClientErrorCode.REQUEST_TIMEOUT, 'The request took too long to arrive'];
  return [400, ClientErrorCode.MALFORMED_REQUEST, 'The request is not valid HTTP'];
}

/** Headers these answers set themselves. */
const FRAMING = new Set(['content-type', 'content-length', 'connection', REQUEST_ID_HEADER]);

/** The answers to a request no route sees, each with the error body of API.md. */
export interface RawAnswers {
  /**
   * Fastify's `clientErrorHandler`: a request Node's parser refused (a NUL in a header, both Content-Length
   * and Transfer-Encoding, headers over the size limit, a request that never finished arriving), and the
   * connection closed (what follows the bad bytes cannot be trusted to be a request).
   */
  clientError(error: NodeJS.ErrnoException, socket: Socket): void;
  /**
   * The server's `checkExpectation` listener: a request whose `Expect` header is not `100-continue` (the one
   * expectation HTTP/1.1 defines) is answered 417, where Node alone sends an empty 417. Its body (if any) is
   * discarded and the connection closed.
   */
  unmetExpectation(request: IncomingMessage, response: ServerResponse): void;
  /**
   * The server's `connect` listener: a CONNECT request (a tunnel; no route takes one), which Node alone
   * answers by dropping the connection without a word. Answered 405 with the error body, then closed.
   */
  connectMethod(request: IncomingMessage, socket: Duplex): void;
  /**
   * limitConnections' answer to the request on a connection over a limit: 429 `TOO_MANY_REQUESTS` over its
   * client's limit, 503 `SERVICE_UNAVAILABLE` over the total, each with `Retry-After: 1` (nothing was done);
   * its body (if any) is discarded and the connection closed.
   */
  overLimit(request: IncomingMessage, response: ServerResponse, over: OverLimit): void;
}

/** How soon a client refused for its connections is told to come back (s). */
export const OVER_LIMIT_RETRY_AFTER_SECONDS = 1;

/**
 * The answers to requests no route sees, carrying `headers` (every API answer's: the security headers and
 * `Cache-Control: no-store`) and a request id like every other answer: the caller's well-formed one where
 * the request could be read (417), a new one where it could not.
 */
export function rawAnswers(headers: AnswerHeaders['api']): RawAnswers {
  const others = headers.filter(([name]) => !FRAMING.has(name));
  const otherHeaders = Object.fromEntries(others);
  // Written as bytes on the socket for a request that is not HTTP: the same lines, in the same order.
  const headerLines = others.map(([name, value]) => `${name}: ${value}\r\n`).join('');
  /** Answers with the error body and every answer's headers, discards the request's body, closes the connection. */
  const answerAndClose = (
    request: IncomingMessage,
    response: ServerResponse,
    status: number,
    body: string,
    extra: Record<string, string> = {},
  ): void => {
    response.writeHead(status, {
      ...otherHeaders,
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      ...extra,
      [REQUEST_ID_HEADER]: requestIdOf(request),
      connection: 'close',
    });
    response.end(body);
    request.resume();
  };
  return {
    clientError(error, socket) {
      if (error.code === 'ECONNRESET' || socket.destroyed) return;
      const [status, code, message] = answerOf(error);
      const body = JSON.stringify(errorBody(status, code, message));
      if (socket.writable) {
        socket.write(
          `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
            `content-length: ${Buffer.byteLength(body)}\r\n${headerLines}${REQUEST_ID_HEADER}: ${randomUUID()}\r\n` +
            `connection: close\r\n\r\n${body}`,
        );
      }
      socket.destroy(error);
    },
    connectMethod(request, socket) {
      // Node hands the socket over without its own error listener: a client's reset would be uncaught.
      socket.on('error', () => socket.destroy());
      const body = JSON.stringify(errorBody(405, CommonErrorCode.METHOD_NOT_ALLOWED, 'CONNECT is not supported'));
      if (socket.writable) {
        socket.end(
          `HTTP/1.1 405 ${STATUS_CODES[405]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
            `content-length: ${Buffer.byteLength(body)}\r\n${headerLines}${REQUEST_ID_HEADER}: ${requestIdOf(request)}\r\n` +
            `connection: close\r\n\r\n${body}`,
        );
      } else {
        socket.destroy();
      }
    },
    unmetExpectation(request, response) {
      const body = JSON.stringify(
        errorBody(417, ClientErrorCode.EXPECTATION_FAILED, 'Only the expectation 100-continue is supported (the Expect header)'),
      );
      answerAndClose(request, response, 417, body);
    },
    overLimit(request, response, over) {
      const retryAfterSeconds = OVER_LIMIT_RETRY_AFTER_SECONDS;
      const [status, code, message] =
        over === 'client'
          ? [
              429,
              CommonErrorCode.TOO_MANY_REQUESTS,
              `Too many connections from one address; nothing was done, try again in ${retryAfterSeconds} s`,
            ]
          : [
              503,
              CommonErrorCode.SERVICE_UNAVAILABLE,
              `The server has too many connections open; nothing was done, try again in ${retryAfterSeconds} s`,
            ];
      const body = JSON.stringify(errorBody(status, code, message, { retryAfterSeconds }));
      answerAndClose(request, response, status, body, { 'retry-after': String(retryAfterSeconds) });
    },
  };
}
