import { describe, expect, it, vi } from 'vitest';
import { claim, createClaimableEvent, eligibleUsers } from '../testing/claim-test-kit.js';
import { usePayoutSpec } from '../testing/payout-test-kit.js';

/**
 * The schedule's first retry comes 0.05 s after a failure, so any later attempt is the receiver's Retry-After
 * at work; its longest wait (an hour) is what a far-off Retry-After is clamped to.
 */
const ENV = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  PAYOUT_RELAY_INTERVAL_MS: '20',
  WEBHOOK_RETRY_SCHEDULE_SECONDS: '0.05,0.05,3600',
  WEBHOOK_TIMEOUT_MS: '2000',
  WEBHOOK_ENDPOINT_CACHE_MS: '100',
};
const WAIT = { timeout: 20_000, interval: 30 };
const HOUR_MS = 3600_000;

interface Delivery {
  id: string;
  status: string;
  attempts: number;
  webhookId: string;
  nextAttemptAt?: string;
  lastAttemptAt?: string;
  lastError?: string;
  attemptLog: Array<{ attempt: number; at: string; statusCode?: number; error?: string }>;
}

describe("a receiver's Retry-After on 429 and 503", () => {
  const { t, operator, receiver, subscribe } = usePayoutSpec('payout_retry_after', ENV);

  /** Grants a claim (its one delivery to the receiver) and returns the claim id. */
  async function grant(): Promise<string> {
    const event = await createClaimableEvent(t, operator, { approval: 'AUTO' });
    const [user] = await eligibleUsers(t, operator, 1);
    const answer = await claim(t, event.id, user!);
    expect(answer.status).toBe(201);
    return answer.body.id as string;
  }

  async function deliveryOf(claimId: string): Promise<Delivery> {
    const list = await t.request<{ items: Delivery[] }>('GET', `/deliveries?claimId=${claimId}`, { token: operator.token });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    return list.body.items[0]!;
  }

  /** The receiver's next answer is `status` with that Retry-After, every later one 204. */
  function answerFirst(status: number, retryAfter: string): void {
    const firstIndex = receiver.received.length;
    receiver.answer = (index, _w, res) =>
      index === firstIndex ? res.writeHead(status, { 'retry-after': retryAfter }).end('busy') : res.writeHead(204).end();
  }

  it('a 503 with delay-seconds: the next attempt waits that long (not the 0.05 s retry), and the error says why', async () => {
    await subscribe();
    answerFirst(503, '3');
    const claimId = await grant();
    const delivered = await vi.waitFor(async () => {
      const delivery = await deliveryOf(claimId);
      expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 2 });
      return delivery;
    }, WAIT);
    const [first, second] = receiver.withId(delivered.webhookId);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(3_000);
    expect(delivered.attemptLog[0]).toMatchObject({
      statusCode: 503,
      error: expect.stringMatching(/^the receiver answered 503: busy \(Retry-After "3": next attempt not before \d{4}-.*Z\)$/),
    });
    const notBefore = Date.parse(/not before (\S+)\)$/.exec(delivered.attemptLog[0]!.error!)![1]!);
    expect(Date.parse(delivered.attemptLog[1]!.at)).toBeGreaterThanOrEqual(notBefore);
  });

  it('a 429 with an HTTP date: the next attempt is not before that date', async () => {
    const date = new Date(Date.now() + 4_000).toUTCString();
    await subscribe();
    answerFirst(429, date);
    const claimId = await grant();
    const delivered = await vi.waitFor(async () => {
      const delivery = await deliveryOf(claimId);
      expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 2 });
      return delivery;
    }, WAIT);
    const [, second] = receiver.withId(delivered.webhookId);
    expect(second!.at).toBeGreaterThanOrEqual(Date.parse(date));
    expect(delivered.attemptLog[0]!.error).toContain(`Retry-After "${date}": next attempt not before`);
  });

  it("clamps a far-off Retry-After to the schedule's longest wait, and shows it in GET /deliveries and the claim's payout", async () => {
    await subscribe();
    answerFirst(503, '864000000');
    const claimId = await grant();
    const waiting = await vi.waitFor(async () => {
      const delivery = await deliveryOf(claimId);
      expect(delivery).toMatchObject({ status: 'PENDING', attempts: 1 });
      return delivery;
    }, WAIT);
    const wait = Date.parse(waiting.nextAttemptAt!) - Date.parse(waiting.lastAttemptAt!);
    expect(wait).toBeGreaterThanOrEqual(HOUR_MS);
    expect(wait).toBeLessThan(HOUR_MS + 60_000);
    expect(waiting.lastError).toMatch(
      /\(Retry-After "864000000", clamped to the longest wait \(3600 s\): next attempt not before /,
    );
    const claimNow = await vi.waitFor(async () => {
      const answer = await t.request<{ payout: { status: string; lastError?: string } }>('GET', `/claims/${claimId}`, {
        token: operator.token,
      });
      expect(answer.body.payout.lastError).toBeDefined();
      return answer.body;
    }, WAIT);
    expect(claimNow.payout).toMatchObject({ status: 'PENDING', lastError: waiting.lastError });
  });

  it('ignores an invalid Retry-After (the schedule decides), saying so, and a Retry-After on other answers', async () => {
    await subscribe();
    answerFirst(503, 'in a minute');
    const claimId = await grant();
    const delivered = await vi.waitFor(async () => {
      const delivery = await deliveryOf(claimId);
      expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 2 });
      return delivery;
    }, WAIT);
    expect(delivered.attemptLog[0]!.error).toBe(
      'the receiver answered 503: busy (Retry-After "in a minute" ignored: neither seconds nor an HTTP date)',
    );

    answerFirst(500, '3600');
    const other = await grant();
    const second = await vi.waitFor(async () => {
      const delivery = await deliveryOf(other);
      expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 2 });
      return delivery;
    }, WAIT);
    expect(second.attemptLog[0]!.error).toBe('the receiver answered 500: busy');
  });
});
