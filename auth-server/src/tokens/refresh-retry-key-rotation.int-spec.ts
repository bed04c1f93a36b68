// A keyed refresh retried at a replica that signs with another key (JWT_PRIVATE_KEY rotated, old and new replicas side
// by side): the successor must not depend on the signing key, or the retry would read as theft and end the login.
// Its own file: two auth apps in one process share the JWKS resolution of their access tokens, which this test avoids.
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type mongoose from 'mongoose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testDatabaseName } from '../../../test-support/database.js';
import { rsaPrivateKeyPem } from '../../../test-support/tokens.js';
import { call, openTestDatabase, signedInUser, startTestApp, testConfig } from '../testing/auth-test-app.js';

const dbName = testDatabaseName('refresh-key-rotation');
let oldKey: NestFastifyApplication;
let newKey: NestFastifyApplication;
let db: mongoose.Connection;

beforeAll(async () => {
  oldKey = await startTestApp(testConfig(dbName, { JWT_PRIVATE_KEY: rsaPrivateKeyPem().replace(/\n/g, '\\n') }));
  newKey = await startTestApp(testConfig(dbName, { JWT_PRIVATE_KEY: rsaPrivateKeyPem().replace(/\n/g, '\\n') }));
  db = await openTestDatabase(dbName);
});

afterAll(async () => {
  await oldKey?.close();
  await newKey?.close();
  await db?.dropDatabase();
  await db?.close();
});

it('answers the retry at the new-key replica with the token the old-key replica stored, and the login lives', async () => {
  const user = await signedInUser(oldKey);
  const keyed = (app: NestFastifyApplication) =>
    call(app, 'POST', '/auth/refresh', { body: { refreshToken: user.refreshToken }, headers: { 'idempotency-key': 'rotation' } });
  const first = await keyed(oldKey);
  expect(first.status).toBe(200);
  const retry = await keyed(newKey);
  expect(retry.status).toBe(200);
  expect(retry.body.refreshToken).toBe(first.body.refreshToken);
  expect(await db.collection('refresh_token_family_revocations').countDocuments({ userId: user.id })).toBe(0);
  // One secret for every replica, stored once.
  expect(await db.collection('signing_keys').countDocuments({ _id: 'refresh-token-retry-secret' } as never)).toBe(1);
});
