import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createGatewayServer, loadGatewayConfig } from '../server.js';
import { TokenForge } from '../../../test-support/tokens.js';
import { FakeUpstream } from './fake-upstream.js';

export const TEST_ISSUER = 'test-issuer';
export const TEST_AUDIENCE = 'test-audience';

/** A fake auth server that also publishes the signer's JWKS (as the real one does). */
export function fakeAuthServer(signer: TokenForge): FakeUpstream {
  return new FakeUpstream((request) => (request.url === '/.well-known/jwks.json' ? { body: signer.jwks } : undefined));
}

/** A gateway on a free port in front of the given upstreams, verifying the signer's tokens. */
export async function startGateway(
  upstreams: { auth: string; event: string; jwks: string },
  env: Record<string, string> = {},
): Promise<{ app: NestFastifyApplication; url: string }> {
  const config = loadGatewayConfig({
    AUTH_SERVICE_URL: upstreams.auth,
    EVENT_SERVICE_URL: upstreams.event,
    // All gateways in one test process share Passport's one 'jwt' strategy: keep them on the same keys.
    AUTH_JWKS_URL: `${upstreams.jwks}/.well-known/jwks.json`,
    JWT_ISSUER: TEST_ISSUER,
    JWT_AUDIENCE: TEST_AUDIENCE,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const app = await createGatewayServer(config);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url: await app.getUrl() };
}
