import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JwksKeyResolver, verifyAccessToken } from '@reward/server-kit/access-token';

export interface ReceivedActivity {
  userId: string;
  type: string;
  occurredAt: string;
  externalId: string;
  attributes?: Record<string, unknown>;
}

export interface ReceivedAuditEntry {
  actorId: string;
  action: string;
  targetType: string;
  targetId: string;
  at: string;
  changes: Record<string, unknown>;
  externalId: string;
}

export interface ReceivedAccessVersion {
  userId: string;
  accessVersion: number;
  reason: string;
  at: string;
}

/**
 * Stands in for the event server's internal routes: checks the service token against the auth server's
 * JWKS like the real one, stores by externalId (a redelivery is a duplicate, not a second row), and
 * records every request it saw so tests can tell a retry from a first delivery.
 */
export class FakeEventServer {
  readonly activities = new Map<string, ReceivedActivity>();
  readonly auditEntries = new Map<string, ReceivedAuditEntry>();
  /** By `userId:accessVersion`. */
  readonly accessVersions = new Map<string, ReceivedAccessVersion>();
  /** How many times each externalId was sent (accepted or not). */
  readonly sends = new Map<string, number>();
  readonly requests: Array<{ path: string; status: number; items: number }> = [];
  readonly rejectedTokens: string[] = [];
  /** Answer 500 to this many requests after storing their items (the answer is lost, the write is not). */
  failAfterStoring = 0;
  /** Refuse (400, whole batch, like the real one) any request carrying an activity this matches. */
  refuseActivity: (item: ReceivedActivity) => boolean = () => false;
  /** Never answer (the relay's request hangs until it gives up or is aborted). */
  hang = false;
  hanging = 0;

  private server: Server | undefined;
  private trustedJwks!: (resolver: JwksKeyResolver) => void;
  private readonly jwks = new Promise<JwksKeyResolver>((resolve) => (this.trustedJwks = resolve));
  private port = 0;

  /**
   * The auth server's JWKS is known only once it listens, which is after this server got its port, and after the
   * auth server's relay may have sent its first message (its admin's audit entry, say): requests that come
   * before wait for it, as a real event server would serve them once it could check them.
   */
  trustJwks(jwksUrl: string): void {
    this.trustedJwks(new JwksKeyResolver(jwksUrl, { minRefreshMs: 0 }));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens on a free port the first time, on the same port afterwards (a restart). */
  async start(): Promise<void> {
    const server = createServer((request, response) => {
      void this.handle(request, response);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Down: refuses connections until started again. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  sendsOf(externalId: string): number {
    return this.sends.get(externalId) ?? 0;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const reply = (status: number, body: unknown, items = 0): void => {
      this.requests.push({ path: request.url ?? '', status, items });
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (this.hang) {
      this.hanging += 1;
      return;
    }
    const token = (request.headers.authorization ?? '').replace(/^Bearer /, '');
    try {
      const caller = await verifyAccessToken(token, {
        issuer: 'reward-platform-auth',
        audience: 'reward-platform-internal',
        keys: await this.jwks,
      });
      if (caller.id !== 'auth-server' || caller.roles.length !== 0) throw new Error(`unexpected caller ${caller.id}`);
    } catch (error) {
      this.rejectedTokens.push((error as Error).message);
      reply(401, { statusCode: 401, code: 'UNAUTHORIZED' });
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    if (request.method === 'POST' && request.url === '/internal/activities') {
      const items = body.items as ReceivedActivity[];
      for (const item of items) this.sends.set(item.externalId, this.sendsOf(item.externalId) + 1);
      if (items.some((item) => this.refuseActivity(item))) {
        reply(400, { statusCode: 400, code: 'VALIDATION_FAILED', message: ['items[0].userId refused'] }, items.length);
        return;
      }
      let inserted = 0;
      for (const item of items) {
        if (this.activities.has(item.externalId)) continue;
        this.activities.set(item.externalId, item);
        inserted += 1;
      }
      if (this.answeredWithFailure()) return reply(500, { statusCode: 500 }, items.length);
      reply(201, { received: items.length, inserted, duplicates: items.length - inserted }, items.length);
      return;
    }
    if (request.method === 'POST' && request.url === '/internal/audit-logs') {
      const entry = body as unknown as ReceivedAuditEntry;
      this.sends.set(entry.externalId, this.sendsOf(entry.externalId) + 1);
      const inserted = !this.auditEntries.has(entry.externalId);
      if (inserted) this.auditEntries.set(entry.externalId, entry);
      if (this.answeredWithFailure()) return reply(500, { statusCode: 500 }, 1);
      reply(201, { inserted }, 1);
      return;
    }
    if (request.method === 'POST' && request.url === '/internal/access-versions') {
      const notice = body as unknown as ReceivedAccessVersion;
      const key = `${notice.userId}:${notice.accessVersion}`;
      const inserted = !this.accessVersions.has(key);
      if (inserted) this.accessVersions.set(key, notice);
      reply(201, { inserted }, 1);
      return;
    }
    reply(404, { statusCode: 404 });
  }

  private answeredWithFailure(): boolean {
    if (this.failAfterStoring <= 0) return false;
    this.failAfterStoring -= 1;
    return true;
  }
}
