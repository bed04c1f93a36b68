import type { OpenAPIObject } from '@nestjs/swagger';
import { CommonErrorCode } from '@reward/server-kit/errors';
import { PUBLIC_BODY_BUDGET } from '@reward/server-kit/body-budget';
import { addErrorCodes } from '@reward/server-kit/openapi';
import { PathErrorCode } from '../policy/access-decision.js';
import { takesLargeBodies } from '../policy/route-policy.js';
import { GatewayErrorCode } from '../proxy/upstream-failure.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

const ALLOW_HEADER = {
  Allow: { description: 'The methods the path takes', schema: { type: 'string', example: 'GET, HEAD, POST' } },
};

/**
 * What the gateway itself answers on an operation before (or instead of) the server that documented it:
 * - every path: 405 with Allow for a method the route table does not name on it, 400 for a path that
 *   percent-encodes an unreserved character (decideRoute), 429 with Retry-After on a connection over its
 *   address's limit (limitConnections; over the total it is a 503 SERVICE_UNAVAILABLE, which every operation
 *   lists already);
 * - a path with parameters: 404 ROUTE_NOT_FOUND when a parameter's value makes it another path (an empty
 *   id, an encoded slash);
 * - a proxied path (`upstream` names its server): 503 when no replica can be reached (or, on a protected
 *   route, its signing keys cannot be fetched), 504 when it does not answer in time, 502 when it fails
 *   otherwise (upstreamFailure);
 * - a path that does not take large bodies (takesLargeBodies: sign-in, registration, a claim, ...): its 413 at the
 *   gateway's small limit (16 KB), not the server's 1 MB that the server's own document states.
 */
export function addGatewayAnswers(document: OpenAPIObject, upstream?: string): OpenAPIObject {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = (item as Record<string, { responses: Record<string, unknown> } | undefined>)[method];
      if (!operation) continue;
      addErrorCodes(operation, 405, [CommonErrorCode.METHOD_NOT_ALLOWED], {
        messages: { [CommonErrorCode.METHOD_NOT_ALLOWED]: `PUT is not allowed on ${path}` },
        headers: ALLOW_HEADER,
      });
      addErrorCodes(operation, 400, [PathErrorCode.ENCODED_UNRESERVED_CHARACTER], {
        messages: {
          [PathErrorCode.ENCODED_UNRESERVED_CHARACTER]:
            'The path must not percent-encode letters, digits or "-._~"; send them as they are',
        },
      });
      addErrorCodes(operation, 429, [CommonErrorCode.TOO_MANY_REQUESTS], {
        messages: {
          [CommonErrorCode.TOO_MANY_REQUESTS]: 'Too many connections from one address; nothing was done, try again in 1 s',
        },
      });
      const tooLarge = operation.responses['413'] as { description?: string } | undefined;
      if (tooLarge && !takesLargeBodies(path.replace(/\{([^}]+)\}/g, ':$1'))) {
        tooLarge.description = tooLarge.description?.replace(
          /^[^:]*/,
          `Body larger than ${PUBLIC_BODY_BUDGET.smallBodyBytes / 1024} KB`,
        );
      }
      if (path.includes('{')) {
        addErrorCodes(operation, 404, [CommonErrorCode.ROUTE_NOT_FOUND], {
          messages: { [CommonErrorCode.ROUTE_NOT_FOUND]: `No route ${method.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '')}` },
        });
      }
      if (upstream === undefined) continue;
      addErrorCodes(operation, 502, [GatewayErrorCode.UPSTREAM_ERROR], {
        messages: { [GatewayErrorCode.UPSTREAM_ERROR]: `${upstream} server failed to answer` },
      });
      addErrorCodes(operation, 503, [CommonErrorCode.UPSTREAM_UNAVAILABLE], {
        messages: { [CommonErrorCode.UPSTREAM_UNAVAILABLE]: `${upstream} server is unavailable` },
      });
      addErrorCodes(operation, 504, [CommonErrorCode.UPSTREAM_TIMEOUT], {
        messages: { [CommonErrorCode.UPSTREAM_TIMEOUT]: `${upstream} server did not answer within 10000 ms` },
      });
    }
  }
  return document;
}
