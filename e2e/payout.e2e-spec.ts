import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyWebhook } from '@reward/sdk';
import { createClaimableEvent, makeEligible } from '../test-support/claimable-event.js';
import { Client, type TokenPair, signUp } from './support/client.js';
import { ADMIN, type Stack, startStack } from './support/stack.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** The game's side: its first answer is 503, then it accepts everything. */
async function flakyReceiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(received.length === 1 ? 503 : 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/rewards`, received };
}

describe('payout webhooks through the gateway', () => {
  let stack: Stack;
  let api: Client;
  let admin: TokenPair;
  let receiver: Awaited<ReturnType<typeof flakyReceiver>>;

  beforeAll(async () => {
    stack = await startStack('payout');
    api = new Client(stack.gatewayUrl);
    admin = (await api.post<TokenPair>('/auth/login', ADMIN)).body;
    receiver = await flakyReceiver();
  });

  afterAll(async () => {
    await stack?.close();
    receiver?.server.closeAllConnections();
    await new Promise<void>((resolve) => (receiver ? receiver.server.close(() => resolve()) : resolve()));
  });

  it('a grant reaches a receiver that fails at first, signed so that the SDK and an independent library agree', async () => {
    const player = await signUp(api);
    expect(
      (await api.post('/webhook-endpoints', { url: receiver.url, events: ['claim.granted'] }, player.tokens.accessToken)).status,
    ).toBe(403);
    const refused = await api.post(
      '/webhook-endpoints',
      { url: 'http://169.254.169.254/', events: ['claim.granted'] },
      admin.accessToken,
    );
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('WEBHOOK_URL_REFUSED');
    const endpoint = await api.post<{ id: string; secret: string }>(
      '/webhook-endpoints',
      { url: receiver.url, events: ['claim.granted', 'claim.revoked'] },
      admin.accessToken,
    );
    expect(endpoint.status).toBe(201);

    const event = await createClaimableEvent(api, admin.accessToken, {
      title: 'Payout e2e',
      activity: 'E2E_PAYOUT',
      rewards: [{ type: 'POINT', name: 'Gems', quantity: 50 }],
    });
    await makeEligible(api, admin.accessToken, event.activity, [player.id]);
    const claimed = await api.post<{ id: string; payout: { status: string } }>(
      `/events/${event.id}/claims`,
      undefined,
      player.tokens.accessToken,
    );
    expect(claimed.status).toBe(201);
    expect(claimed.body.payout.status).toBe('PENDING');

    // The default schedule retries the first failure after about 5 s (4 to 6 with the jitter).
    const claim = await vi.waitFor(
      async () => {
        const now = await api.get<{ payout: { status: string; attempts: number } }>(
          `/claims/${claimed.body.id}`,
          player.tokens.accessToken,
        );
        expect(now.body.payout.status).toBe('DELIVERED');
        return now.body;
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(claim.payout.attempts).toBeGreaterThanOrEqual(2);
    const last = receiver.received.at(-1)!;
    expect(new Set(receiver.received.map((webhook) => webhook.headers['webhook-id'])).size).toBe(1);
    const headers = last.headers as Record<string, string>;
    const payload = verifyWebhook(endpoint.body.secret, headers, last.body);
    expect(payload).toMatchObject({
      type: 'claim.granted',
      data: { id: claimed.body.id, userId: player.id, eventId: event.id },
    });
    expect(new Webhook(endpoint.body.secret).verify(last.body, headers)).toEqual(payload);

    const deliveries = await api.get<{ items: Array<{ status: string; attemptLog: Array<{ statusCode: number }> }> }>(
      `/deliveries?claimId=${claimed.body.id}`,
      admin.accessToken,
    );
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.items[0]!.attemptLog.at(-1)!.statusCode).toBe(204);
    expect((await api.get('/deliveries', player.tokens.accessToken)).status).toBe(403);
    const removed = await api.request('DELETE', `/webhook-endpoints/${endpoint.body.id}`, { token: admin.accessToken });
    expect(removed.status).toBe(204);
  });
});
