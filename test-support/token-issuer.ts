import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenForge } from './tokens.js';

/**
 * Stands in for the auth server in tests of a single server: the forge's JWKS on a local port, and tokens
 * signed with its key the way the auth server signs them.
 */
export class TestTokenIssuer {
  private constructor(
    readonly forge: TokenForge,
    private readonly server: Server,
    readonly jwksUrl: string,
  ) {}

  static async start(forge = TokenForge.generate()): Promise<TestTokenIssuer> {
    const body = JSON.stringify(forge.jwks);
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new TestTokenIssuer(forge, server, `http://127.0.0.1:${port}/.well-known/jwks.json`);
  }

  token(
    sub: string,
    roles: string[],
    options: { expiresInSeconds?: number; audience?: string; claims?: Record<string, unknown> } = {},
  ): string {
    return this.forge.sign(
      { ...options.claims, sub, roles },
      { expiresInSeconds: options.expiresInSeconds, audience: options.audience },
    );
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
