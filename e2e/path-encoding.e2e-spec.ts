import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, type TokenPair, signUp } from './support/client.js';
import { rawGet } from './support/raw-request.js';
import { ADMIN, type Stack, startStack } from './support/stack.js';

/**
 * The gateway judges the path the event server will route on: a spelling that the server's router would
 * decode into another route (`/claims/%65xport` is its `/claims/export`) is refused before it gets there.
 */
describe('one decoded path, through the gateway to the real servers', () => {
  let stack: Stack;
  let player: string;
  let admin: string;

  beforeAll(async () => {
    stack = await startStack('path_encoding');
    const api = new Client(stack.gatewayUrl);
    player = (await signUp(api)).tokens.accessToken;
    admin = (await api.post<TokenPair>('/auth/login', ADMIN)).body.accessToken;
  });

  afterAll(async () => {
    await stack?.close();
  });

  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  it('refuses /claims/%65xport with 400 for everyone, while /claims/export keeps its own policy', async () => {
    for (const token of [player, admin]) {
      for (const path of ['/claims/%65xport', '/claims/%65%78%70%6f%72%74', '/claims/expor%74?eventId=x', '/claims/%6De']) {
        const reply = await rawGet(stack.gatewayUrl, path, as(token));
        expect(reply.status, path).toBe(400);
        expect(reply.json(), path).toMatchObject({ statusCode: 400, code: 'ENCODED_UNRESERVED_CHARACTER' });
      }
    }
    expect((await rawGet(stack.gatewayUrl, '/claims/export', as(player))).status).toBe(403);
    const asAdmin = await rawGet(stack.gatewayUrl, '/claims/export', as(admin));
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.contentType).toMatch(/^text\/csv/);
  });

  it('routes a fragment the way the event server does: /claims/export#x is the staff export', async () => {
    expect((await rawGet(stack.gatewayUrl, '/claims/export#x', as(player))).status).toBe(403);
    const asAdmin = await rawGet(stack.gatewayUrl, '/claims/export#x', as(admin));
    expect(asAdmin.status).toBe(200);
    expect(asAdmin.contentType).toMatch(/^text\/csv/);
  });
});
