import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type HttpAppOptions, createHttpApp } from '@reward/server-kit/http-app';
import { AppModule } from './app.module.js';
import type { AuthConfig } from './config/auth-config.js';

export { loadAuthConfig } from './config/auth-config.js';
export type { AuthConfig } from './config/auth-config.js';

/**
 * The auth server, configured and initialised but not yet listening (tests pick the port). Initialised
 * means: unique indexes built, signing key loaded, admin account ensured.
 */
export async function createAuthServer(
  config: AuthConfig,
  options: Pick<HttpAppOptions, 'logDestination'> = {},
): Promise<NestFastifyApplication> {
  const app = await createHttpApp(AppModule.forRoot(config), {
    ...options,
    service: 'auth-server',
    logLevel: config.logLevel,
    storeErrors: true,
    trustedProxies: config.trustedProxies,
    trustedProxiesVariable: 'AUTH_TRUSTED_PROXIES',
    securityHeaders: config.securityHeaders,
    lateStarts: {},
  });
  await app.init();
  return app;
}

export { buildAuthOpenApi } from './openapi.js';
