/**
 * Stands in for the auth server in tests of a single server: an RSA key, its JWKS on a local port, and
 * tokens signed with it the way the auth server signs them.
 */
export declare class TestTokenIssuer {
  private readonly privateKey;
  readonly kid: string;
  private readonly server;
  readonly jwksUrl: string;
  private constructor();
  static start(): Promise<TestTokenIssuer>;
  token(
    sub: string,
    roles: string[],
    options?: {
      expiresInSeconds?: number;
    },
  ): string;
  stop(): Promise<void>;
}
