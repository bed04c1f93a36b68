import { type KeyObject, generateKeyPairSync } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import jwt from 'jsonwebtoken';

/**
 * Stands in for the auth server in tests of a single server: an RSA key, its JWKS on a local port, and
 * tokens signed with it the way the auth server signs them.
 */
export class TestTokenIssuer {
  private constructor(
    private readonly privateKey: KeyObject,
    readonly kid: string,
    private readonly server: Server,
    readonly jwksUrl: string,
  ) {}

  static async start(): Promise<TestTokenIssuer> {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    const body = JSON.stringify({ keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] });
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new TestTokenIssuer(privateKey, kid, server, `http://127.0.0.1:${port}/.well-known/jwks.json`);
  }

  token(
    sub: string,
    roles: string[],
    options: { expiresInSeconds?: number; audience?: string; claims?: Record<string, unknown> } = {},
  ): string {
    return jwt.sign({ ...options.claims, sub, roles }, this.privateKey, {
      algorithm: 'RS256',
      keyid: this.kid,
      issuer: 'reward-platform-auth',
      audience: options.audience ?? 'reward-platform',
      expiresIn: options.expiresInSeconds ?? 900,
    });
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
