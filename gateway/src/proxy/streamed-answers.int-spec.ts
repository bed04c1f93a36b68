import { type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_AUDIENCE, TEST_ISSUER, fakeAuthServer, startGateway } from '../testing/gateway-harness.js';
import { rawRequest } from '../testing/raw-http.js';
import { TokenForge } from '../../../test-support/tokens.js';

// Runs without a database: the gateway has none. The event server here is a stub whose CSV export sends
// its header row, then pauses until the test says so (an export waiting for its next page on a busy store).
const UPSTREAM_TIMEOUT_MS = 300;
const signer = TokenForge.generate({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
const auth = fakeAuthServer(signer);
const auditor = { authorization: `Bearer ${signer.sign({ roles: ['AUDITOR'] })}` };

const HEADER_ROW = 'id,eventId,userId,status\r\n';
const ROWS = Array.from({ length: 50 }, (_, index) => `c${index},e1,u${index},GRANTED\r\n`).join('');

/** The stub's exports in progress: each has sent its header row and waits for the test. */
const paused: ServerResponse[] = [];
let exportStarted: () => void = () => undefined;
const stub = createServer((request, response) => {
  request.resume();
  if (request.url?.startsWith('/claims/export')) {
    response.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
    response.write(HEADER_ROW);
    paused.push(response);
    exportStarted();
  }
  // Any other request (GET /claims) is held unanswered: the gateway answers it 504 after its headers timeout.
});
let eventUrl: string;

beforeAll(async () => {
  await auth.start();
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  eventUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
});

afterAll(async () => {
  stub.closeAllConnections();
  await new Promise((resolve) => stub.close(resolve));
  await auth.stop();
});

async function gatewayWith(env: Record<string, string>) {
  return startGateway(
    { auth: auth.url, event: eventUrl, jwks: auth.url },
    { UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS), ...env },
  );
}

/** Resolves once the stub's next export has sent its header row and paused. */
function nextExport(): Promise<ServerResponse> {
  return new Promise((resolve) => {
    exportStarted = () => resolve(paused.shift() as ServerResponse);
  });
}

/**
 * What a client reads of `path` on a raw socket until the gateway closes it or ends the answer: the bytes as
 * they came (the chunked framing included), and whether the chunked encoding's last chunk came. A client
 * (curl, a browser, undici) counts a file whole only when that last chunk came.
 */
function readRaw(gatewayUrl: string, path: string): Promise<{ head: string; body: string; whole: boolean; closed: boolean }> {
  const { port } = new URL(gatewayUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    const finish = (closed: boolean): void => {
      const headEnd = text.indexOf('\r\n\r\n');
      const head = headEnd < 0 ? text : text.slice(0, headEnd);
      const body = headEnd < 0 ? '' : text.slice(headEnd + 4);
      resolve({ head, body, whole: body.endsWith('\r\n0\r\n\r\n'), closed });
      socket.destroy();
    };
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => {
      text += data;
      if (text.endsWith('\r\n0\r\n\r\n')) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: gateway\r\nAuthorization: ${auditor.authorization}\r\n\r\n`);
  });
}

/** The payload of a chunked body (its framing removed). */
function unchunked(body: string): string {
  let rest = body;
  let payload = '';
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    if (lineEnd < 0) return payload;
    const size = Number.parseInt(rest.slice(0, lineEnd), 16);
    if (!(size > 0)) return payload;
    payload += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

describe('a streamed answer (the CSV export) through the gateway', () => {
  it('is forwarded whole when it pauses between chunks for longer than the headers timeout', async () => {
    const gateway = await gatewayWith({ UPSTREAM_BODY_IDLE_TIMEOUT_MS: '60000' });
    try {
      const started = nextExport();
      const reading = readRaw(gateway.url, '/claims/export?eventId=e1');
      const upstream = await started;
      // A request sent once the export has paused, that the stub never answers: its 504 says the headers
      // timeout has passed since the pause began, with the export still paused.
      const timedOut = await rawRequest(gateway.url, 'GET', '/claims?eventId=e1', { headers: auditor });
      expect(timedOut.status).toBe(504);
      expect(timedOut.json()).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
      upstream.end(ROWS);
      const read = await reading;
      expect(read.head).toMatch(/^HTTP\/1\.1 200 /);
      expect(read.head).toMatch(/transfer-encoding: chunked/i);
      expect(read.whole).toBe(true);
      expect(unchunked(read.body)).toBe(HEADER_ROW + ROWS);
    } finally {
      await gateway.app.close();
    }
  });

  it('is cut, without the last chunk, when it pauses for longer than UPSTREAM_BODY_IDLE_TIMEOUT_MS', async () => {
    const gateway = await gatewayWith({ UPSTREAM_BODY_IDLE_TIMEOUT_MS: '400' });
    try {
      const started = nextExport();
      const reading = readRaw(gateway.url, '/claims/export?eventId=e1');
      const upstream = await started;
      const read = await reading;
      expect(read.head).toMatch(/^HTTP\/1\.1 200 /);
      expect(read.closed).toBe(true);
      expect(read.whole).toBe(false);
      expect(unchunked(read.body)).toBe(HEADER_ROW);
      upstream.destroy();
    } finally {
      await gateway.app.close();
    }
  });

  it('is cut, without the last chunk, when the upstream breaks its connection mid-answer', async () => {
    const gateway = await gatewayWith({ UPSTREAM_BODY_IDLE_TIMEOUT_MS: '60000' });
    try {
      const started = nextExport();
      const reading = readRaw(gateway.url, '/claims/export?eventId=e1');
      const upstream = await started;
      upstream.write(ROWS);
      // The event server's answer to a failed page read after the first rows: its connection destroyed.
      upstream.destroy();
      const read = await reading;
      expect(read.closed).toBe(true);
      expect(read.whole).toBe(false);
      expect(unchunked(read.body).startsWith(HEADER_ROW)).toBe(true);
    } finally {
      await gateway.app.close();
    }
  });

  it('is an error for an HTTP client that reads it: fetch rejects while reading the body of a cut answer', async () => {
    const gateway = await gatewayWith({ UPSTREAM_BODY_IDLE_TIMEOUT_MS: '400' });
    try {
      const started = nextExport();
      const response = await fetch(`${gateway.url}/claims/export?eventId=e1`, { headers: auditor });
      const upstream = await started;
      expect(response.status).toBe(200);
      await expect(response.text()).rejects.toThrow();
      upstream.destroy();
    } finally {
      await gateway.app.close();
    }
  });
});
