import { isDeepStrictEqual } from 'node:util';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { Upstream } from '../policy/route-policy.js';
import { addGatewayAnswers } from './gateway-answers.js';

export const GATEWAY_URL = 'http://localhost:3000';

type Named = Record<string, unknown>;

function mergeNamed(target: Named, source: Named | undefined, what: string): void {
  for (const [name, value] of Object.entries(source ?? {})) {
    if (name in target && !isDeepStrictEqual(target[name], value)) {
      throw new Error(`${what} "${name}" is defined differently by two documents`);
    }
    target[name] = value;
  }
}

/**
 * One document for the whole API as the gateway serves it: the paths of every part (a path may belong
 * to one part only), their components (a name defined twice must be identical), tags by name, and the
 * gateway as the server. Each operation lists the answers the gateway gives on it itself as well
 * (addGatewayAnswers): on its own routes, and on each upstream's, which it proxies.
 */
export function mergeOpenApi(
  gateway: OpenAPIObject,
  upstreams: Readonly<Record<Upstream, OpenAPIObject>>,
  version = '1',
): OpenAPIObject {
  const parts = [
    addGatewayAnswers(structuredClone(gateway)),
    ...Object.entries(upstreams).map(([name, part]) => addGatewayAnswers(structuredClone(part), name)),
  ];
  const paths: Named = {};
  const schemas: Named = {};
  const securitySchemes: Named = {};
  const tags = new Map<string, { name: string; description?: string }>();
  for (const part of parts) {
    for (const [path, item] of Object.entries(part.paths)) {
      if (path in paths) throw new Error(`path ${path} is served by two documents`);
      paths[path] = item;
    }
    mergeNamed(schemas, part.components?.schemas, 'schema');
    mergeNamed(securitySchemes, part.components?.securitySchemes, 'security scheme');
    for (const tag of part.tags ?? []) tags.set(tag.name, tags.get(tag.name) ?? tag);
  }
  return {
    openapi: parts[0]?.openapi ?? '3.0.0',
    info: {
      title: 'Reward platform API',
      description:
        'Every route of the platform as the gateway serves it. Send `Authorization: Bearer <accessToken>` ' +
        '(from `POST /auth/login`) to protected routes; `x-roles` lists the roles that may call each one.',
      version,
    },
    servers: [{ url: GATEWAY_URL, description: 'A local stack on its default port (npm start, docker compose up)' }],
    tags: [...tags.values()].sort((a, b) => a.name.localeCompare(b.name)),
    paths: paths as OpenAPIObject['paths'],
    components: { schemas: schemas as never, securitySchemes: securitySchemes as never },
  };
}
