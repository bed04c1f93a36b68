import { type DynamicModule, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { JwtAuthModule } from '@reward/server-kit/jwt-auth.module';
import { BootstrapModule } from './bootstrap/bootstrap.module.js';
import type { AuthConfig } from './config/auth-config.js';
import { AuthConfigModule } from './config/config.module.js';
import { DatabaseHealthModule } from '@reward/server-kit/database-health.module';
import { SigningKeysModule } from './signing-keys/signing-keys.module.js';
import { SigningKeysService } from './signing-keys/signing-keys.service.js';
import { ThrottlingModule } from './throttling/throttling.module.js';
import { TokensModule } from './tokens/tokens.module.js';
import { UsersModule } from './users/users.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AuthConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AuthConfigModule.forRoot(config),
        MongooseModule.forRoot(config.database.uri, {
          dbName: config.database.dbName,
          serverSelectionTimeoutMS: 5_000,
          // Each failed attempt's line says why (refused, timed out, authentication failed), not only that it failed.
          verboseRetryLog: true,
          sanitizeFilter: true,
        }),
        // Same strategy and guards as every other server; only the key source differs: our own key, in memory.
        JwtAuthModule.forRootAsync({
          imports: [SigningKeysModule],
          inject: [SigningKeysService],
          useFactory: (keys: SigningKeysService) => ({ issuer: config.jwt.issuer, audience: config.jwt.audience, keys }),
        }),
        DatabaseHealthModule,
        SigningKeysModule,
        UsersModule,
        ThrottlingModule,
        TokensModule,
        BootstrapModule,
      ],
    };
  }
}
