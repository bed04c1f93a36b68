import { connect } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_CODES } from 'node:http';
import { answerClientError, answerUnmetExpectation } from './client-error.js';

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

describe('a request Node cannot parse as HTTP', () => {
  let app: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    app = Fastify({ clientErrorHandler: answerClientError });
    app.server.on('checkExpectation', answerUnmetExpectation);
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
    expect(JSON.parse(body!)).toEqual({ statusCode: status, error: STATUS_CODES[status], code, message: expect.any(String) });
  });

  it('an Expect header other than 100-continue: 417 with the error body, the connection closed; 100-continue still works', async () => {
    const answer = await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nContent-Length: 2\r\n\r\n{}');
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1.1 417 /);
    expect(head).toMatch(/\r\nconnection: close/i);
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

  it('a well-formed request is answered as usual', async () => {
    expect(await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1.1 200 /);
  });
});
