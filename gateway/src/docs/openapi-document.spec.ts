import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPIObject } from '@nestjs/swagger';
import { stableJson } from '@reward/server-kit/openapi';
import { describe, expect, it } from 'vitest';
import { generateGatewayOpenApi } from './gateway-openapi.js';
import { mergeOpenApi } from './merge-openapi.js';
import { MERGED_OPENAPI_FILE, OPENAPI_DIR } from './openapi-file.js';

const text = (name: string): string => readFileSync(`${OPENAPI_DIR}${name}`, 'utf8');
const json = (name: string): OpenAPIObject => JSON.parse(text(name)) as OpenAPIObject;
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

type Operation = { operationId: string; tags?: string[]; responses: Record<string, { content?: Record<string, unknown> }> };
function operations(document: OpenAPIObject): Array<[string, Operation]> {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method) => {
      const operation = (item as Record<string, Operation | undefined>)[method];
      return operation ? [[`${method.toUpperCase()} ${path}`, operation] as [string, Operation]] : [];
    }),
  );
}

describe('the committed OpenAPI documents', () => {
  it.each(['auth.json', 'event.json', 'openapi.json'])('%s is a valid OpenAPI 3 document, in its stable form', async (name) => {
    const document = json(name);
    expect(document.openapi).toMatch(/^3\./);
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeTruthy();
    expect(text(name)).toBe(stableJson(document));
  });

  it('openapi.json is the merge of the committed server documents and the gateway routes (not stale)', async () => {
    const merged = mergeOpenApi(await generateGatewayOpenApi(), { auth: json('auth.json'), event: json('event.json') });
    expect(stableJson(merged)).toBe(readFileSync(MERGED_OPENAPI_FILE, 'utf8'));
    expect(merged.servers).toEqual([
      { url: 'http://localhost:3000', description: 'A local stack on its default port (npm start, docker compose up)' },
    ]);
  });

  it('names every operation with a stable operationId and a tag', () => {
    const ids = operations(json('openapi.json')).map(([, operation]) => operation.operationId);
    expect(ids.sort()).toEqual(
      [
        'register',
        'login',
        'refreshTokens',
        'logout',
        'getMe',
        'changePassword',
        'listUsers',
        'updateUserRoles',
        'logoutEverywhere',
        'getJwks',
        'createEvent',
        'listEvents',
        'getEvent',
        'updateEvent',
        'addReward',
        'updateReward',
        'listRewards',
        'getProgress',
        'claimReward',
        'listMyClaims',
        'listClaims',
        'getClaim',
        'approveClaim',
        'rejectClaim',
        'revokeClaim',
        'exportClaims',
        'importActivities',
        'listActivities',
        'listAuditLogs',
        'createWebhookEndpoint',
        'listWebhookEndpoints',
        'getWebhookEndpoint',
        'updateWebhookEndpoint',
        'rotateWebhookSecret',
        'sendPendingDeliveries',
        'retryFailedDeliveries',
        'deleteWebhookEndpoint',
        'listDeliveries',
        'retryDelivery',
        'getHealth',
        'getOpenApi',
      ].sort(),
    );
    for (const [name, operation] of operations(json('openapi.json'))) expect(operation.tags?.length, name).toBeGreaterThan(0);
  });

  it('documents every error with the shared error body and its codes', () => {
    for (const [name, operation] of operations(json('openapi.json'))) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        const body = JSON.stringify(response.content?.['application/json']);
        expect(body, `${name} ${status}`).toContain('#/components/schemas/ErrorBody');
        expect(body, `${name} ${status}`).toMatch(/"code":\{"enum":\["[A-Z_]+/);
      }
    }
  });

  it('lists the 4xx answers the servers give: validation, malformed ids, missing resources, conflicts', () => {
    const document = json('openapi.json');
    const responses = (path: string, method: string): Record<string, unknown> =>
      (document.paths[path] as Record<string, Operation>)[method]!.responses;
    const codes = (path: string, method: string, status: number): unknown =>
      JSON.parse(JSON.stringify(responses(path, method)[status])).content['application/json'].schema.allOf?.[1].properties.code
        .enum ??
      JSON.parse(JSON.stringify(responses(path, method)[status])).content['application/json'].schema.anyOf[1].allOf[1].properties
        .code.enum;
    expect(codes('/events', 'post', 400)).toEqual([
      'ENCODED_UNRESERVED_CHARACTER',
      'INVALID_CONDITION',
      'INVALID_JSON',
      'INVALID_PERIOD',
      'INVALID_TIMEZONE',
      'JSON_TOO_DEEP',
      'JSON_TOO_MANY_VALUES',
      'MALFORMED_REQUEST',
      'VALIDATION_FAILED',
    ]);
    // On every operation: VALIDATION_FAILED for a URL that spells the NUL character (%00), MALFORMED_REQUEST
    // for a request that is not HTTP, ENCODED_UNRESERVED_CHARACTER for a path the gateway refuses.
    expect(codes('/events/{id}', 'get', 400)).toEqual([
      'ENCODED_UNRESERVED_CHARACTER',
      'INVALID_ID',
      'MALFORMED_REQUEST',
      'VALIDATION_FAILED',
    ]);
    expect(codes('/events/{id}', 'get', 404)).toEqual(['EVENT_NOT_FOUND', 'ROUTE_NOT_FOUND']);
    expect(Object.keys(responses('/events/{id}', 'get')).sort()).toEqual(
      ['200', '400', '401', '404', '405', '408', '414', '417', '429', '431', '502', '503', '504'].sort(),
    );
    expect(codes('/events/{id}/claims', 'post', 409)).toEqual(['ALREADY_CLAIMED', 'IDEMPOTENCY_IN_PROGRESS', 'OUT_OF_STOCK']);
    expect(codes('/events/{id}/claims', 'post', 422)).toEqual([
      'CONDITION_NOT_MET',
      'EVENT_NOT_ACTIVE',
      'IDEMPOTENCY_KEY_REUSED',
    ]);
    expect(codes('/claims/{id}/approve', 'post', 409)).toEqual(['INVALID_TRANSITION']);
    // Bodies are read (bounded, JSON only) on a POST that takes none too.
    for (const [path, method] of [
      ['/events/{id}/claims', 'post'],
      ['/claims/{id}/approve', 'post'],
    ] as const) {
      expect(codes(path, method, 413), path).toEqual(['PAYLOAD_TOO_LARGE']);
      expect(codes(path, method, 415), path).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
    }
    // DELETE reads a body as POST does.
    expect(codes('/webhook-endpoints/{id}', 'delete', 413)).toEqual(['PAYLOAD_TOO_LARGE']);
    expect(codes('/webhook-endpoints/{id}', 'delete', 415)).toEqual(['UNSUPPORTED_MEDIA_TYPE']);
    expect(codes('/webhook-endpoints/{id}', 'delete', 400)).toEqual(
      expect.arrayContaining(['INVALID_JSON', 'JSON_TOO_DEEP', 'JSON_TOO_MANY_VALUES']),
    );
    expect(codes('/users', 'get', 403)).toEqual(['FORBIDDEN']);
    expect(Object.keys(responses('/auth/login', 'post'))).not.toContain('403');
  });

  it("lists the gateway's own answers on every operation: 405 with Allow, 5xx for a failed upstream on proxied ones", () => {
    const document = json('openapi.json');
    for (const [name, operation] of operations(document)) {
      const responses = operation.responses as Record<string, { headers?: Record<string, unknown> }>;
      for (const status of ['400', '405', '408', '417', '431', '503']) expect(Object.keys(responses), name).toContain(status);
      expect(Object.keys(responses['405']?.headers ?? {}), name).toEqual(['Allow']);
      const proxied = !operation.tags?.includes('gateway');
      for (const status of ['502', '504']) expect(status in responses, `${name} ${status}`).toBe(proxied);
      // A path parameter can be too long (414) or make the path another one (404 ROUTE_NOT_FOUND).
      if (name.includes('{')) expect(Object.keys(responses), name).toEqual(expect.arrayContaining(['404', '414']));
    }
  });

  it("states each route's body limit at the gateway in its 413: 16 KB unless the route is a staff write", () => {
    const limits = Object.fromEntries(
      operations(json('openapi.json'))
        .filter(([, operation]) => '413' in operation.responses)
        .map(([name, operation]) => [name, (operation.responses['413'] as { description: string }).description.split(':')[0]]),
    );
    expect(limits).toMatchObject({
      'POST /auth/login': 'Body larger than 16 KB',
      'POST /auth/register': 'Body larger than 16 KB',
      'POST /events/{id}/claims': 'Body larger than 16 KB',
      'POST /users/me/password': 'Body larger than 16 KB',
      'POST /events': 'Body larger than 1 MB',
      'POST /activities': 'Body larger than 1 MB',
      'PATCH /events/{id}/rewards/{rewardId}': 'Body larger than 1 MB',
    });
    expect(new Set(Object.values(limits))).toEqual(new Set(['Body larger than 16 KB', 'Body larger than 1 MB']));
  });

  it('types the token pair as the auth server answers it: tokenType the one word Bearer, expiresIn whole seconds', () => {
    const schemas = json('openapi.json').components!.schemas as Record<string, { properties: Record<string, unknown> }>;
    expect(schemas.TokenPairResponseDto!.properties).toMatchObject({
      tokenType: { type: 'string', enum: ['Bearer'] },
      expiresIn: { type: 'integer', minimum: 0 },
    });
  });

  it('declares Retry-After and requires retryAfterSeconds on every 429 and 503 (not the readiness report of GET /health)', () => {
    for (const [name, operation] of operations(json('openapi.json'))) {
      for (const status of ['429', '503']) {
        const response = operation.responses[status] as { headers?: Record<string, { required?: boolean }> } | undefined;
        if (!response) continue;
        const saysWhen = !(name === 'GET /health' && status === '503');
        expect(response.headers?.['Retry-After']?.required, `${name} ${status}`).toBe(saysWhen ? true : undefined);
        expect(JSON.stringify(response).includes('"required":["retryAfterSeconds"]'), `${name} ${status}`).toBe(saysWhen);
      }
    }
  });

  it('gives the condition DSL a real schema and the activity body both of its shapes', () => {
    const document = json('openapi.json');
    const schemas = document.components!.schemas as Record<string, { oneOf?: Array<{ $ref: string }> }>;
    expect(schemas.Condition!.oneOf!.map((ref) => ref.$ref.split('/').at(-1)).sort()).toEqual(
      [
        'ActivityCountCondition',
        'CompositeCondition',
        'InviteFriendsCondition',
        'LoginDaysCondition',
        'LoginStreakCondition',
        'QuestClearCondition',
      ].sort(),
    );
    expect(JSON.stringify(schemas.CompositeCondition)).toContain('#/components/schemas/Condition');
    const body = (document.paths['/activities'] as Record<string, { requestBody: unknown }>).post!.requestBody;
    expect(JSON.stringify(body)).toContain(
      '"oneOf":[{"$ref":"#/components/schemas/ActivityInputDto"},{"$ref":"#/components/schemas/ActivityBatchDto"}]',
    );
  });
});
