import { type DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import type { AccessTokenPolicy } from './access-token.js';
import { CURRENT_ACCESS_CHECK, type CurrentAccessCheck, JwtAuthGuard, RolesGuard } from './auth.guards.js';
import { ACCESS_TOKEN_POLICY, JwtStrategy } from './jwt.strategy.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

/**
 * Verifies access tokens on every route of the importing app (global guards: a route is protected
 * unless marked @Public()), each token once until it expires (VerifiedTokenCache), then checks @Roles().
 */
@Module({})
export class JwtAuthModule {
  static forRootAsync(options: {
    imports?: ModuleMetadata['imports'];
    inject?: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
    useFactory: (...args: never[]) => AccessTokenPolicy | Promise<AccessTokenPolicy>;
    /**
     * The app provides a CURRENT_ACCESS_CHECK (from a global module) that RolesGuard must make: the app does not
     * start without it, rather than run without the check.
     */
    requireCurrentAccessCheck?: boolean;
  }): DynamicModule {
    return {
      module: JwtAuthModule,
      global: true,
      imports: [PassportModule, ...(options.imports ?? [])],
      providers: [
        { provide: ACCESS_TOKEN_POLICY, useFactory: options.useFactory, inject: options.inject ?? [] },
        JwtStrategy,
        // One per app: the tokens its guard has verified (see JwtAuthGuard).
        { provide: VerifiedTokenCache, useFactory: () => new VerifiedTokenCache() },
        { provide: APP_GUARD, useClass: JwtAuthGuard },
        {
          provide: APP_GUARD,
          useFactory: (reflector: Reflector, check?: CurrentAccessCheck) => new RolesGuard(reflector, check),
          inject: [Reflector, { token: CURRENT_ACCESS_CHECK, optional: options.requireCurrentAccessCheck !== true }],
        },
      ],
      exports: [ACCESS_TOKEN_POLICY, VerifiedTokenCache],
    };
  }
}
