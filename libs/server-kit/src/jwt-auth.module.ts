import { type DynamicModule, Module, type ModuleMetadata } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import type { AccessTokenPolicy } from './access-token.js';
import { JwtAuthGuard, RolesGuard } from './auth.guards.js';
import { ACCESS_TOKEN_POLICY, JwtStrategy } from './jwt.strategy.js';

/**
 * Verifies access tokens on every route of the importing app (global guards: a route is protected
 * unless marked @Public()), then checks @Roles().
 */
@Module({})
export class JwtAuthModule {
  static forRootAsync(options: {
    imports?: ModuleMetadata['imports'];
    inject?: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
    useFactory: (...args: never[]) => AccessTokenPolicy | Promise<AccessTokenPolicy>;
  }): DynamicModule {
    return {
      module: JwtAuthModule,
      global: true,
      imports: [PassportModule, ...(options.imports ?? [])],
      providers: [
        { provide: ACCESS_TOKEN_POLICY, useFactory: options.useFactory, inject: options.inject ?? [] },
        JwtStrategy,
        { provide: APP_GUARD, useClass: JwtAuthGuard },
        { provide: APP_GUARD, useClass: RolesGuard },
      ],
      exports: [ACCESS_TOKEN_POLICY],
    };
  }
}
