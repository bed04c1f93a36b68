import { readFileSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenApiContract, type RecordedAnswer } from '../../../test-support/openapi-contract.js';
import { startGateway, useGatewayWithFakes } from '../testing/gateway-harness.js';
import { unusedUrl } from '../testing/fake-upstream.js';
import { rawRequest } from '../testing/raw-http.js';
import { MERGED_OPENAPI_FILE } from './openapi-file.js';

/**
 * The answers the gateway gives itself, each produced once through a real gateway (upstreams are fakes, or
 * servers that fail in the way a test needs) and checked strictly against the committed merged document.
 */
const document = JSON.parse(readFileSync(MERGED_OPENAPI_FILE, 'utf8')) as ConstructorParameters<typeof OpenApiContract>[0];
const contract = new OpenApiContract(document);
const gateway = useGatewayWithFakes();
const ID = '665f1c2b9d3e4a0012345678';

/** Node's client sends a GET's or DELETE's body without framing unless its length is given. */
const framed = (body: string): { body: string; 'content-length': string } => ({
  body,
  'content-length': String(Buffer.byteLength(body)),
});

/** Asserts that `answer` is `status` `code` and that the document lists it, as it is, for `operation`. */
function expectDocumented(operation: string, answer: RecordedAnswer, status: number, code: string): void {
  expect({ status: answer.status, code: (JSON.parse(answer.text) as { code?: unknown }).code }, operation).toEqual({
    status,
    code,
  });
  expect(contract.problemWith(operation, answer)).toBeUndefined();
}

/** Sends bytes as they are on a new connection and reads the answer until the gateway closes it. */
function exchange(baseUrl: string, bytes: string): Promise<RecordedAnswer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      resolve({ status: Number(statusLine.split(' ')[1]), headers, text: body });
    });
  });
}

/** A TCP server standing in for an upstream that fails: it drops each request, or never answers it. */
async function failingUpstream(behaviour: 'drop' | 'silent'): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('data', () => {
      if (behaviour === 'drop') socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('answers the gateway gives on its own, as the merged document lists them', () => {
  const token = (): string => gateway.signer.sign({ roles: ['ADMIN'] });

  it('401 and 403 decided by the gateway, the upstream never asked', async () => {
    const before = gateway.event.seen.length;
    expectDocumented('GET /claims', await rawRequest(gateway.url, 'GET', '/claims'), 401, 'UNAUTHORIZED');
    const player = `Bearer ${gateway.signer.sign({ roles: ['USER'] })}`;
    expectDocumented(
      'GET /claims',
      await rawRequest(gateway.url, 'GET', '/claims', { headers: { authorization: player } }),
      403,
      'FORBIDDEN',
    );
    expect(gateway.event.seen.length).toBe(before);
  });

  it('405 METHOD_NOT_ALLOWED with Allow, on every operation of the path', async () => {
    const answer = await rawRequest(gateway.url, 'PUT', '/events', { headers: { authorization: `Bearer ${token()}` } });
    expect(answer.headers.allow).toBe('GET, HEAD, POST');
    for (const operation of ['GET /events', 'POST /events']) expectDocumented(operation, answer, 405, 'METHOD_NOT_ALLOWED');
  });

  it('400 ENCODED_UNRESERVED_CHARACTER, 404 ROUTE_NOT_FOUND for an empty id, 414 URI_TOO_LONG for a long one', async () => {
    const authorization = `Bearer ${token()}`;
    expectDocumented(
      'GET /events',
      await rawRequest(gateway.url, 'GET', '/%65vents', { headers: { authorization } }),
      400,
      'ENCODED_UNRESERVED_CHARACTER',
    );
    expectDocumented(
      'POST /events/{id}/claims',
      await rawRequest(gateway.url, 'POST', '/events//claims', { headers: { authorization } }),
      404,
      'ROUTE_NOT_FOUND',
    );
    expectDocumented(
      'GET /events/{id}',
      await rawRequest(gateway.url, 'GET', `/events/${'a'.repeat(101)}`, { headers: { authorization } }),
      414,
      'URI_TOO_LONG',
    );
  });

  it('431 HEADERS_TOO_LARGE, 417 EXPECTATION_FAILED, 400 MALFORMED_REQUEST: answered before any route', async () => {
    const authorization = `Bearer ${token()}`;
    expectDocumented(
      'GET /events',
      await rawRequest(gateway.url, 'GET', '/events', { headers: { authorization, 'x-filler': 'a'.repeat(20_000) } }),
      431,
      'HEADERS_TOO_LARGE',
    );
    expectDocumented(
      'GET /events',
      await rawRequest(gateway.url, 'GET', '/events', { headers: { authorization, expect: 'something-else' } }),
      417,
      'EXPECTATION_FAILED',
    );
    expectDocumented(
      'POST /events',
      await exchange(
        gateway.url,
        'POST /events HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
      ),
      400,
      'MALFORMED_REQUEST',
    );
  });

  it('DELETE reads a body as POST does: 413 and 400 JSON_TOO_DEEP or JSON_TOO_MANY_VALUES before the upstream (415: the upstream)', async () => {
    const before = gateway.event.seen.length;
    const request = (body: string): { headers: Record<string, string>; body: string } => {
      const { body: text, ...length } = framed(body);
      return { headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json', ...length }, body: text };
    };
    const operation = 'DELETE /webhook-endpoints/{id}';
    const path = `/webhook-endpoints/${ID}`;
    expectDocumented(
      operation,
      await rawRequest(gateway.url, 'DELETE', path, request(`"${'a'.repeat(1024 * 1024)}"`)),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    expectDocumented(
      operation,
      await rawRequest(gateway.url, 'DELETE', path, request(`${'['.repeat(40)}${']'.repeat(40)}`)),
      400,
      'JSON_TOO_DEEP',
    );
    const manyFields = JSON.stringify(Object.fromEntries(Array.from({ length: 300 }, (_, index) => [`f${index}`, 0])));
    expectDocumented(operation, await rawRequest(gateway.url, 'DELETE', path, request(manyFields)), 400, 'JSON_TOO_MANY_VALUES');
    expect(gateway.event.seen.length).toBe(before);
  });
});

describe('answers for a request the gateway will not work on now, or cannot pass on', () => {
  let drop: Awaited<ReturnType<typeof failingUpstream>>;
  let silent: Awaited<ReturnType<typeof failingUpstream>>;
  let failing: Awaited<ReturnType<typeof startGateway>>;
  let unreachable: Awaited<ReturnType<typeof startGateway>>;

  beforeAll(async () => {
    [drop, silent] = await Promise.all([failingUpstream('drop'), failingUpstream('silent')]);
    failing = await startGateway({ auth: silent.url, event: drop.url, jwks: gateway.auth.url }, { UPSTREAM_TIMEOUT_MS: '200' });
    // A budget for large bodies smaller than one such body: it is spent for any of them before it arrives.
    unreachable = await startGateway(
      { auth: await unusedUrl(), event: await unusedUrl(), jwks: gateway.auth.url },
      {},
      { bodyBudget: { bytes: 20 * 1024, smallBodyBytes: 16 * 1024 }, requestTimeouts: { headersMs: 500, requestMs: 1_000 } },
    );
  });

  afterAll(async () => {
    await failing?.app.close();
    await unreachable?.app.close();
    await Promise.all([drop?.close(), silent?.close()]);
  });

  const authorization = (): string => `Bearer ${gateway.signer.sign({ roles: ['ADMIN'] })}`;

  it('502 UPSTREAM_ERROR when the upstream drops the request, 504 UPSTREAM_TIMEOUT when it does not answer', async () => {
    expectDocumented(
      'GET /events',
      await rawRequest(failing.url, 'GET', '/events', { headers: { authorization: authorization() } }),
      502,
      'UPSTREAM_ERROR',
    );
    expectDocumented(
      'POST /auth/login',
      await rawRequest(failing.url, 'POST', '/auth/login', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'a@example.com', password: 'a-long-password' }),
      }),
      504,
      'UPSTREAM_TIMEOUT',
    );
  });

  it('503 UPSTREAM_UNAVAILABLE when no replica can be reached', async () => {
    const answer = await rawRequest(unreachable.url, 'GET', `/claims/${ID}`, { headers: { authorization: authorization() } });
    expectDocumented('GET /claims/{id}', answer, 503, 'UPSTREAM_UNAVAILABLE');
    expect(answer.headers['retry-after']).toBeDefined();
  });

  it('503 SERVICE_UNAVAILABLE with Retry-After for a large body while the body budget is spent, whatever the method', async () => {
    const { body, ...length } = framed(JSON.stringify({ items: [], filler: 'a'.repeat(24 * 1024) }));
    for (const [operation, method, path] of [
      ['POST /activities', 'POST', '/activities'],
      ['PATCH /events/{id}', 'PATCH', `/events/${ID}`],
      ['GET /events', 'GET', '/events'],
    ] as const) {
      const answer = await rawRequest(unreachable.url, method, path, {
        headers: { authorization: authorization(), 'content-type': 'application/json', ...length },
        body,
      });
      expectDocumented(operation, answer, 503, 'SERVICE_UNAVAILABLE');
      expect(answer.headers['retry-after'], operation).toBe('1');
    }
  });

  it('408 REQUEST_TIMEOUT for a request whose body does not arrive in time', async () => {
    const answer = await exchange(
      unreachable.url,
      'POST /auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"email"',
    );
    expectDocumented('POST /auth/login', answer, 408, 'REQUEST_TIMEOUT');
  });
});
