import { once } from 'node:events';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_CODES } from 'node:http';
import { rawAnswers } from './client-error.js';
import { answerHeadersFor } from './security-headers.js';

/** Sends raw bytes and reads until the server closes the connection. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

/** The headers every answer carries: the security headers, no caching, and a request id. */
function expectEveryAnswersHeaders(head: string): void {
  expect(head).toMatch(/\r\nx-content-type-options: nosniff\r\n/i);
  expect(head).toMatch(/\r\nx-frame-options: DENY\r\n/i);
  expect(head).toMatch(/\r\ncontent-security-policy: default-src 'none'/i);
  expect(head).toMatch(/\r\ncache-control: no-store\r\n/i);
  expect(head).toMatch(/\r\nx-request-id: [A-Za-z0-9._:-]{8,128}\r\n/i);
  expect(head.match(/\r\ncontent-type: /gi)).toHaveLength(1);
}

describe('a request Node cannot parse as HTTP', () => {
  let app: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    const answers = rawAnswers(answerHeadersFor({ hstsMaxAgeSeconds: 0 }).api);
    app = Fastify({ clientErrorHandler: answers.clientError });
    app.server.on('checkExpectation', answers.unmetExpectation);
    app.server.on('connect', answers.connectMethod);
    app.get('/', () => ({ ok: true }));
    app.post('/', () => ({ ok: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await app.close();
  });

  it.each([
    ['a NUL in a header', 'GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    [
      'both Content-Length and Transfer-Encoding',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
    ],
    [
      'headers over the size limit (16 KB)',
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'HEADERS_TOO_LARGE',
    ],
  ])('%s: the error body with its code, and the connection closed', async (_case, bytes, status, code) => {
    const answer = await raw(port, bytes);
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expect(head).toMatch(/\r\nconnection: close/i);
    expectEveryAnswersHeaders(head!);
    expect(JSON.parse(body!)).toEqual({ statusCode: status, error: STATUS_CODES[status], code, message: expect.any(String) });
  });

  it('an Expect header other than 100-continue: 417 with the error body, the connection closed; 100-continue still works', async () => {
    const answer = await raw(
      port,
      'POST / HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nX-Request-Id: client-chosen-id\r\nContent-Length: 2\r\n\r\n{}',
    );
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1.1 417 /);
    expect(head).toMatch(/\r\nconnection: close/i);
    expectEveryAnswersHeaders(head!);
    // The request could be read: the caller's well-formed request id is the answer's, as on any route.
    expect(head).toMatch(/\r\nx-request-id: client-chosen-id\r\n/i);
    expect(JSON.parse(body!)).toEqual({
      statusCode: 417,
      error: 'Expectation Failed',
      code: 'EXPECTATION_FAILED',
      message: expect.any(String),
    });
    const continued = await raw(
      port,
      'POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
    );
    expect(continued).toMatch(/HTTP\/1.1 200 /);
  });

  it('a CONNECT request (no route takes one): 405 with the error body and the connection closed, not a silent drop', async () => {
    const answer = await raw(
      port,
      'CONNECT 127.0.0.1:3001 HTTP/1.1\r\nHost: 127.0.0.1:3001\r\nX-Request-Id: client-chosen-id\r\n\r\n',
    );
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1.1 405 /);
    expect(head).toMatch(/\r\nconnection: close/i);
    expectEveryAnswersHeaders(head!);
    expect(head).toMatch(/\r\nx-request-id: client-chosen-id\r\n/i);
    expect(JSON.parse(body!)).toEqual({
      statusCode: 405,
      error: 'Method Not Allowed',
      code: 'METHOD_NOT_ALLOWED',
      message: expect.any(String),
    });
  });

  it('a CONNECT client that resets its connection after the answer does not end the process', async () => {
    // Node hands the socket over without its own error listener: a reset must be heard, or it is uncaught.
    const handed = new Promise<Duplex>((resolve) => app.server.once('connect', (_request, socket: Duplex) => resolve(socket)));
    const client = connect(port, '127.0.0.1', () => client.write('CONNECT 127.0.0.1:3001 HTTP/1.1\r\nHost: x\r\n\r\n'));
    client.on('error', () => undefined);
    await once(client, 'data');
    const server = await handed;
    // Not events.once: it would listen for 'error' itself, and the test would not see an error nobody hears.
    const closed = new Promise((resolve) => server.on('close', resolve));
    client.resetAndDestroy();
    await closed;
    expect(await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1.1 200 /);
  });

  it('a well-formed request is answered as usual', async () => {
    expect(await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1.1 200 /);
  });
});
