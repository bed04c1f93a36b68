import { Role } from '@reward/server-kit/roles';
import { describe, expect, it } from 'vitest';
import { ROUTE_POLICIES, type RoutePolicy, takesLargeBodies } from './route-policy.js';
import { RouteTable, segmentsOf } from './route-table.js';

const table = new RouteTable([
  { method: 'GET', path: '/users/me', access: [], upstream: 'auth' },
  { method: 'GET', path: '/users', access: [Role.ADMIN], upstream: 'auth' },
  { method: 'PATCH', path: '/users/:id/roles', access: [Role.ADMIN], upstream: 'auth' },
  { method: 'POST', path: '/events/:id/claims', access: [Role.USER], upstream: 'event' },
  { method: 'GET', path: '/events/:id/claims', access: [], upstream: 'event' },
  { method: 'GET', path: '/.well-known/jwks.json', access: 'public', upstream: 'auth' },
]);

function pathOf(method: string, url: string): string | undefined {
  const resolution = table.resolve(method, url);
  return resolution.kind === 'found' ? resolution.policy.path : undefined;
}

describe('RouteTable.resolve', () => {
  it('matches exact segments', () => {
    expect(pathOf('GET', '/users/me')).toBe('/users/me');
    expect(pathOf('GET', '/users')).toBe('/users');
    expect(pathOf('GET', '/.well-known/jwks.json')).toBe('/.well-known/jwks.json');
  });

  it('matches a :param against one non-empty segment and returns it decoded', () => {
    const resolution = table.resolve('PATCH', '/users/64b7f0c2a1b2c3d4e5f60718/roles');
    expect(resolution).toMatchObject({ kind: 'found', params: { id: '64b7f0c2a1b2c3d4e5f60718' } });
    expect(table.resolve('PATCH', '/users/a%40b/roles')).toMatchObject({ kind: 'found', params: { id: 'a@b' } });
    expect(pathOf('PATCH', '/users//roles')).toBeUndefined();
    expect(pathOf('PATCH', '/users/a/b/roles')).toBeUndefined();
  });

  it('refuses parameters that would walk the upstream path once decoded', () => {
    for (const id of ['..', '.', '%2e%2e', '%2E%2E', '%2e', 'a%2fb', 'a%2Fb', 'a%5cb', '%00', 'a%0d%0ab', '%zz']) {
      expect(pathOf('PATCH', `/users/${id}/roles`), id).toBeUndefined();
    }
  });

  it('ignores the query string', () => {
    expect(pathOf('GET', '/users?role=ADMIN&page=2')).toBe('/users');
    expect(pathOf('GET', '/users/me?')).toBe('/users/me');
  });

  it('matches a trailing slash only where a line names one, and only that line', () => {
    const docs = new RouteTable([
      { method: 'GET', path: '/docs', access: 'public', upstream: 'gateway' },
      { method: 'GET', path: '/docs/', access: 'public', upstream: 'gateway' },
      { method: 'GET', path: '/docs/:asset', access: 'public', upstream: 'gateway' },
    ]);
    expect(docs.resolve('GET', '/docs/')).toMatchObject({ kind: 'found', policy: { path: '/docs/' }, params: {} });
    expect(docs.resolve('GET', '/docs')).toMatchObject({ kind: 'found', policy: { path: '/docs' } });
    for (const url of ['/docs//', '/docs/x/', '//docs/']) expect(docs.resolve('GET', url), url).toEqual({ kind: 'not-found' });
    expect(() => new RouteTable([{ method: 'GET', path: '/docs//x', access: 'public', upstream: 'gateway' }])).toThrow(
      /invalid segment/,
    );
  });

  it('treats a trailing slash, another case or an empty segment as another path', () => {
    for (const url of ['/users/me/', '/users/', '/USERS/me', '/Users', '//users/me', '/users//me']) {
      expect(table.resolve('GET', url), url).toEqual({ kind: 'not-found' });
    }
  });

  it('refuses any path that percent-encodes an unreserved character, wherever it is', () => {
    const claims = new RouteTable([
      { method: 'GET', path: '/claims/:id', access: [], upstream: 'event' },
      { method: 'GET', path: '/claims/export', access: [Role.AUDITOR], upstream: 'event' },
    ]);
    // The upstream's router decodes these before matching: /claims/%65xport is its /claims/export.
    for (const url of ['/claims/%65xport', '/claims/%65%78%70%6F%72%74', '/claims/EXPOR%54', '/claims/a%2Db', '/claims/%7e']) {
      expect(claims.resolve('GET', url), url).toEqual({ kind: 'encoded-unreserved' });
    }
    for (const url of ['/%75sers/me', '/users/m%65', '/users/M%45', '/%2e%2e/users', '/users/%5F/roles', '/users/%30/roles']) {
      expect(table.resolve('GET', url), url).toEqual({ kind: 'encoded-unreserved' });
    }
    // Reserved and non-ASCII characters stay encoded in a parameter; an encoded "%" is not an unreserved one.
    expect(claims.resolve('GET', '/claims/a%40b')).toMatchObject({ kind: 'found', params: { id: 'a@b' } });
    expect(claims.resolve('GET', '/claims/%C3%A9')).toMatchObject({ kind: 'found', params: { id: 'é' } });
    expect(claims.resolve('GET', '/claims/%2565xport')).toMatchObject({ kind: 'found', params: { id: '%65xport' } });
    // Only the path counts: the query may encode what it likes.
    expect(claims.resolve('GET', '/claims/export?q=%65')).toMatchObject({ kind: 'found', policy: { path: '/claims/export' } });
  });

  it('ends the path where the upstream router does: at "?" or "#"', () => {
    const claims = new RouteTable([
      { method: 'GET', path: '/claims/:id', access: [], upstream: 'event' },
      { method: 'GET', path: '/claims/export', access: [Role.AUDITOR], upstream: 'event' },
    ]);
    expect(claims.resolve('GET', '/claims/export#x')).toMatchObject({ policy: { path: '/claims/export' } });
    expect(claims.resolve('GET', '/claims/export#/../x?y')).toMatchObject({ policy: { path: '/claims/export' } });
    expect(claims.resolve('GET', '/claims/abc?x#y')).toMatchObject({ policy: { path: '/claims/:id' }, params: { id: 'abc' } });
  });

  it('finds nothing for unknown paths', () => {
    for (const url of ['/', '', '*', 'users/me', '/auth', '/users/me/x', '/internal', '/users/me/../..', '/.well-known']) {
      expect(table.resolve('GET', url), url).toEqual({ kind: 'not-found' });
    }
  });

  it('tells a known path with another method apart, naming the allowed methods', () => {
    expect(table.resolve('DELETE', '/users/me')).toEqual({ kind: 'method-not-allowed', allowed: ['GET', 'HEAD'] });
    expect(table.resolve('GET', '/users/x/roles')).toEqual({ kind: 'method-not-allowed', allowed: ['PATCH'] });
    expect(table.resolve('PUT', '/events/x/claims')).toEqual({ kind: 'method-not-allowed', allowed: ['GET', 'HEAD', 'POST'] });
  });

  it('picks the line of the request method when a path has several', () => {
    expect(table.resolve('POST', '/events/x/claims')).toMatchObject({ policy: { method: 'POST', access: [Role.USER] } });
    expect(table.resolve('GET', '/events/x/claims')).toMatchObject({ policy: { method: 'GET', access: [] } });
  });

  it('prefers a literal segment over a parameter, whatever the order of the lines', () => {
    const claims = new RouteTable([
      { method: 'GET', path: '/claims/:id', access: [], upstream: 'event' },
      { method: 'GET', path: '/claims/export', access: [Role.AUDITOR], upstream: 'event' },
    ]);
    expect(claims.resolve('GET', '/claims/export')).toMatchObject({ kind: 'found', policy: { path: '/claims/export' } });
    expect(claims.resolve('GET', '/claims/64b7f0c2a1b2c3d4e5f60718')).toMatchObject({
      kind: 'found',
      policy: { path: '/claims/:id' },
    });
  });

  it('matches a line whose first segment is a parameter, beside lines whose first segment is a literal', () => {
    const mixed = new RouteTable([
      { method: 'GET', path: '/:tenant/items', access: [], upstream: 'event' },
      { method: 'POST', path: '/shop/items', access: [Role.OPERATOR], upstream: 'event' },
      { method: 'GET', path: '/shop', access: [], upstream: 'event' },
    ]);
    // The literal line wins where it names the method; the parameter line serves the rest, any first segment.
    expect(mixed.resolve('POST', '/shop/items')).toMatchObject({ kind: 'found', policy: { path: '/shop/items' } });
    expect(mixed.resolve('GET', '/shop/items')).toMatchObject({
      kind: 'found',
      policy: { path: '/:tenant/items' },
      params: { tenant: 'shop' },
    });
    expect(mixed.resolve('GET', '/other/items')).toMatchObject({ kind: 'found', params: { tenant: 'other' } });
    expect(mixed.resolve('DELETE', '/shop/items')).toEqual({ kind: 'method-not-allowed', allowed: ['GET', 'HEAD', 'POST'] });
    expect(mixed.resolve('DELETE', '/other/items')).toEqual({ kind: 'method-not-allowed', allowed: ['GET', 'HEAD'] });
    expect(mixed.resolve('GET', '/shop')).toMatchObject({ kind: 'found', policy: { path: '/shop' } });
    expect(mixed.resolve('GET', '/other')).toEqual({ kind: 'not-found' });
    expect(mixed.resolve('GET', '/other/things')).toEqual({ kind: 'not-found' });
  });

  it('treats HEAD as the GET line, and nothing else as another', () => {
    expect(table.resolve('HEAD', '/users/me')).toMatchObject({ kind: 'found', policy: { method: 'GET' } });
    expect(table.resolve('HEAD', '/users/x/roles')).toMatchObject({ kind: 'method-not-allowed' });
    expect(table.resolve('OPTIONS', '/users/me')).toMatchObject({ kind: 'method-not-allowed' });
  });
});

describe('RouteTable.resolve, by length and first segment', () => {
  /**
   * The answer walking every line, each alone: the lines the path matches, the more literal first at the first
   * place they differ; the first of the wanted method, else the methods of all. What the lookup by length and
   * first segment must answer for any path.
   */
  function walkingEveryLine(alone: ReadonlyArray<[RoutePolicy, RouteTable]>, method: string, url: string): unknown {
    const upper = method.toUpperCase();
    const wanted = upper === 'HEAD' ? 'GET' : upper;
    const shapeOf = (policy: RoutePolicy): string =>
      policy.path
        .slice(1)
        .split('/')
        .map((part) => (part.startsWith(':') ? '1' : '0'))
        .join('');
    const matching = alone
      .map(([policy, itsTable]) => ({ policy, alone: itsTable.resolve(policy.method, url) }))
      .filter(({ alone }) => alone.kind === 'found')
      .sort((a, b) => shapeOf(a.policy).localeCompare(shapeOf(b.policy)));
    const found = matching.find(({ policy }) => policy.method === wanted);
    if (found) return found.alone;
    if (matching.length === 0) return new RouteTable([]).resolve(method, url);
    const allowed = new Set(matching.flatMap(({ policy }) => (policy.method === 'GET' ? ['GET', 'HEAD'] : [policy.method])));
    return { kind: 'method-not-allowed', allowed: [...allowed].sort() };
  }

  it('answers every generated path as a walk over every line does, lines whose first segment is a parameter included', () => {
    const policies: RoutePolicy[] = [
      ...ROUTE_POLICIES,
      { method: 'GET', path: '/:tenant', access: 'public', upstream: 'event' },
      { method: 'POST', path: '/:tenant/claims', access: 'public', upstream: 'event' },
      { method: 'PUT', path: '/:a/:b', access: 'public', upstream: 'event' },
      { method: 'DELETE', path: '/:tenant/', access: 'public', upstream: 'event' },
      { method: 'PATCH', path: '/:tenant/me/:c', access: 'public', upstream: 'event' },
      { method: 'GET', path: '/constructor', access: 'public', upstream: 'event' },
      { method: 'GET', path: '/__proto__/:z', access: 'public', upstream: 'event' },
    ];
    const table = new RouteTable(policies);
    const alone = policies.map((policy): [RoutePolicy, RouteTable] => [policy, new RouteTable([policy])]);
    const words = new Set([
      '',
      '.',
      '..',
      '%2e%2e',
      '%2F',
      '%6de',
      '%40',
      '%zz',
      'ME',
      'Users',
      '__proto__',
      'toString',
      'hasOwnProperty',
    ]);
    for (const policy of policies) for (const part of policy.path.split('/')) words.add(part.startsWith(':') ? 'x1' : part);
    const list = [...words];
    let seed = 37;
    const next = (below: number): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % below;
    const urls = ['/', '//', '?', '#', '', '*', 'users', '/users?x=/a/b', '/users#/me'];
    for (let index = 0; index < 4_000; index++) {
      let url = '';
      for (let count = 1 + next(4); count > 0; count--) url += `/${list[next(list.length)]}`;
      urls.push(next(8) === 0 ? `${url}/` : url);
    }
    for (const url of urls)
      for (const method of ['GET', 'head', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'get', 'FOO'])
        expect(table.resolve(method, url), `${method} ${url}`).toEqual(walkingEveryLine(alone, method, url));
  });
});

describe('segmentsOf', () => {
  it('cuts a path as slice(1).split("/") does, empty segments included', () => {
    for (const path of ['/', '/a', '/a/b', '/a//b', '/a/b/', '//', '/events/64b7f0c2a1b2c3d4e5f60718/claims', '/docs/']) {
      expect(segmentsOf(path), path).toEqual(path.slice(1).split('/'));
    }
  });
});

describe('RouteTable construction', () => {
  const line = (overrides: Partial<RoutePolicy>): RoutePolicy => ({
    method: 'GET',
    path: '/a',
    access: 'public',
    upstream: 'auth',
    ...overrides,
  });

  it('refuses malformed paths', () => {
    // ('/a/' is a line of its own: see 'matches a trailing slash only where a line names one'.)
    for (const path of ['a', '/', '/a//b', '/a//', '/a/:', '/a/b c', '/a/*']) {
      expect(() => new RouteTable([line({ path })]), path).toThrow(/route policy path/);
    }
  });

  it('refuses the same line twice, even with other parameter names', () => {
    expect(() => new RouteTable([line({ path: '/a/:id' }), line({ path: '/a/:other' })])).toThrow(/twice/);
  });

  it('refuses one path given to two owners', () => {
    expect(() => new RouteTable([line({}), line({ method: 'POST', upstream: 'event' })])).toThrow(/both auth and event/);
  });

  it('lists the paths and methods of each owner', () => {
    expect(table.routesOf('event')).toEqual({ paths: ['/events/:id/claims'], methods: ['POST', 'GET'] });
    expect(table.routesOf('gateway')).toEqual({ paths: [], methods: [] });
  });
});

describe('takesLargeBodies', () => {
  it('lets only staff write routes take large bodies: none that a player or nobody may call', () => {
    const large = ROUTE_POLICIES.map((policy) => policy.path).filter(
      (path, index, all) => all.indexOf(path) === index && takesLargeBodies(path),
    );
    expect(large.sort()).toEqual(
      [
        '/activities',
        '/claims/:id/approve',
        '/claims/:id/reject',
        '/claims/:id/revoke',
        '/deliveries/:id/retry',
        '/events',
        '/events/:id',
        '/events/:id/rewards',
        '/events/:id/rewards/:rewardId',
        '/users/:id/roles',
        '/webhook-endpoints',
        '/webhook-endpoints/:id',
        '/webhook-endpoints/:id/rotate-secret',
        '/webhook-endpoints/:id/send-pending',
        '/webhook-endpoints/:id/retry-failed',
      ].sort(),
    );
    for (const path of [
      '/auth/register',
      '/auth/login',
      '/auth/refresh',
      '/auth/logout',
      '/users/:id/logout-all',
      '/users/me/password',
      '/events/:id/claims',
    ]) {
      expect(takesLargeBodies(path), path).toBe(false);
    }
  });
});
