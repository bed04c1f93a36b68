import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenApiContract, type RecordedAnswer } from '../test-support/openapi-contract.js';
import { ADMIN, type Stack, startStack } from './support/stack.js';

/**
 * The main flows, driven through the gateway as a client would, with every answer (successes included)
 * checked strictly against the committed merged document the SDK is generated from.
 */
const document = JSON.parse(readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8')) as ConstructorParameters<
  typeof OpenApiContract
>[0];
const contract = new OpenApiContract(document);

let stack: Stack;

beforeAll(async () => {
  stack = await startStack('contract');
});

afterAll(async () => {
  await stack?.close();
});

/** The fields of an answer the flow goes on with. */
interface Fields {
  id: string;
  accessToken: string;
  refreshToken: string;
}

interface Sent {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Sends `METHOD url` through the gateway, checks the answer against `operation` in the document and returns it. */
async function call(
  operation: string,
  url: string,
  expected: number,
  sent: Sent = {},
): Promise<RecordedAnswer & { json: Fields }> {
  const [method = 'GET'] = operation.split(' ');
  const response = await fetch(`${stack.gatewayUrl}${url}`, {
    method,
    headers: {
      ...(sent.token !== undefined && { authorization: `Bearer ${sent.token}` }),
      ...(sent.body !== undefined && { 'content-type': 'application/json' }),
      ...sent.headers,
    },
    ...(sent.body !== undefined && { body: JSON.stringify(sent.body) }),
  });
  const text = await response.text();
  const answer = { status: response.status, headers: Object.fromEntries(response.headers), text };
  expect(answer.status, `${operation} ${url}: ${text.slice(0, 300)}`).toBe(expected);
  expect(contract.problemWith(operation, answer)).toBeUndefined();
  const json = answer.headers['content-type']?.startsWith('application/json') ? (JSON.parse(text) as Fields) : ({} as Fields);
  return { ...answer, json };
}

describe('the main flows, every answer as the merged document says', () => {
  it('sign-in, events, rewards, activities, progress, claims, review, export and audit', async () => {
    const admin = (await call('POST /auth/login', '/auth/login', 200, { body: ADMIN })).json.accessToken;
    await call('GET /.well-known/jwks.json', '/.well-known/jwks.json', 200);

    const stamp = Date.now();
    const staff = async (role: string): Promise<{ id: string; token: string }> => {
      const email = `${role.toLowerCase()}-${stamp}@contract.test`;
      const created = await call('POST /auth/register', '/auth/register', 201, { body: { email, password: 'password-123' } });
      const id = created.json.id;
      if (!role.startsWith('USER'))
        await call('PATCH /users/{id}/roles', `/users/${id}/roles`, 200, { token: admin, body: { roles: [role] } });
      const pair = await call('POST /auth/login', '/auth/login', 200, { body: { email, password: 'password-123' } });
      return { id, token: pair.json.accessToken };
    };
    const operator = await staff('OPERATOR');
    const auditor = await staff('AUDITOR');
    const player = await staff('USER');

    const playerPair = await call('POST /auth/login', '/auth/login', 200, {
      body: { email: `user-${stamp}@contract.test`, password: 'password-123' },
    });
    const refreshed = await call('POST /auth/refresh', '/auth/refresh', 200, {
      body: { refreshToken: playerPair.json.refreshToken },
    });
    await call('POST /auth/refresh', '/auth/refresh', 401, { body: { refreshToken: playerPair.json.refreshToken } });
    await call('POST /auth/logout', '/auth/logout', 204, {
      token: player.token,
      body: { refreshToken: refreshed.json.refreshToken },
    });
    await call('POST /auth/login', '/auth/login', 401, {
      body: { email: `user-${stamp}@contract.test`, password: 'wrong-pass' },
    });
    await call('POST /auth/register', '/auth/register', 409, {
      body: { email: `user-${stamp}@contract.test`, password: 'password-123' },
    });
    await call('GET /users/me', '/users/me', 200, { token: player.token });
    await call('GET /users', '/users?role=OPERATOR&page=1&limit=5', 200, { token: admin });
    await call('GET /users', '/users', 403, { token: operator.token });
    await call('GET /users', '/users', 401);

    const now = Date.now();
    const period = { startAt: new Date(now - 3_600_000).toISOString(), endAt: new Date(now + 86_400_000).toISOString() };
    const condition = { type: 'ACTIVITY_COUNT', activity: 'BOSS_KILL', count: 1 };
    const auto = await call('POST /events', '/events', 201, {
      token: operator.token,
      body: { title: 'Auto', ...period, status: 'ACTIVE', approval: 'AUTO', condition },
    });
    const manual = await call('POST /events', '/events', 201, {
      token: operator.token,
      body: { title: 'Manual', description: 'd', ...period, status: 'ACTIVE', approval: 'MANUAL', timezone: 'UTC', condition },
    });
    await call('POST /events', '/events', 403, { token: player.token, body: { title: 'x' } });
    await call('POST /events', '/events', 400, { token: operator.token, body: { title: 'x' } });
    const autoId = auto.json.id;
    const manualId = manual.json.id;
    await call('PATCH /events/{id}', `/events/${autoId}`, 200, { token: operator.token, body: { description: 'now described' } });
    await call('GET /events', '/events?status=ACTIVE&page=1&limit=5', 200, { token: player.token });
    await call('GET /events', `/events?activeAt=${encodeURIComponent(new Date().toISOString())}`, 200, { token: player.token });
    await call('GET /events/{id}', `/events/${autoId}`, 200, { token: player.token });
    await call('GET /events/{id}', '/events/665f1c2b9d3e4a0012345678', 404, { token: player.token });
    await call('GET /events/{id}', '/events/nope', 400, { token: player.token });

    const reward = await call('POST /events/{id}/rewards', `/events/${autoId}/rewards`, 201, {
      token: operator.token,
      body: { type: 'POINT', name: 'Points', quantity: 100, stock: 10 },
    });
    await call('POST /events/{id}/rewards', `/events/${autoId}/rewards`, 201, {
      token: operator.token,
      body: { type: 'COUPON', name: 'Coupon', quantity: 1, couponCode: 'WELCOME' },
    });
    await call('POST /events/{id}/rewards', `/events/${manualId}/rewards`, 201, {
      token: operator.token,
      body: { type: 'ITEM', name: 'Sword', quantity: 1, stock: 5, itemCode: 'SWORD' },
    });
    await call('PATCH /events/{id}/rewards/{rewardId}', `/events/${autoId}/rewards/${reward.json.id}`, 200, {
      token: operator.token,
      body: { name: 'More points' },
    });
    await call('GET /events/{id}/rewards', `/events/${autoId}/rewards`, 200, { token: player.token });
    await call('GET /events/{id}', `/events/${autoId}`, 200, { token: player.token });

    await call('GET /events/{id}/progress', `/events/${autoId}/progress`, 200, { token: player.token });
    await call('POST /events/{id}/claims', `/events/${autoId}/claims`, 422, { token: player.token });

    await call('POST /activities', '/activities', 201, {
      token: operator.token,
      body: { userId: player.id, type: 'BOSS_KILL', externalId: `kill-${stamp}` },
    });
    await call('POST /activities', '/activities', 201, {
      token: operator.token,
      body: {
        items: [
          { userId: player.id, type: 'BOSS_KILL', externalId: `kill-${stamp}` },
          { userId: player.id, type: 'QUEST_CLEAR', attributes: { questId: 'q1' }, occurredAt: new Date().toISOString() },
        ],
      },
    });
    await call('GET /activities', `/activities?userId=${player.id}&page=1&limit=10`, 200, { token: auditor.token });
    await call('GET /events/{id}/progress', `/events/${autoId}/progress`, 200, { token: player.token });
    await call('GET /events/{id}/progress', `/events/${autoId}/progress?userId=${player.id}`, 200, { token: operator.token });
    await call('GET /events/{id}/progress', `/events/${autoId}/progress?userId=${operator.id}`, 403, { token: player.token });

    const key = { 'idempotency-key': `claim-${stamp}` };
    const granted = await call('POST /events/{id}/claims', `/events/${autoId}/claims`, 201, {
      token: player.token,
      headers: key,
    });
    const again = await call('POST /events/{id}/claims', `/events/${autoId}/claims`, 201, { token: player.token, headers: key });
    expect(again.json.id).toBe(granted.json.id);
    await call('POST /events/{id}/claims', `/events/${autoId}/claims`, 409, { token: player.token });
    const pending = await call('POST /events/{id}/claims', `/events/${manualId}/claims`, 201, { token: player.token });
    await call('POST /events/{id}/claims', `/events/${autoId}/claims`, 403, { token: operator.token });

    await call('GET /claims/me', `/claims/me?eventId=${autoId}&page=1&limit=5`, 200, { token: player.token });
    await call('GET /claims/{id}', `/claims/${granted.json.id}`, 200, { token: player.token });
    await call('GET /claims/{id}', `/claims/${granted.json.id}`, 404, { token: (await staff('USER2')).token });
    await call('GET /claims', `/claims?eventId=${autoId}&status=GRANTED`, 200, { token: auditor.token });
    await call('POST /claims/{id}/approve', `/claims/${pending.json.id}/approve`, 200, { token: operator.token });
    await call('POST /claims/{id}/approve', `/claims/${pending.json.id}/approve`, 200, { token: operator.token });
    await call('POST /claims/{id}/approve', `/claims/${pending.json.id}/approve`, 409, { token: admin });
    await call('POST /claims/{id}/revoke', `/claims/${granted.json.id}/revoke`, 200, {
      token: operator.token,
      body: { note: 'abuse' },
    });
    await call('POST /claims/{id}/reject', `/claims/${granted.json.id}/reject`, 409, { token: admin, body: { note: 'x' } });
    await call('POST /claims/{id}/approve', `/claims/${pending.json.id}/approve`, 403, { token: auditor.token });
    const exported = await call('GET /claims/export', `/claims/export?eventId=${autoId}`, 200, { token: auditor.token });
    expect(exported.text.split('\r\n')[0] ?? exported.text.split('\n')[0]).toContain('id,eventId,userId');

    await call('GET /audit-logs', '/audit-logs?page=1&limit=50', 200, { token: auditor.token });
    await call('GET /audit-logs', '/audit-logs', 403, { token: operator.token });
    await call('GET /deliveries', '/deliveries', 200, { token: auditor.token });
    await call('GET /webhook-endpoints', '/webhook-endpoints', 200, { token: admin });
    await call('GET /health', '/health', 200);
    await call('GET /openapi.json', '/openapi.json', 200);
  });
});
