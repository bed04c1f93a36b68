import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import jwt from 'jsonwebtoken';
/**
 * Stands in for the auth server in tests of a single server: an RSA key, its JWKS on a local port, and
 * tokens signed with it the way the auth server signs them.
 */
export class TestTokenIssuer {
  constructor(privateKey, kid, server, jwksUrl) {
    this.privateKey = privateKey;
    this.kid = kid;
    this.server = server;
    this.jwksUrl = jwksUrl;
  }
  static async start() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    const body = JSON.stringify({ keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] });
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address();
    return new TestTokenIssuer(privateKey, kid, server, `http://127.0.0.1:${port}/.well-known/jwks.json`);
  }
  token(sub, roles, options = {}) {
    return jwt.sign({ sub, roles }, this.privateKey, {
      algorithm: 'RS256',
      keyid: this.kid,
      issuer: 'reward-platform-auth',
      audience: 'reward-platform',
      expiresIn: options.expiresInSeconds ?? 900,
    });
  }
  async stop() {
    await new Promise((resolve) => this.server.close(() => resolve()));
  }
}
//# sourceMappingURL=token-issuer.js.map
