import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_POLICIES } from '../policy/route-policy.js';
import { RouteTable } from '../policy/route-table.js';
import { TokenForge } from '../../../test-support/tokens.js';
import { TEST_AUDIENCE, TEST_ISSUER, startGateway } from '../testing/gateway-harness.js';
import { SAMPLE_ID, concretePath } from '../testing/policy-samples.js';
import { rawRequest } from '../testing/raw-http.js';

// The gateway decides on a path; the upstream's router (Fastify's find-my-way, as in the real servers)
// routes the same request target. Here the upstream is a real Fastify app with every proxied line of the
// table as a route that names itself, so any disagreement between the two shows as a different route.
const table = new RouteTable(ROUTE_POLICIES);
const signer = TokenForge.generate({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
const proxied = ROUTE_POLICIES.filter((policy) => policy.upstream !== 'gateway');
let upstream: FastifyInstance;
let app: NestFastifyApplication;
let gateway: string;
let upstreamHits = 0;

beforeAll(async () => {
  upstream = Fastify({ logger: false });
  // The gateway's own JWKS fetches (without the client's Authorization) are not requests it forwarded.
  upstream.addHook('onRequest', async (request) => {
    if (request.headers.authorization) upstreamHits++;
  });
  for (const policy of proxied) {
    upstream.route({
      method: policy.method,
      url: policy.path,
      // Every route names itself; the JWKS route also serves the keys the gateway verifies with.
      handler: async (request) => ({ ...signer.jwks, route: request.routeOptions.url, params: request.params }),
    });
  }
  await upstream.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(upstream.server.address() as { port: number }).port}`;
  ({ app, url: gateway } = await startGateway({ auth: url, event: url, jwks: url }));
});

afterAll(async () => {
  await app.close();
  await upstream.close();
});

const admin = { authorization: `Bearer ${signer.sign({ roles: ['ADMIN'] })}` };

/** Sends a request target through the gateway and checks that both sides meant the same route. */
async function expectAgreement(method: string, target: string): Promise<void> {
  const before = upstreamHits;
  const response = await rawRequest(
    gateway,
    method,
    target,
    // GET and DELETE carry no body (this fake upstream answers a DELETE with one 400 before any hook runs).
    method === 'GET' || method === 'DELETE'
      ? { headers: admin }
      : { headers: { ...admin, 'content-type': 'application/json' }, body: '{}' },
  );
  const resolution = table.resolve(method, target);
  if (response.status === 200 && upstreamHits > before) {
    // Forwarded: the upstream routed it to exactly the line (and the parameters) the gateway judged.
    expect(resolution.kind, target).toBe('found');
    if (resolution.kind !== 'found') return;
    const served = response.json<{ route: string; params: Record<string, string> }>();
    expect({ route: served.route, params: served.params }, target).toEqual({
      route: resolution.policy.path,
      params: resolution.params,
    });
  } else {
    // Refused: by the gateway (nothing reached the upstream), with the error body.
    expect(upstreamHits, target).toBe(before);
    expect(response.status, target).toBeGreaterThanOrEqual(400);
    expect(response.status, target).toBeLessThan(500);
    expect(response.json(), target).toMatchObject({ statusCode: response.status, code: expect.any(String) });
  }
}

describe('the gateway and the upstream route every request target alike', () => {
  it('/claims/%65xport is refused with 400, never served as /claims/:id or /claims/export', async () => {
    const before = upstreamHits;
    const response = await rawRequest(gateway, 'GET', '/claims/%65xport', { headers: admin });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ statusCode: 400, code: 'ENCODED_UNRESERVED_CHARACTER' });
    expect(upstreamHits).toBe(before);
  });

  it('agrees on every line of the table and on spellings of it that a router might normalise', async () => {
    for (const policy of proxied) {
      const path = concretePath(policy);
      const variants = [
        path,
        `${path}?x=%65&y`,
        `${path}#frag`,
        `${path}#/../../internal`,
        `${path};jsessionid=1`,
        `${path}/`,
        path.toUpperCase(),
        path.replace(/[a-z]/, (letter) => `%${letter.charCodeAt(0).toString(16)}`),
        path.replace(/[a-z]/, (letter) => `%${letter.charCodeAt(0).toString(16).toUpperCase()}`),
        path.replaceAll(SAMPLE_ID, 'export'),
        path.replaceAll(SAMPLE_ID, '%65xport'),
        path.replaceAll(SAMPLE_ID, 'me'),
        path.replaceAll(SAMPLE_ID, 'a%2Fb'),
        path.replaceAll(SAMPLE_ID, '%2565'),
        path.replaceAll(SAMPLE_ID, '%C3%A9'),
        path.replaceAll(SAMPLE_ID, 'a%3Bb'),
        path.replaceAll(SAMPLE_ID, 'a%23b'),
        path.replaceAll(SAMPLE_ID, 'a%3Fb'),
      ];
      for (const target of variants) await expectAgreement(policy.method, target);
    }
  });

  it('agrees on arbitrary targets built from the table’s own segments, encoded or not', async () => {
    const words = [...new Set(proxied.flatMap((policy) => policy.path.slice(1).split('/')))].filter(
      (word) => !word.startsWith(':'),
    );
    const encodeOne = (word: string, at: number, upper: boolean): string => {
      const index = at % word.length;
      const hex = word.charCodeAt(index).toString(16).padStart(2, '0');
      return `${word.slice(0, index)}%${upper ? hex.toUpperCase() : hex}${word.slice(index + 1)}`;
    };
    const segment = fc.oneof(
      fc.constantFrom(...words, SAMPLE_ID, 'export', 'me', '', '.', '..', '%2e', '%2F', '%25', '%zz', '%C3%A9', ';a', '#b', '?c'),
      fc.tuple(fc.constantFrom(...words), fc.nat(), fc.boolean()).map(([word, at, upper]) => encodeOne(word, at, upper)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PATCH'),
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        async (method, segments) => expectAgreement(method, `/${segments.join('/')}`),
      ),
      { numRuns: 300 },
    );
  });
});
