import { readFileSync } from 'node:fs';
import type { OpenAPIObject } from '@nestjs/swagger';
import { rolesAllowed } from '@reward/server-kit/openapi';
import { describe, expect, it } from 'vitest';
import { ROUTE_POLICIES, type RoutePolicy } from '../policy/route-policy.js';
import { MERGED_OPENAPI_FILE } from './openapi-file.js';
import { SWAGGER_UI_FILES } from './swagger-ui-assets.js';

const document = JSON.parse(readFileSync(MERGED_OPENAPI_FILE, 'utf8')) as OpenAPIObject;
/** Gateway lines that are not API operations: Swagger UI's page and files. */
const NOT_IN_SPEC = new Set(['GET /docs', 'GET /docs/', ...SWAGGER_UI_FILES.map((name) => `GET /docs/${name}`)]);
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

interface SpecOperation {
  'x-roles'?: string[];
  security?: unknown[];
}

/** Each operation of the spec as `METHOD /path/:param` with who may call it ('public' or sorted roles). */
function specAccess(): Map<string, string> {
  const access = new Map<string, string>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = (item as Record<string, SpecOperation | undefined>)[method];
      if (!operation) continue;
      const isPublic = operation.security === undefined || operation.security.length === 0;
      const key = `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`;
      access.set(key, isPublic ? 'public' : [...(operation['x-roles'] ?? [])].sort().join(','));
    }
  }
  return access;
}

function policyAccess(policy: RoutePolicy): string {
  return policy.access === 'public' ? 'public' : rolesAllowed(policy.access).sort().join(',');
}

describe('the gateway policy table and the merged OpenAPI document', () => {
  const spec = specAccess();
  const policies = new Map(ROUTE_POLICIES.map((policy) => [`${policy.method} ${policy.path}`, policyAccess(policy)]));

  it('has a policy line for every operation of the spec', () => {
    expect([...spec.keys()].filter((operation) => !policies.has(operation))).toEqual([]);
  });

  it('has an operation for every policy line (Swagger UI aside)', () => {
    expect([...policies.keys()].filter((line) => !spec.has(line) && !NOT_IN_SPEC.has(line))).toEqual([]);
  });

  it('gives every operation the same access in both: public, or the same roles', () => {
    const disagreements = [...spec].filter(
      ([operation, access]) => policies.has(operation) && policies.get(operation) !== access,
    );
    expect(disagreements).toEqual([]);
  });

  it('states the roles in the description too, and bearer security with 401 on protected operations', () => {
    for (const [path, item] of Object.entries(document.paths)) {
      for (const method of METHODS) {
        const operation = (item as Record<string, (SpecOperation & { description?: string; responses: object }) | undefined>)[
          method
        ];
        if (!operation) continue;
        const name = `${method.toUpperCase()} ${path}`;
        expect(operation.description, name).toMatch(
          /Access: (public \(no token\)|any authenticated user \([A-Z, ]+\)|roles [A-Z, ]+)\.$/,
        );
        if (operation.security !== undefined) {
          expect(operation.security, name).toEqual([{ bearer: [] }]);
          expect(Object.keys(operation.responses), name).toContain('401');
        }
      }
    }
  });

  it('notices a disagreement (the check itself can fail)', () => {
    const tampered = new Map(policies);
    tampered.set('GET /users', 'ADMIN,AUDITOR');
    expect([...spec].filter(([operation, access]) => tampered.get(operation) !== access)).toEqual([['GET /users', 'ADMIN']]);
  });
});
