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

/**
 * A query parameter is judged like a body field: a route that takes a query validates it against its DTO's
 * whitelist (an unknown one is a 400); a route that takes none refused nothing and dropped every parameter
 * without a word, so `GET /events/{id}?status=ACTIVE` answered as if it filtered and a misspelt parameter went
 * unnoticed. This refuses, with the same message the whitelist gives, any parameter on a route that takes
 * none. It runs after the guards (a caller without the right to the route still gets its 401/403 first).
 */
export class QueryWhitelistInterceptor implements NestInterceptor {
  private readonly judged = new WeakMap<object, boolean>();

  intercept(context: ExecutionContext, next: CallHandler): ReturnType<CallHandler['handle']> {
    if (context.getType() === 'http') {
      const handler = context.getHandler();
      let refuses = this.judged.get(handler);
      if (refuses === undefined) {
        const controller = context.getClass();
        const anyQuery =
          Reflect.getMetadata(ANY_QUERY_KEY, handler) === true || Reflect.getMetadata(ANY_QUERY_KEY, controller) === true;
        refuses = !anyQuery && !takesQuery(controller, handler.name);
        this.judged.set(handler, refuses);
      }
      if (refuses) {
        const query = context.switchToHttp().getRequest<{ query?: unknown }>().query;
        const names = typeof query === 'object' && query !== null ? Object.keys(query) : [];
        if (names.length > 0) {
          throw new DomainError(
            400,
            CommonErrorCode.VALIDATION_FAILED,
            names
              .map((name) => (name === '' ? '(empty name)' : name))
              .map((name) => `${name}: property ${name} should not exist`),
          );
        }
      }
    }
    return next.handle();
  }
}
