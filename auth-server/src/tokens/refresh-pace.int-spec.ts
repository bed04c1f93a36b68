import { afterAll, describe, expect, it } from 'vitest';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { testDatabaseName } from '../../../test-support/database.js';
import { appPerBlock, call, login, signedInUser, startTestApp, testConfig } from '../testing/auth-test-app.js';

const dbName = testDatabaseName('refresh_pace');
// Three refreshes per login at once, then one an hour: no test here waits for the refill (RefreshPace's spec does).
const ENV = { REFRESH_BURST_PER_LOGIN: '3', REFRESH_INTERVAL_SECONDS_PER_LOGIN: '3600' };

describe("POST /auth/refresh: a login's refreshes are paced", () => {
  const block = appPerBlock(dbName, ENV);
  let replica: NestFastifyApplication | undefined;

  afterAll(async () => {
    await replica?.close();
  });

  const refresh = (refreshToken: string, headers?: Record<string, string>) =>
    call(block.app, 'POST', '/auth/refresh', { body: { refreshToken }, ...(headers && { headers }) });
  const rowsOf = (userId: string) => block.db.collection('refresh_tokens').countDocuments({ userId });
  const revocationsOf = (userId: string) => block.db.collection('refresh_token_family_revocations').countDocuments({ userId });

  /** `count` refreshes one after the other from the login's token; every token handed out, the first one included. */
  async function chain(first: string, count: number): Promise<string[]> {
    const tokens = [first];
    for (let i = 0; i < count; i += 1) {
      const reply = await refresh(tokens.at(-1)!);
      expect(reply.status).toBe(200);
      tokens.push(reply.body.refreshToken as string);
    }
    return tokens;
  }

  it('answers the refresh past the burst 429 with Retry-After, writes nothing, and leaves the token good', async () => {
    const user = await signedInUser(block.app);
    const tokens = await chain(user.refreshToken, 3);
    const rows = await rowsOf(user.id);

    const paced = await refresh(tokens.at(-1)!);
    expect(paced.status).toBe(429);
    expect(paced.body).toMatchObject({ statusCode: 429, code: 'TOO_MANY_REQUESTS', retryAfterSeconds: 3600 });
    expect(paced.body.message).toMatch(/refreshes of this login/);
    expect(paced.headers['retry-after']).toBe('3600');
    expect(await rowsOf(user.id)).toBe(rows);
    expect(await revocationsOf(user.id)).toBe(0);

    // The token was not spent: another replica (its own pace) rotates it, and the login lives on.
    replica = await startTestApp(testConfig(dbName, ENV));
    const elsewhere = await call(replica, 'POST', '/auth/refresh', { body: { refreshToken: tokens.at(-1)! } });
    expect(elsewhere.status).toBe(200);
    expect((await call(replica, 'GET', '/users/me', { token: elsewhere.body.accessToken as string })).status).toBe(200);
    expect(await revocationsOf(user.id)).toBe(0);
  });

  it('still ends the login when a token rotated before is presented again while the login is paced', async () => {
    const user = await signedInUser(block.app);
    const tokens = await chain(user.refreshToken, 3);
    expect((await refresh(tokens.at(-1)!)).status).toBe(429);

    const reused = await refresh(tokens[1]!);
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe('REFRESH_TOKEN_REUSED');
    expect(await revocationsOf(user.id)).toBe(1);
    expect((await refresh(tokens.at(-1)!)).body.code).toBe('INVALID_REFRESH_TOKEN');
  });

  it('answers a keyed retry of the last refresh again while the login is paced', async () => {
    const user = await signedInUser(block.app);
    const tokens = await chain(user.refreshToken, 2);
    const keyed = await refresh(tokens.at(-1)!, { 'idempotency-key': 'the-third' });
    expect(keyed.status).toBe(200);
    expect((await refresh(keyed.body.refreshToken as string)).status).toBe(429);

    // Its answer was lost: the same token and key are answered the same new token, nothing more written.
    const rows = await rowsOf(user.id);
    const retry = await refresh(tokens.at(-1)!, { 'idempotency-key': 'the-third' });
    expect(retry.status).toBe(200);
    expect(retry.body.refreshToken).toBe(keyed.body.refreshToken);
    expect(await rowsOf(user.id)).toBe(rows);
    expect(await revocationsOf(user.id)).toBe(0);
  });

  it("paces each login on its own: the same user's other login refreshes", async () => {
    const user = await signedInUser(block.app);
    await chain(user.refreshToken, 3);
    const other = await login(block.app, user.email, user.password);
    expect(other.status).toBe(200);
    await chain(other.body.refreshToken as string, 3);
  });
});
