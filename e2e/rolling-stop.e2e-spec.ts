import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClaimableEvent, fetchApi, makeEligible } from '../test-support/claimable-event.js';
import { Client, type TokenPair, signUp } from './support/client.js';
import { type ReplicaStack, startReplicaStack } from './support/replica-stack.js';
import { ADMIN } from './support/stack.js';

/** Whether a new connection to `url` gets a 200 from /health (a refused connection is not healthy). */
async function healthy(url: string): Promise<boolean> {
  return fetch(`${url}/health`, { headers: { connection: 'close' } }).then(
    (response) => response.status === 200,
    () => false,
  );
}

/**
 * A rolling deploy stops a replica with SIGTERM, then SIGKILL after a grace period (Docker's 10 s). Nest runs
 * every module's shutdown hook before it closes the HTTP server, and the payout relay's hook waits for the
 * webhooks it is sending: a receiver that holds its answer held the replica's HTTP side open and healthy,
 * taking new claims, until the send ended (minutes, with a back-fill pass under way), and the grace period
 * of the requests in flight only began then. The HTTP side now stops at the signal.
 */
describe('a replica stopped with SIGTERM while it sends a webhook', () => {
  let stack: ReplicaStack;
  let receiver: Server;
  const held: ServerResponse[] = [];
  let firstHeld: Promise<void>;

  beforeAll(async () => {
    let gotOne!: () => void;
    firstHeld = new Promise((resolve) => (gotOne = resolve));
    receiver = createServer((request: IncomingMessage, response: ServerResponse) => {
      request.resume();
      held.push(response);
      gotOne();
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    stack = await startReplicaStack('rolling_stop', {
      replicas: 1,
      // The send is held for as long as the test holds it (well past any grace period).
      event: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_TIMEOUT_MS: '60000' },
    });
  });

  afterAll(async () => {
    for (const response of held) if (!response.writableEnded) response.end();
    await stack?.close();
    receiver?.close();
  });

  it('stops taking requests at the signal, and exits once the send in flight is recorded', async () => {
    const api = new Client(stack.gatewayUrl);
    const admin = (await api.post<TokenPair>('/auth/login', ADMIN)).body.accessToken;
    const fixture = fetchApi(stack.gatewayUrl);
    const endpoint = await fixture.request('POST', '/webhook-endpoints', {
      token: admin,
      body: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, events: ['claim.granted'] },
    });
    expect(endpoint.status).toBe(201);
    const player = await signUp(api);
    const launch = await createClaimableEvent(fixture, admin, { activity: 'ROLLING_STOP' });
    await makeEligible(fixture, admin, 'ROLLING_STOP', [player.id]);
    const claim = await fixture.request<{ id: string; status: string }>('POST', `/events/${launch.id}/claims`, {
      token: player.tokens.accessToken,
    });
    expect(claim.status).toBe(201);
    await firstHeld;

    const replica = stack.eventUrls[0] as string;
    const { exited } = stack.terminateEvent(0);
    let ended = false;
    void exited.then(() => (ended = true));
    // With the send still held: the replica no longer takes a new connection (its health is not 200).
    while (await healthy(replica)) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ended).toBe(false);

    // The receiver answers: the send is recorded, and the process ends.
    for (const response of held) response.writeHead(204).end();
    const how = await exited;
    expect(how.signal === 'SIGTERM' || how.code === 0).toBe(true);

    await stack.restartEvent(0);
    const after = await fixture.request<{ payout?: { status: string } }>('GET', `/claims/${claim.body.id}`, { token: admin });
    expect(after.body.payout?.status).toBe('DELIVERED');
    // A process started, stopped and started again: more than the default 30 s on a busy machine.
  }, 120_000);
});
