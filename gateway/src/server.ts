import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { PUBLIC_BODY_BUDGET } from '@reward/server-kit/body-budget';
import { type HttpAppOptions, createHttpApp } from '@reward/server-kit/http-app';
import { VerifiedTokenCache } from '@reward/server-kit/verified-token-cache';
import { AppModule } from './app.module.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { ROUTE_POLICIES } from './policy/route-policy.js';
import { RouteTable } from './policy/route-table.js';
import { REPLY_FROM_FAILURE_MESSAGE, installGatewayProxy } from './proxy/gateway-proxy.js';

export { loadGatewayConfig } from './config/gateway-config.js';
export type { GatewayConfig } from './config/gateway-config.js';

/** The gateway, configured and initialised but not yet listening (tests pick the port and may read the logs). */
export async function createGatewayServer(
  config: GatewayConfig,
  options: Pick<HttpAppOptions, 'logDestination' | 'requestTimeouts' | 'bodyBudget'> = {},
): Promise<NestFastifyApplication> {
  const app = await createHttpApp(AppModule.forRoot(config), {
    bodyBudget: PUBLIC_BODY_BUDGET,
    ...options,
    service: 'gateway',
    logLevel: config.logLevel,
    trustedProxies: config.trustedProxies,
    securityHeaders: config.securityHeaders,
    // Each upstream replica may take up to upstreamMaxConnections descriptors, plus the files and the JWKS's.
    connectionLimits: {
      ...config.connectionLimits,
      reservedFiles: (config.upstreams.auth.length + config.upstreams.event.length) * config.upstreamMaxConnections + 256,
    },
    droppedLogMessages: [REPLY_FROM_FAILURE_MESSAGE],
  });
  installGatewayProxy(app.getHttpAdapter().getInstance(), {
    table: new RouteTable(ROUTE_POLICIES),
    upstreams: config.upstreams,
    timeoutMs: config.upstreamTimeoutMs,
    bodyIdleTimeoutMs: config.upstreamBodyIdleTimeoutMs,
    connectTimeoutMs: config.upstreamConnectTimeoutMs,
    replicaCooldownMs: config.replicaCooldownMs,
    resolveIntervalMs: config.upstreamResolveIntervalMs,
    maxConnectionsPerReplica: config.upstreamMaxConnections,
    tokens: app.get(VerifiedTokenCache),
  });
  await app.init();
  return app;
}
