import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type HttpAppOptions, listenOptions } from '@reward/server-kit/http-app';
import { afterAll, beforeAll } from 'vitest';
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
  options: Pick<HttpAppOptions, 'logDestination' | 'requestTimeouts' | 'bodyBudget'> = {},
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
  const app = await createGatewayServer(config, options);
  await app.listen(listenOptions('127.0.0.1', 0));
  return { app, url: await app.getUrl() };
}

export interface GatewayWithFakes {
  /** Signs the tokens the gateway accepts (its keys are the fake auth server's JWKS). */
  readonly signer: TokenForge;
  /** The fake auth server (it publishes the JWKS) and the fake event server: they record what reached them. */
  readonly auth: FakeUpstream;
  readonly event: FakeUpstream;
  /** The gateway in front of them, once the suite's beforeAll ran. */
  readonly app: NestFastifyApplication;
  readonly url: string;
}

/**
 * A suite's gateway in front of a fake auth server and a fake event server, started before its tests
 * (beforeAll) and stopped after them (afterAll); `env` adds to the gateway's test configuration.
 */
export function useGatewayWithFakes(env: Record<string, string> = {}): GatewayWithFakes {
  const signer = TokenForge.generate({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE });
  const auth = fakeAuthServer(signer);
  const event = new FakeUpstream();
  let gateway: { app: NestFastifyApplication; url: string } | undefined;
  const started = () => {
    if (!gateway) throw new Error('the gateway starts in beforeAll: use it inside a test or hook');
    return gateway;
  };
  beforeAll(async () => {
    await Promise.all([auth.start(), event.start()]);
    gateway = await startGateway({ auth: auth.url, event: event.url, jwks: auth.url }, env);
  });
  afterAll(async () => {
    await gateway?.app.close();
    await Promise.all([auth.stop(), event.stop()]);
  });
  return {
    signer,
    auth,
    event,
    get app() {
      return started().app;
    },
    get url() {
      return started().url;
    },
  };
}
