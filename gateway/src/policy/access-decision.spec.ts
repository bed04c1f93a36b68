import { JwtStrategy } from '@reward/server-kit/jwt.strategy';
import { ROLES, type Role } from '@reward/server-kit/roles';
import { VerifiedTokenCache } from '@reward/server-kit/verified-token-cache';
import { beforeAll, describe, expect, it } from 'vitest';
import { TokenForge } from '../../../test-support/tokens.js';
import { TEST_AUDIENCE, TEST_ISSUER } from '../testing/gateway-harness.js';
import { SAMPLE_ID, concretePath } from '../testing/policy-samples.js';
import { decideAccess } from './access-decision.js';
import { ROUTE_POLICIES, type RoutePolicy } from './route-policy.js';
import { RouteTable } from './route-table.js';

const signer = TokenForge.generate({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
const table = new RouteTable(ROUTE_POLICIES);

function request(token?: string): object {
  return { headers: token ? { authorization: `Bearer ${token}` } : {} };
}

async function decide(policy: RoutePolicy, token?: string) {
  return decideAccess(table, policy.method, concretePath(policy), request(token));
}

beforeAll(() => {
  // Registers the one Passport strategy exactly as JwtAuthModule does, over the fake signer's key.
  new JwtStrategy({
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    keys: { getKey: async (kid) => (kid === signer.kid ? signer.publicKey : undefined) },
  });
});

describe('every line of the route policy table', () => {
  it.each(ROUTE_POLICIES.map((policy) => [`${policy.method} ${policy.path}`, policy] as const))(
    '%s resolves to itself and is enforced as written',
    async (_name, policy) => {
      expect(table.resolve(policy.method, concretePath(policy))).toMatchObject({ kind: 'found', policy });
      expect(table.resolve(policy.method, `${concretePath(policy)}?page=2&x=%20y`)).toMatchObject({ kind: 'found', policy });

      if (policy.access === 'public') {
        expect(await decide(policy)).toMatchObject({ allowed: true, policy, user: undefined });
        return;
      }

      const anonymous = await decide(policy);
      expect(anonymous).toMatchObject({ allowed: false, status: 401, body: { statusCode: 401, code: 'UNAUTHORIZED' } });

      const required = policy.access;
      const lacking = ROLES.filter((role) => role !== 'ADMIN' && required.length > 0 && !required.includes(role));
      for (const role of lacking) {
        const decision = await decide(policy, signer.sign({ roles: [role] }));
        expect(decision, role).toMatchObject({ allowed: false, status: 403, body: { code: 'FORBIDDEN' } });
      }
      const sufficient: Role[] = required.length === 0 ? [...ROLES] : ['ADMIN', ...required];
      for (const role of sufficient) {
        const decision = await decide(policy, signer.sign({ roles: [role] }));
        expect(decision, role).toMatchObject({ allowed: true, policy, user: { id: SAMPLE_ID, roles: [role] } });
      }
    },
  );

  it('holds exactly the routes of API.md plus the gateway routes (health, OpenAPI, Swagger UI)', () => {
    expect(ROUTE_POLICIES.map((policy) => `${policy.method} ${policy.path} ${policy.upstream} ${String(policy.access)}`)).toEqual(
      [
        'GET /health gateway public',
        'GET /openapi.json gateway public',
        'GET /docs gateway public',
        'GET /docs/ gateway public',
        'GET /docs/swagger-ui.css gateway public',
        'GET /docs/swagger-ui-bundle.js gateway public',
        'GET /docs/favicon-32x32.png gateway public',
        'GET /docs/docs-init.js gateway public',
        'POST /auth/register auth public',
        'POST /auth/login auth public',
        'POST /auth/refresh auth public',
        'POST /auth/logout auth ',
        'GET /users/me auth ',
        'POST /users/me/password auth ',
        'GET /users auth ADMIN',
        'PATCH /users/:id/roles auth ADMIN',
        'POST /users/:id/logout-all auth ',
        'GET /.well-known/jwks.json auth public',
        'POST /events event OPERATOR',
        'GET /events event ',
        'GET /events/:id event ',
        'PATCH /events/:id event OPERATOR',
        'POST /events/:id/rewards event OPERATOR',
        'PATCH /events/:id/rewards/:rewardId event OPERATOR',
        'GET /events/:id/rewards event ',
        'GET /events/:id/progress event ',
        'POST /events/:id/claims event USER',
        'GET /claims/me event ',
        'GET /claims/export event OPERATOR,AUDITOR',
        'GET /claims event OPERATOR,AUDITOR',
        'GET /claims/:id event ',
        'POST /claims/:id/approve event OPERATOR',
        'POST /claims/:id/reject event OPERATOR',
        'POST /claims/:id/revoke event OPERATOR',
        'POST /activities event OPERATOR',
        'GET /activities event OPERATOR,AUDITOR',
        'GET /audit-logs event AUDITOR',
        'POST /webhook-endpoints event ADMIN',
        'GET /webhook-endpoints event ADMIN',
        'GET /webhook-endpoints/:id event ADMIN',
        'PATCH /webhook-endpoints/:id event ADMIN',
        'DELETE /webhook-endpoints/:id event ADMIN',
        'POST /webhook-endpoints/:id/rotate-secret event ADMIN',
        'POST /webhook-endpoints/:id/send-pending event OPERATOR',
        'POST /webhook-endpoints/:id/retry-failed event OPERATOR',
        'GET /deliveries event OPERATOR,AUDITOR',
        'POST /deliveries/:id/retry event OPERATOR',
      ],
    );
  });
});

describe('decideAccess', () => {
  const usersMe = ROUTE_POLICIES.find((policy) => policy.path === '/users/me') as RoutePolicy;

  it('refuses unknown paths with 404 ROUTE_NOT_FOUND, whatever the token', async () => {
    for (const url of ['/', '/auth', '/auth/', '/auth/../users', '/users/me/x', '/internal', '/users/me/']) {
      const decision = await decideAccess(table, 'GET', url, request(signer.sign({ roles: ['ADMIN'] })));
      expect(decision, url).toMatchObject({ allowed: false, status: 404, body: { statusCode: 404, code: 'ROUTE_NOT_FOUND' } });
    }
  });

  it('refuses a path with a percent-encoded unreserved character with 400, before looking at the token', async () => {
    for (const url of ['/claims/%65xport', '/%2e%2e/users', '/users/m%65']) {
      const decision = await decideAccess(table, 'GET', url, request(signer.sign({ roles: ['ADMIN'] })));
      expect(decision, url).toMatchObject({
        allowed: false,
        status: 400,
        body: { statusCode: 400, error: 'Bad Request', code: 'ENCODED_UNRESERVED_CHARACTER' },
      });
    }
  });

  it('refuses another method on a known path with 405 and Allow', async () => {
    const decision = await decideAccess(table, 'DELETE', '/users/me', request(signer.sign({ roles: ['ADMIN'] })));
    expect(decision).toMatchObject({
      allowed: false,
      status: 405,
      headers: { allow: 'GET, HEAD' },
      body: { code: 'METHOD_NOT_ALLOWED' },
    });
  });

  it('lets a user with no role at all through an any-user route, and ADMIN through every route', async () => {
    expect(await decide(usersMe, signer.sign({ roles: [] }))).toMatchObject({ allowed: true });
    for (const policy of ROUTE_POLICIES)
      expect(await decide(policy, signer.sign({ roles: ['ADMIN'] }))).toMatchObject({ allowed: true });
  });

  it('refuses forged and foreign tokens with 401 and says why', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['expired', signer.sign({ roles: ['USER'] }, { expiresInSeconds: -10 }), /expired/],
      ['tampered', TokenForge.tampered(signer.sign({ roles: ['USER'] }), { roles: ['ADMIN'] }), /invalid signature/],
      ['alg none', signer.unsigned({ roles: ['USER'] }), /algorithm none/],
      ['HS256 with the public key', signer.hmacWithPublicKey({ roles: ['USER'] }), /algorithm HS256/],
      ['unknown kid', signer.unknownKid({ roles: ['USER'] }), /unknown signing key/],
      ['right kid, wrong key', signer.wrongKeySameKid({ roles: ['USER'] }), /invalid signature/],
      ['wrong issuer', signer.sign({ roles: ['USER'] }, { issuer: 'someone-else' }), /issuer invalid/],
      ['wrong audience', signer.sign({ roles: ['USER'] }, { audience: 'another-app' }), /audience invalid/],
      ['garbage', 'not-a-jwt', /Invalid access token/],
    ];
    for (const [name, token, reason] of cases) {
      const decision = await decide(usersMe, token);
      expect(decision, name).toMatchObject({ allowed: false, status: 401, body: { code: 'UNAUTHORIZED' } });
      expect(decision.allowed ? '' : String(decision.body.message), name).toMatch(reason);
    }
    expect(await decide(usersMe, signer.handSigned({ roles: ['USER'] }))).toMatchObject({ allowed: true });
  });
});

describe('decideAccess with a cache of verified tokens', () => {
  const byPath = (method: string, path: string) =>
    ROUTE_POLICIES.find((policy) => policy.method === method && policy.path === path) as RoutePolicy;

  it('remembers only tokens that passed, and still checks the roles on every request', async () => {
    const tokens = new VerifiedTokenCache();
    const user = signer.sign({ roles: ['USER'] });
    const check = (policy: RoutePolicy, token: string) =>
      decideAccess(table, policy.method, concretePath(policy), request(token), tokens);

    expect(await check(byPath('GET', '/users/me'), user)).toMatchObject({ allowed: true, user: { roles: ['USER'] } });
    expect(tokens.size).toBe(1);
    expect(await check(byPath('GET', '/users/me'), user)).toMatchObject({ allowed: true, user: { roles: ['USER'] } });
    expect(await check(byPath('GET', '/users'), user)).toMatchObject({ allowed: false, status: 403 });

    for (const forged of [
      TokenForge.tampered(signer.sign({ roles: ['USER'] }), { roles: ['ADMIN'] }),
      signer.unsigned({ roles: ['ADMIN'] }),
      signer.hmacWithPublicKey({ roles: ['ADMIN'] }),
    ]) {
      expect(await check(byPath('GET', '/users/me'), forged)).toMatchObject({ allowed: false, status: 401 });
    }
    expect(await check(byPath('GET', '/users/me'), signer.sign({ roles: ['USER'] }, { expiresInSeconds: -10 }))).toMatchObject({
      status: 401,
    });
    expect(tokens.size).toBe(1);
  });
});
