import { readFileSync } from 'node:fs';
import { stableJson } from '@reward/server-kit/openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenApiContract } from '../../test-support/openapi-contract.js';
import { buildEventOpenApi, generateEventOpenApi } from './openapi.js';
import { type EventTestApp, newId, startEventTestApp } from './testing/event-test-app.js';

let t: EventTestApp;

beforeAll(async () => {
  t = await startEventTestApp('openapi');
});

afterAll(async () => {
  await t?.close();
});

describe('event OpenAPI document', () => {
  it('is what npm run openapi committed (openapi/event.json), and what a database-less build produces', async () => {
    const committed = readFileSync(new URL('../../openapi/event.json', import.meta.url), 'utf8');
    expect(stableJson(buildEventOpenApi(t.app))).toBe(committed);
    expect(stableJson(await generateEventOpenApi())).toBe(committed);
  });

  it('leaves the server-to-server routes out', () => {
    expect(Object.keys(buildEventOpenApi(t.app).paths).filter((path) => path.startsWith('/internal'))).toEqual([]);
  });
});

describe('requests the document calls invalid', () => {
  const event = {
    title: 'Spec check',
    startAt: '2030-01-01T00:00:00Z',
    endAt: '2030-01-08T00:00:00Z',
    status: 'ACTIVE',
    approval: 'AUTO',
    condition: { type: 'LOGIN_DAYS', days: 3 },
  };

  it.each([
    ['limit above its maximum', 'GET', '/events?limit=101', undefined, 'VALIDATION_FAILED'],
    ['a malformed id (pattern)', 'GET', '/events/not-an-id', undefined, 'INVALID_ID'],
    ['a field the body schema does not have', 'POST', '/events', { ...event, extra: 1 }, 'VALIDATION_FAILED'],
    ['a condition type outside the oneOf', 'POST', '/events', { ...event, condition: { type: 'NOPE' } }, 'INVALID_CONDITION'],
    [
      'days above the maximum',
      'POST',
      '/events',
      { ...event, condition: { type: 'LOGIN_DAYS', days: 100_000 } },
      'INVALID_CONDITION',
    ],
    [
      'a batch above maxItems',
      'POST',
      '/activities',
      { items: Array.from({ length: 1001 }, () => ({ userId: newId(), type: 'LOGIN' })) },
      'VALIDATION_FAILED',
    ],
  ] as const)('%s is a 400 with a documented code', async (_name, method, url, body, code) => {
    const operator = t.as('OPERATOR');
    const response = await t.request(method, url, { token: operator.token, ...(body !== undefined && { body }) });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ statusCode: 400, code });
  });
});

describe('error codes the server answers are in the document', () => {
  const codesOf = (path: string, method: string, status: number): string[] => {
    const operation = (buildEventOpenApi(t.app).paths[path] as Record<string, { responses: Record<string, unknown> }>)[method];
    const response = operation?.responses[String(status)] as { description?: string } | undefined;
    return response?.description?.split(': ')[1]?.split(', ') ?? [];
  };

  it('400 JSON_TOO_DEEP, which any route that reads a body answers a body nested deeper than the bound', async () => {
    const operator = t.as('OPERATOR');
    const deep = `${'['.repeat(40)}${']'.repeat(40)}`;
    for (const url of ['/events', '/activities']) {
      const reply = await t.request('POST', url, { token: operator.token, raw: deep });
      expect(reply.body, url).toMatchObject({ statusCode: 400, code: 'JSON_TOO_DEEP' });
    }
    for (const [path, item] of Object.entries(buildEventOpenApi(t.app).paths)) {
      for (const [method, operation] of Object.entries(item as Record<string, { requestBody?: unknown }>)) {
        if (operation.requestBody === undefined && !['post', 'put', 'patch'].includes(method)) continue;
        expect(codesOf(path, method, 400), `${method} ${path}`).toContain('JSON_TOO_DEEP');
      }
    }
  });

  it('401 STALE_ACCESS_TOKEN, which any authenticated route answers a staff token older than its access version', async () => {
    const operator = newId();
    const service = t.issuer.token('auth-server', [], { audience: 'reward-platform-internal' });
    const notice = { userId: operator, accessVersion: 1, reason: 'ROLES_CHANGED', at: new Date().toISOString() };
    expect((await t.request('POST', '/internal/access-versions', { token: service, body: notice })).status).toBe(201);
    const stale = t.issuer.token(operator, ['OPERATOR']);
    for (const [method, url] of [
      ['GET', '/events'],
      ['GET', '/claims/me'],
      ['PATCH', `/events/${newId()}`],
    ] as const) {
      const reply = await t.request(method, url, { token: stale, ...(method === 'PATCH' && { body: { title: 'x' } }) });
      expect(reply.body, `${method} ${url}`).toMatchObject({ statusCode: 401, code: 'STALE_ACCESS_TOKEN' });
    }
    for (const [path, item] of Object.entries(buildEventOpenApi(t.app).paths)) {
      for (const [method, operation] of Object.entries(item as Record<string, { security?: unknown }>)) {
        if (operation.security === undefined) continue;
        expect(codesOf(path, method, 401), `${method} ${path}`).toContain('STALE_ACCESS_TOKEN');
      }
    }
  });
});

describe('answers every route may give, checked strictly against the document', () => {
  const contract = (): OpenApiContract =>
    new OpenApiContract(buildEventOpenApi(t.app) as unknown as ConstructorParameters<typeof OpenApiContract>[0]);

  it('DELETE reads a body as POST does: 400 INVALID_JSON, 400 JSON_TOO_DEEP, 415 and 413', async () => {
    const admin = t.as('ADMIN');
    const url = `/webhook-endpoints/${newId()}`;
    for (const [contentType, payload, status, code] of [
      ['application/json', '{bad', 400, 'INVALID_JSON'],
      ['application/json', `${'['.repeat(40)}${']'.repeat(40)}`, 400, 'JSON_TOO_DEEP'],
      ['text/plain', 'x', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['application/json', `"${'a'.repeat(1024 * 1024)}"`, 413, 'PAYLOAD_TOO_LARGE'],
    ] as const) {
      const reply = await t.app.inject({
        method: 'DELETE',
        url,
        headers: { authorization: `Bearer ${admin.token}`, 'content-type': contentType },
        payload,
      });
      const answer = { status: reply.statusCode, headers: reply.headers, text: reply.body };
      expect({ status: answer.status, code: (reply.json() as { code: string }).code }, contentType).toEqual({ status, code });
      expect(contract().problemWith('DELETE /webhook-endpoints/{id}', answer)).toBeUndefined();
    }
  });

  it('414 URI_TOO_LONG for a path parameter longer than 100 characters', async () => {
    const operator = t.as('OPERATOR');
    const reply = await t.app.inject({
      method: 'GET',
      url: `/events/${'a'.repeat(101)}/progress`,
      headers: { authorization: `Bearer ${operator.token}` },
    });
    expect(reply.statusCode).toBe(414);
    expect(reply.json()).toMatchObject({ code: 'URI_TOO_LONG' });
    const answer = { status: reply.statusCode, headers: reply.headers, text: reply.body };
    expect(contract().problemWith('GET /events/{id}/progress', answer)).toBeUndefined();
  });

  it('notices an answer the document does not list (the check itself can fail)', () => {
    const answer = { status: 418, headers: { 'content-type': 'application/json' }, text: '{}' };
    expect(contract().problemWith('GET /events', answer)).toMatch(/does not list status 418/);
    const unlisted = { statusCode: 400, error: 'Bad Request', message: 'x', code: 'NOT_A_CODE' };
    const wrong = { status: 400, headers: { 'content-type': 'application/json' }, text: JSON.stringify(unlisted) };
    expect(contract().problemWith('GET /events', wrong)).toMatch(/allowed values/);
  });
});

describe('examples in the document', () => {
  const document = (): ReturnType<typeof buildEventOpenApi> => buildEventOpenApi(t.app);
  const exampleOf = (path: string, method: 'post' | 'patch'): unknown =>
    (document().paths[path]?.[method]?.requestBody as { content: Record<string, { example?: unknown }> }).content[
      'application/json'
    ]?.example;

  it('are request bodies the server accepts', async () => {
    const operator = t.as('OPERATOR');
    const created = await t.request('POST', '/events', { token: operator.token, body: exampleOf('/events', 'post') });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const reward = await t.request('POST', `/events/${id}/rewards`, {
      token: operator.token,
      body: exampleOf('/events/{id}/rewards', 'post'),
    });
    expect(reward.status).toBe(201);
    const imported = await t.request('POST', '/activities', { token: operator.token, body: exampleOf('/activities', 'post') });
    expect(imported.status).toBeLessThan(300);
    const updated = await t.request('PATCH', `/events/${id}`, {
      token: operator.token,
      body: exampleOf('/events/{id}', 'patch'),
    });
    expect(updated.status).toBe(200);
  });

  it("show each error status's own body", () => {
    for (const item of Object.values(document().paths)) {
      for (const operation of Object.values(item as Record<string, { responses?: Record<string, unknown> }>)) {
        for (const [status, response] of Object.entries(operation.responses ?? {})) {
          if (Number(status) < 400) continue;
          const media = (response as { content: Record<string, { examples: Record<string, { value: unknown }> }> }).content[
            'application/json'
          ];
          const examples = Object.entries(media?.examples ?? {});
          expect(examples.length).toBeGreaterThan(0);
          for (const [code, { value }] of examples) expect(value).toMatchObject({ statusCode: Number(status), code });
        }
      }
    }
  });
});
