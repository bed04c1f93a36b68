import { type DynamicModule, Module } from '@nestjs/common';
import { JwksKeyResolver } from '@reward/server-kit/access-token';
import { JwtAuthModule } from '@reward/server-kit/jwt-auth.module';
import { GatewayConfigModule } from './config/config.module.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { DocsModule } from './docs/docs.module.js';
import { HealthModule } from './health/health.module.js';

/**
 * The gateway's Nest side: its own routes (/health) and the Passport JWT strategy, which the proxy's
 * preHandler runs too (the proxied routes are plain Fastify routes; see proxy/gateway-proxy.ts).
 */
@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        GatewayConfigModule.forRoot(config),
        JwtAuthModule.forRootAsync({
          useFactory: () => ({
            issuer: config.jwt.issuer,
            audience: config.jwt.audience,
            keys: new JwksKeyResolver(config.jwt.jwksUrl),
          }),
        }),
        HealthModule,
        DocsModule,
      ],
    };
  }
}
