import { type CallHandler, type ExecutionContext, type NestInterceptor, SetMetadata, type Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { CommonErrorCode, DomainError } from './errors.js';

const ANY_QUERY_KEY = 'query:any';

/**
 * Marks a route (or a controller) that ignores a query string: the health checks, the JWKS and the API
 * documents, which probes, caches and browsers may fetch with a parameter of their own.
 */
export const AnyQuery = (): MethodDecorator & ClassDecorator => SetMetadata(ANY_QUERY_KEY, true);

/** Whether the handler reads the query through `@Query()` (its DTO's whitelist then judges every parameter). */
function takesQuery(controller: Type, handler: string): boolean {
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler) ?? {}) as Record<string, unknown>;
  return Object.keys(args).some((key) => key.split(':')[0] === String(RouteParamtypes.QUERY));
}

/** What a route accepts in its query string. */
type QueryRule = 'none' | 'once' | 'any';

const named = (name: string): string => (name === '' ? '(empty name)' : name);

/**
 * A query parameter is judged like a body field: a route that takes a query validates it against its DTO's
 * whitelist (an unknown one is a 400); a route that takes none refused nothing and dropped every parameter
 * without a word, so `GET /events/{id}?status=ACTIVE` answered as if it filtered and a misspelt parameter went
 * unnoticed. This refuses, with the same message the whitelist gives, any parameter on a route that takes
 * none. No query field of the API is a list, so a parameter given twice (`?limit=10&limit=20`, which arrives
 * as an array) is refused with one message naming it, not the DTO's "must be a string" or three messages about
 * a number. It runs after the guards (a caller without the right to the route still gets its 401/403 first).
 */
export class QueryWhitelistInterceptor implements NestInterceptor {
  private readonly rules = new WeakMap<object, QueryRule>();

  intercept(context: ExecutionContext, next: CallHandler): ReturnType<CallHandler['handle']> {
    if (context.getType() === 'http') {
      const handler = context.getHandler();
      let rule = this.rules.get(handler);
      if (rule === undefined) {
        const controller = context.getClass();
        const anyQuery =
          Reflect.getMetadata(ANY_QUERY_KEY, handler) === true || Reflect.getMetadata(ANY_QUERY_KEY, controller) === true;
        rule = anyQuery ? 'any' : takesQuery(controller, handler.name) ? 'once' : 'none';
        this.rules.set(handler, rule);
      }
      if (rule !== 'any') {
        const query = context.switchToHttp().getRequest<{ query?: unknown }>().query;
        const entries = typeof query === 'object' && query !== null ? Object.entries(query) : [];
        const problems =
          rule === 'none'
            ? entries.map(([name]) => `${named(name)}: property ${named(name)} should not exist`)
            : entries
                .filter(([, value]) => Array.isArray(value))
                .map(([name, value]) => `${named(name)}: given ${(value as unknown[]).length} times; give it once`);
        if (problems.length > 0) throw new DomainError(400, CommonErrorCode.VALIDATION_FAILED, problems);
      }
    }
    return next.handle();
  }
}
