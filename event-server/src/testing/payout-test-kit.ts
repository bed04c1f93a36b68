import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Actor } from './claim-test-kit.js';
import { type EventTestApp, newId, startEventTestApp } from './event-test-app.js';
import { TestReceiver } from './webhook-test-receiver.js';

/** What a payout suite works with: one event server, an ADMIN and an OPERATOR of it, one receiver. */
export interface PayoutSpec {
  /** The event server (`startEventTestApp(label, env)`), up from the suite's beforeAll to its afterAll. */
  readonly t: EventTestApp;
  readonly admin: Actor;
  readonly operator: Actor;
  /** The game's receiver; each test starts with one that answers 204. */
  readonly receiver: TestReceiver;
  /** Subscribes the receiver to grants on `app` (this suite's server by default); the endpoint's id. */
  subscribe(app?: EventTestApp): Promise<string>;
}

/**
 * A payout suite's set-up: its event server and webhook receiver, started before its tests (beforeAll), the
 * endpoints a test subscribed deleted and the receiver's answer back to 204 after each, both stopped after all.
 * What it returns may be taken apart where the suite is declared (the specs keep their names for them): `t` and
 * the actors' tokens reach the server only when a test or hook uses them, once it is up.
 */
export function usePayoutSpec(label: string, env: Record<string, string>): PayoutSpec {
  let server: EventTestApp | undefined;
  const started = (): EventTestApp => {
    if (!server) throw new Error('the event server starts in beforeAll: use it inside a test or hook');
    return server;
  };
  const t: EventTestApp = {
    get app() {
      return started().app;
    },
    get issuer() {
      return started().issuer;
    },
    as: (...roles) => started().as(...roles),
    request: (method, url, options) => started().request(method, url, options),
    close: () => started().close(),
  };
  const admin = actor(t, 'ADMIN');
  const operator = actor(t, 'OPERATOR');
  const receiver = TestReceiver.create();

  beforeAll(async () => {
    server = await startEventTestApp(label, env);
    await receiver.listen();
  });

  afterEach(async () => {
    // Each test subscribes its own endpoints; none may leak deliveries into the next test.
    await deleteEveryEndpoint(t, admin);
    receiver.answer = (_i, _w, res) => res.writeHead(204).end();
  });

  afterAll(async () => {
    await server?.close();
    await receiver.stop();
  });

  return {
    t,
    admin,
    operator,
    receiver,
    async subscribe(app = t) {
      const created = await app.request<{ id: string }>('POST', '/webhook-endpoints', {
        token: admin.token,
        body: { url: receiver.url, events: ['claim.granted'] },
      });
      expect(created.status).toBe(201);
      return created.body.id;
    },
  };
}

/** Deletes every webhook endpoint of `app` (the first 100), as `admin`: none may leak deliveries into the next test. */
export async function deleteEveryEndpoint(app: EventTestApp, admin: Actor): Promise<void> {
  const list = await app.request<{ items: Array<{ id: string }> }>('GET', '/webhook-endpoints?limit=100', { token: admin.token });
  for (const endpoint of list.body.items)
    await app.request('DELETE', `/webhook-endpoints/${endpoint.id}`, { token: admin.token });
}

/** A user with `role`, as `t.as(role)` makes one; its token is signed when first read (the server is up by then). */
function actor(t: EventTestApp, role: string): Actor {
  const id = newId();
  let token: string | undefined;
  return {
    id,
    get token() {
      return (token ??= t.issuer.token(id, [role]));
    },
  };
}
