import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';

/** What a fake upstream saw of one request. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body as text, and as the exact bytes (base64) for binary checks. */
  body: string;
  bodyBase64: string;
}

export interface FakeAnswer {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
}

/**
 * A tiny upstream on a free port that records every request and, unless `answer` says otherwise,
 * echoes it back as JSON (method, url with the raw query, headers, body as text).
 */
export class FakeUpstream {
  readonly seen: SeenRequest[] = [];
  answer: (request: SeenRequest) => FakeAnswer | undefined = () => undefined;
  healthy = true;
  healthDelayMs = 0;
  /** How many times its /health was asked. */
  healthChecks = 0;
  private server: FastifyInstance | undefined;

  constructor(private readonly extraRoutes: (request: FastifyRequest) => FakeAnswer | undefined = () => undefined) {}

  get url(): string {
    const address = this.server?.server.address() as AddressInfo;
    return `http://${address.address}:${address.port}`;
  }

  get port(): number {
    return (this.server?.server.address() as AddressInfo).port;
  }

  /** On 127.0.0.1 and a free port unless told (another loopback address serves as another host). */
  async start(at: { host?: string; port?: number } = {}): Promise<this> {
    const server = Fastify({ logger: false });
    server.removeAllContentTypeParsers();
    server.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 10 * 1024 * 1024 }, (_request, body, done) =>
      done(null, body),
    );
    server.all('*', async (request, reply) => {
      const path = request.url.split('?', 1)[0];
      if (path === '/health') this.healthChecks += 1;
      if (path === '/health' && this.healthDelayMs) await new Promise((resolve) => setTimeout(resolve, this.healthDelayMs));
      if (path === '/health') return reply.code(this.healthy ? 200 : 503).send({ status: this.healthy ? 'ok' : 'error' });
      const fixed = this.extraRoutes(request);
      if (fixed) return reply.code(fixed.status ?? 200).send(fixed.body);
      const seen: SeenRequest = {
        method: request.method,
        url: request.url,
        headers: { ...request.headers },
        body: Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '',
        bodyBase64: Buffer.isBuffer(request.body) ? request.body.toString('base64') : '',
      };
      this.seen.push(seen);
      const answer = this.answer(seen) ?? {};
      if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
      return reply
        .code(answer.status ?? 200)
        .headers(answer.headers ?? {})
        .send(answer.body ?? seen);
    });
    await server.listen({ host: at.host ?? '127.0.0.1', port: at.port ?? 0 });
    this.server = server;
    return this;
  }

  /** Stops at once: a request it still holds (a /health it delays) and kept-alive connections are cut, not waited for. */
  async stop(): Promise<void> {
    const closing = this.server?.close();
    this.server?.server.closeAllConnections();
    await closing;
  }
}

/** A base URL where nothing listens (a port that was free a moment ago). */
export async function unusedUrl(): Promise<string> {
  const probe = Fastify({ logger: false });
  await probe.listen({ host: '127.0.0.1', port: 0 });
  const { port } = probe.server.address() as AddressInfo;
  await probe.close();
  return `http://127.0.0.1:${port}`;
}
