import { Role } from '@reward/server-kit/roles';
import { describe, expect, it } from 'vitest';
import { carriesHonouredKey } from './idempotent-resend.js';
import { ROUTE_POLICIES } from './route-policy.js';
import { RouteTable } from './route-table.js';

const table = new RouteTable([
  { method: 'POST', path: '/events/:id/claims', access: [Role.USER], upstream: 'event', idempotencyKey: true },
  { method: 'POST', path: '/events', access: [Role.OPERATOR], upstream: 'event' },
  { method: 'GET', path: '/events/:id', access: [], upstream: 'event' },
]);
const keyed = { 'idempotency-key': 'launch-1' };

describe('carriesHonouredKey', () => {
  it('is true for a request with a key on a route whose upstream honours it, a query string notwithstanding', () => {
    expect(carriesHonouredKey(table, { method: 'POST', path: '/events/e1/claims', headers: keyed })).toBe(true);
    expect(carriesHonouredKey(table, { method: 'POST', path: '/events/e1/claims?x=1', headers: keyed })).toBe(true);
  });

  it('is false without a key, with an empty or non-string one, or without headers', () => {
    for (const headers of [{}, { 'idempotency-key': '' }, { 'idempotency-key': ['a', 'b'] }, undefined, null]) {
      expect(carriesHonouredKey(table, { method: 'POST', path: '/events/e1/claims', headers }), JSON.stringify(headers)).toBe(
        false,
      );
    }
  });

  it('is false on a route whose upstream does not honour the key, another method, or no route at all', () => {
    expect(carriesHonouredKey(table, { method: 'POST', path: '/events', headers: keyed })).toBe(false);
    expect(carriesHonouredKey(table, { method: 'GET', path: '/events/e1', headers: keyed })).toBe(false);
    expect(carriesHonouredKey(table, { method: 'PUT', path: '/events/e1/claims', headers: keyed })).toBe(false);
    expect(carriesHonouredKey(table, { method: 'POST', path: '/events/e1/claims/', headers: keyed })).toBe(false);
    expect(carriesHonouredKey(table, { method: 'POST', path: '/nowhere', headers: keyed })).toBe(false);
  });

  it('the policy table marks the claim route and the refresh: the only ones whose servers honour Idempotency-Keys', () => {
    const marked = ROUTE_POLICIES.filter((policy) => policy.idempotencyKey).map((policy) => `${policy.method} ${policy.path}`);
    expect(marked).toEqual(['POST /auth/refresh', 'POST /events/:id/claims']);
  });
});
