import type { Socket } from 'node:net';
import { type IncomingMessage, STATUS_CODES, type ServerResponse } from 'node:http';
import { errorBody } from './errors.js';

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

/**
 * Fastify's `clientErrorHandler`: a request Node's parser refused (a NUL in a header, both Content-Length
 * and Transfer-Encoding, headers over the size limit, a request that never finished arriving) is answered
 * with the error body of API.md, `code` included, like every other error, and the connection is closed
 * (what follows the bad bytes cannot be trusted to be a request).
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] = answerOf(error);
  const body = JSON.stringify(errorBody(status, code, message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * The server's `checkExpectation` listener: a request whose `Expect` header is not `100-continue` (the one
 * expectation HTTP/1.1 defines) is answered 417 with the error body, where Node alone sends an empty 417.
 * No route sees it; its body (if any) is discarded and the connection closed.
 */
export function answerUnmetExpectation(request: IncomingMessage, response: ServerResponse): void {
  const body = JSON.stringify(
    errorBody(417, ClientErrorCode.EXPECTATION_FAILED, 'Only the expectation 100-continue is supported (the Expect header)'),
  );
  response.writeHead(417, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    connection: 'close',
  });
  response.end(body);
  request.resume();
}
