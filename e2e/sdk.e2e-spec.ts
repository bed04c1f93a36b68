import { ApiError, claimRefusalOf, claimUntilAnswered, createRewardClient, type TokenPairResponseDto } from '@reward/sdk';
import { type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type Stack, startStack } from './support/stack.js';

describe('@reward/sdk against the gateway', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack('sdk');
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('logs in, keeps the tokens and sends the access token', async () => {
    const seen: TokenPairResponseDto[] = [];
    const client = createRewardClient({ baseUrl: `${stack.gatewayUrl}/`, onTokens: (pair) => seen.push(pair) });
    const pair = await client.login(ADMIN.email, ADMIN.password);
    expect(seen).toEqual([pair]);
    expect(client.tokens).toEqual({ accessToken: pair.accessToken, refreshToken: pair.refreshToken });
    expect(await client.users.getMe()).toMatchObject({ email: ADMIN.email, roles: ['ADMIN'] });
  });

  it('refreshes a rejected access token once, retries the call and shares one refresh between concurrent calls', async () => {
    const start = await createRewardClient({ baseUrl: stack.gatewayUrl }).login(ADMIN.email, ADMIN.password);
    const seen: TokenPairResponseDto[] = [];
    const client = createRewardClient({
      baseUrl: stack.gatewayUrl,
      token: 'not-a-valid-token',
      refreshToken: start.refreshToken,
      onTokens: (pair) => seen.push(pair),
    });
    const [me, again] = await Promise.all([client.users.getMe(), client.users.getMe()]);
    expect(me.email).toBe(ADMIN.email);
    expect(again.email).toBe(ADMIN.email);
    expect(seen).toHaveLength(1);
    expect(client.tokens?.refreshToken).toBe(seen[0]?.refreshToken);
    expect(client.tokens?.refreshToken).not.toBe(start.refreshToken);
  });

  /**
   * A relay in front of the gateway. Requests to `path` (default POST /auth/refresh) are counted and their
   * Idempotency-Keys noted; `lose(n)` decides the n-th one's fate (1-based): false, it goes through; true, it
   * reaches the platform (and is recorded there) but its answer is lost (`lostBody`, 504 UPSTREAM_TIMEOUT by
   * default); 'unsent', it is answered `lostBody` without reaching the platform.
   */
  async function lossyRelay(
    lose: (sends: number) => boolean | 'unsent',
    options: { holdSecondMeUntil?: Promise<unknown>; lostBody?: object; path?: RegExp } = {},
  ): Promise<{ url: string; keys: string[]; close: () => Promise<void> }> {
    const keys: string[] = [];
    const path = options.path ?? /^\/auth\/refresh$/;
    const lostBody = options.lostBody ?? { statusCode: 504, code: 'UPSTREAM_TIMEOUT', message: 'lost' };
    const answerLost = (response: ServerResponse): void => {
      response.writeHead((lostBody as { statusCode: number }).statusCode, { 'content-type': 'application/json' });
      response.end(JSON.stringify(lostBody));
    };
    let meRequests = 0;
    const relay = createServer((request, response) => {
      // The second GET /users/me is answered only once `holdSecondMeUntil` resolved.
      const held = request.url === '/users/me' && ++meRequests === 2 ? options.holdSecondMeUntil : undefined;
      const counted = request.method === 'POST' && path.test(request.url ?? '');
      const fate = counted ? (keys.push(String(request.headers['idempotency-key'])), lose(keys.length)) : false;
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (fate === 'unsent') return answerLost(response);
        const headers = { ...request.headers };
        for (const name of ['host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']) delete headers[name];
        void fetch(`${stack.gatewayUrl}${request.url ?? '/'}`, {
          method: request.method ?? 'GET',
          headers: headers as Record<string, string>,
          ...(chunks.length > 0 && { body: Buffer.concat(chunks) }),
        }).then(async (upstream) => {
          const body = await upstream.text();
          await held;
          if (fate === true) return answerLost(response);
          response.writeHead(upstream.status, { 'content-type': 'application/json' });
          response.end(body);
        });
      });
    });
    await new Promise<void>((listening) => relay.listen(0, '127.0.0.1', listening));
    return {
      url: `http://127.0.0.1:${(relay.address() as AddressInfo).port}`,
      keys,
      close: () => new Promise((closed) => relay.close(() => closed())),
    };
  }

  it('keeps the login when a refresh answer is lost: sent again with its Idempotency-Key, it gets the same new token', async () => {
    const start = await createRewardClient({ baseUrl: stack.gatewayUrl }).login(ADMIN.email, ADMIN.password);
    const relay = await lossyRelay((refreshes) => refreshes === 1);
    try {
      const seen: TokenPairResponseDto[] = [];
      const client = createRewardClient({
        baseUrl: relay.url,
        token: 'not-a-valid-token',
        refreshToken: start.refreshToken,
        onTokens: (pair) => seen.push(pair),
      });
      expect((await client.users.getMe()).email).toBe(ADMIN.email);
      expect(relay.keys).toHaveLength(2);
      expect(relay.keys[0]).toMatch(/^[0-9a-f-]{36}$/);
      expect(relay.keys[1]).toBe(relay.keys[0]);
      expect(seen).toHaveLength(1);
      // The login lives on: the token the retry got rotates again.
      const next = await createRewardClient({ baseUrl: stack.gatewayUrl }).auth.refreshTokens({
        requestBody: { refreshToken: seen[0]!.refreshToken },
      });
      expect(next.refreshToken).not.toBe(seen[0]!.refreshToken);
    } finally {
      await relay.close();
    }
  });

  it('keeps the key of a refresh that never got an answer: the next refresh of that token is its retry, not a reuse', async () => {
    const start = await createRewardClient({ baseUrl: stack.gatewayUrl }).login(ADMIN.email, ADMIN.password);
    let losing = true;
    // Lost answers that ask for no wait (retryAfterSeconds 0), so the SDK's five attempts follow each other at once.
    const lostBody = { statusCode: 503, code: 'UPSTREAM_UNAVAILABLE', message: 'lost', retryAfterSeconds: 0 };
    const relay = await lossyRelay(() => losing, { lostBody });
    try {
      const ended: unknown[] = [];
      const client = createRewardClient({
        baseUrl: relay.url,
        token: 'not-a-valid-token',
        refreshToken: start.refreshToken,
        onSessionEnded: (error) => ended.push(error),
      });
      // Every attempt's answer is lost: the call fails with the refresh's 503 (not a 401: the session is not over).
      await expect(client.users.getMe()).rejects.toMatchObject({ status: 503, body: { code: 'UPSTREAM_UNAVAILABLE' } });
      expect(ended).toEqual([]);
      const attempts = relay.keys.length;
      expect(attempts).toBeGreaterThan(1);
      losing = false;
      expect((await client.users.getMe()).email).toBe(ADMIN.email);
      expect(new Set(relay.keys).size).toBe(1);
      expect(relay.keys.length).toBe(attempts + 1);
      expect(client.tokens?.refreshToken).not.toBe(start.refreshToken);
      expect((await client.users.getMe()).email).toBe(ADMIN.email);
    } finally {
      await relay.close();
    }
  });

  it('sends a call whose 401 came after the token it used was replaced again with the new token, without refreshing', async () => {
    const start = await createRewardClient({ baseUrl: stack.gatewayUrl }).login(ADMIN.email, ADMIN.password);
    // The second call's 401 is answered only once the client has stored the tokens the first call's refresh got.
    let stored: () => void = () => undefined;
    const tokensStored = new Promise<void>((done) => (stored = done));
    const relay = await lossyRelay(() => false, { holdSecondMeUntil: tokensStored });
    try {
      const client = createRewardClient({
        baseUrl: relay.url,
        token: 'not-a-valid-token',
        refreshToken: start.refreshToken,
        onTokens: () => stored(),
      });
      const first = client.users.getMe();
      const second = client.users.getMe();
      expect((await first).email).toBe(ADMIN.email);
      expect((await second).email).toBe(ADMIN.email);
      expect(relay.keys).toHaveLength(1);
    } finally {
      await relay.close();
    }
  });

  it('fails a call with the refresh refusal and says the session ended when the refresh token is spent', async () => {
    const start = await createRewardClient({ baseUrl: stack.gatewayUrl }).login(ADMIN.email, ADMIN.password);
    await createRewardClient({ baseUrl: stack.gatewayUrl }).auth.refreshTokens({
      requestBody: { refreshToken: start.refreshToken },
    });
    const ended: ApiError[] = [];
    const client = createRewardClient({
      baseUrl: stack.gatewayUrl,
      token: 'not-a-valid-token',
      refreshToken: start.refreshToken,
      onSessionEnded: (error) => ended.push(error),
    });
    await expect(client.users.getMe()).rejects.toMatchObject({ status: 401, body: { code: 'REFRESH_TOKEN_REUSED' } });
    expect(ended.map((error) => (error.body as { code: string }).code)).toEqual(['REFRESH_TOKEN_REUSED']);
    // The spent refresh token is not sent again: the next call fails with its own 401, and nothing more is said.
    await expect(client.users.getMe()).rejects.toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
    expect(ended).toHaveLength(1);
    expect(client.tokens?.refreshToken).toBeUndefined();
  });

  it('surfaces the 401 as an ApiError when there is no way to refresh', async () => {
    const withoutRefresh = createRewardClient({ baseUrl: stack.gatewayUrl, token: 'not-a-valid-token' });
    const failure = await withoutRefresh.users.getMe().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });

    const staleRefresh = createRewardClient({ baseUrl: stack.gatewayUrl, token: 'not-a-valid-token', refreshToken: 'used-up' });
    await expect(staleRefresh.users.getMe()).rejects.toMatchObject({ status: 401 });
  });

  it('reports API errors with their status and error body', async () => {
    const client = createRewardClient({ baseUrl: stack.gatewayUrl });
    const failure = await client.login(ADMIN.email, 'wrong-password').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure).toMatchObject({ status: 401, body: { code: 'INVALID_CREDENTIALS' } });
    // The message is the server's (the generated client's alone would be "Unauthorized").
    expect((failure as ApiError).message).toBe('401 INVALID_CREDENTIALS: Email or password is incorrect');
    expect(client.tokens).toBeUndefined();

    // Through the refreshing client too, and a validation failure's list of messages as one line.
    await client.login(ADMIN.email, ADMIN.password);
    const missing = await client.events.getEvent({ id: '0123456789abcdef01234567' }).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ApiError);
    expect((missing as ApiError).message).toMatch(/^404 EVENT_NOT_FOUND: \S/);
    const invalid = await client.events.createEvent({ requestBody: { title: '' } as never }).then(
      () => undefined,
      (error: unknown) => error as ApiError,
    );
    expect(invalid).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    expect(invalid?.message).toMatch(/^400 VALIDATION_FAILED: \S.*; \S/);
  });

  it('types a refused claim: the recorded claim with its code, and nothing for other failures', async () => {
    const admin = createRewardClient({ baseUrl: stack.gatewayUrl });
    await admin.login(ADMIN.email, ADMIN.password);
    const event = await admin.events.createEvent({
      requestBody: {
        title: 'Win 3 matches',
        startAt: new Date(Date.now() - 86_400_000).toISOString(),
        endAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
        status: 'ACTIVE',
        approval: 'AUTO',
        condition: { type: 'ACTIVITY_COUNT', activity: 'MATCH_WON', count: 3 },
      },
    });
    const email = `sdk-refusal-${Date.now()}@example.com`;
    await admin.auth.register({ requestBody: { email, password: 'player-password' } });
    const player = createRewardClient({ baseUrl: stack.gatewayUrl });
    await player.login(email, 'player-password');

    const failure = await player.claims.claimReward({ id: event.id }).catch((error: unknown) => error);
    const refusal = claimRefusalOf(failure);
    expect(refusal).toMatchObject({ statusCode: 422, code: 'CONDITION_NOT_MET', status: 'REJECTED', eventId: event.id });
    expect((await player.claims.getClaim({ id: refusal!.id })).status).toBe('REJECTED');

    expect(claimRefusalOf(await player.users.listUsers({}).catch((error: unknown) => error))).toBeUndefined();
    expect(claimRefusalOf(new Error('network down'))).toBeUndefined();
  });

  it('claimUntilAnswered: sends one key again after a shed claim and a lost answer, and ends with the one claim', async () => {
    const admin = createRewardClient({ baseUrl: stack.gatewayUrl });
    await admin.login(ADMIN.email, ADMIN.password);
    const event = await admin.events.createEvent({
      requestBody: {
        title: 'Launch day',
        startAt: new Date(Date.now() - 86_400_000).toISOString(),
        endAt: new Date(Date.now() + 7 * 86_400_000).toISOString(),
        status: 'INACTIVE',
        approval: 'AUTO',
        condition: { type: 'LOGIN_DAYS', days: 1 },
      },
    });
    await admin.events.addReward({ id: event.id, requestBody: { type: 'POINT', name: '10 points', quantity: 10, stock: 5 } });
    await admin.events.updateEvent({ id: event.id, requestBody: { status: 'ACTIVE' } });
    const email = `sdk-launch-${Date.now()}@example.com`;
    await admin.auth.register({ requestBody: { email, password: 'player-password' } });
    const tokens = await createRewardClient({ baseUrl: stack.gatewayUrl }).login(email, 'player-password');

    // The first send is shed before it reaches the platform (asking for no wait), the second is recorded but its
    // answer lost, the third gets through.
    const shed = { statusCode: 503, code: 'CLAIMS_BUSY', message: 'busy', retryAfterSeconds: 0 };
    const relay = await lossyRelay((sends) => (sends === 1 ? 'unsent' : sends === 2), {
      path: /^\/events\/[^/]+\/claims$/,
      lostBody: shed,
    });
    try {
      const player = createRewardClient({ baseUrl: relay.url, token: tokens.accessToken });
      // The login's LOGIN activity reaches the event server a moment after the login: wait for that state.
      await expect.poll(async () => (await player.events.getProgress({ id: event.id })).eligible, { timeout: 20_000 }).toBe(true);
      const outcome = await claimUntilAnswered(player, event.id, { maxWaitSeconds: 0 });
      expect(outcome).toMatchObject({ status: 'GRANTED', eventId: event.id });
      expect(relay.keys).toHaveLength(3);
      expect(new Set(relay.keys).size).toBe(1);
      const mine = await player.claims.listMyClaims({ eventId: event.id });
      expect(mine.items.map((claim) => claim.id)).toEqual([(outcome as { id: string }).id]);

      // A recorded refusal is an answer too: returned, not retried.
      const again = await claimUntilAnswered(player, event.id);
      expect(again).toMatchObject({ code: 'ALREADY_CLAIMED', status: 'REJECTED' });
      expect(relay.keys).toHaveLength(4);
    } finally {
      await relay.close();
    }
  });
});
