import { Role } from '@reward/server-kit/roles';
import { describe, expect, it } from 'vitest';
import { carriesHonouredKey, mayResendAfterDrop } from './idempotent-resend.js';
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

describe('mayResendAfterDrop', () => {
  const full = new RouteTable(ROUTE_POLICIES);
  const review = (action: string) => ({ method: 'POST', path: `/claims/c1/${action}`, headers: {} });

  it('is true for a keyed claim, and for a review with or without a key: the same decision again is one decision', () => {
    expect(mayResendAfterDrop(full, { method: 'POST', path: '/events/e1/claims', headers: keyed })).toBe(true);
    for (const action of ['approve', 'reject', 'revoke']) expect(mayResendAfterDrop(full, review(action)), action).toBe(true);
  });

  it('is false for an unkeyed claim and for every other write', () => {
    expect(mayResendAfterDrop(full, { method: 'POST', path: '/events/e1/claims', headers: {} })).toBe(false);
    expect(mayResendAfterDrop(full, { method: 'POST', path: '/events', headers: keyed })).toBe(false);
    expect(mayResendAfterDrop(full, { method: 'PATCH', path: '/events/e1', headers: {} })).toBe(false);
    expect(mayResendAfterDrop(full, { method: 'POST', path: '/activities', headers: {} })).toBe(false);
    expect(mayResendAfterDrop(full, { method: 'POST', path: '/claims/c1/approve/x', headers: {} })).toBe(false);
  });

  it('the policy table marks the three reviews repeatable, and nothing else', () => {
    const marked = ROUTE_POLICIES.filter((policy) => policy.repeatable).map((policy) => `${policy.method} ${policy.path}`);
    expect(marked).toEqual(['POST /claims/:id/approve', 'POST /claims/:id/reject', 'POST /claims/:id/revoke']);
  });
});
