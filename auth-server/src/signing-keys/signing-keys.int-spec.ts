import { createPublicKey } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { testDatabaseName } from '../../../test-support/database.js';
import { ACCESS_VERSION_CLAIM } from '@reward/server-kit/roles';
import { TokenForge, rsaPrivateKeyPem } from '../../../test-support/tokens.js';
import { call, login, openTestDatabase, startTestApp, testConfig, TEST_ADMIN } from '../testing/auth-test-app.js';
import { signingKeyFromPem } from './signing-key.js';

const apps: NestFastifyApplication[] = [];
const databases: string[] = [];

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  for (const name of databases) {
    const db = await openTestDatabase(name);
    await db.dropDatabase();
    await db.close();
  }
});

async function start(dbName: string, env: Record<string, string> = {}): Promise<NestFastifyApplication> {
  const app = await startTestApp(testConfig(dbName, env));
  apps.push(app);
  return app;
}

const kidsOf = async (app: NestFastifyApplication): Promise<string[]> => {
  const reply = await call(app, 'GET', '/.well-known/jwks.json');
  return (reply.body.keys as Array<{ kid: string }>).map((key) => key.kid);
};

/** The admin's access token from `app`, and the same claims signed by `forge` (the key a test holds). */
async function adminTokens(app: NestFastifyApplication, forge?: TokenForge): Promise<{ issued: string; forged?: string }> {
  const session = await login(app, TEST_ADMIN.email, TEST_ADMIN.password);
  const issued = session.body.accessToken as string;
  const claims = JSON.parse(Buffer.from(issued.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
  const forged = forge?.sign({
    sub: claims.sub as string,
    roles: claims.roles as string[],
    [ACCESS_VERSION_CLAIM]: claims[ACCESS_VERSION_CLAIM],
  });
  return { issued, ...(forged && { forged }) };
}

/** What `app` answers a staff route (ADMIN only) with the token: the auth server's own guard, by its own keys. */
const statusOfUsersList = async (app: NestFastifyApplication, token: string): Promise<number> =>
  (await call(app, 'GET', '/users', { token })).status;

const kidOf = async (app: NestFastifyApplication): Promise<string> => {
  const reply = await call(app, 'GET', '/.well-known/jwks.json');
  return (reply.body.keys as Array<{ kid: string }>)[0]!.kid;
};

describe('signing keys', () => {
  it('publishes only public RSA parameters, with the RFC 7638 thumbprint as kid', async () => {
    const pem = rsaPrivateKeyPem();
    const dbName = testDatabaseName('keys_cfg');
    databases.push(dbName);
    const app = await start(dbName, { JWT_PRIVATE_KEY: pem });
    const reply = await call(app, 'GET', '/.well-known/jwks.json');
    expect(reply.status).toBe(200);
    const keys = reply.body.keys as Array<Record<string, string>>;
    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0]!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: (await signingKeyFromPem(pem)).kid });
    expect(createPublicKey({ key: keys[0]!, format: 'jwk' }).asymmetricKeyDetails?.modulusLength).toBe(2048);
    // The configured key is not written to the database.
    const db = await openTestDatabase(dbName);
    expect(await db.collection('signing_keys').countDocuments({ _id: 'access-token-signing-key' as never })).toBe(0);
    await db.close();
  });

  it('generates a key once, stores it, and a second instance on the same database publishes the same kid', async () => {
    const dbName = testDatabaseName('keys_gen');
    databases.push(dbName);
    const first = await start(dbName);
    const second = await start(dbName);
    const kid = await kidOf(first);
    expect(await kidOf(second)).toBe(kid);

    // A token from one instance is accepted by the other (a restart does not log anybody out).
    const session = await login(first, TEST_ADMIN.email, TEST_ADMIN.password);
    const me = await call(second, 'GET', '/users/me', { token: session.body.accessToken as string });
    expect(me.status).toBe(200);

    const db = await openTestDatabase(dbName);
    expect(await db.collection('signing_keys').countDocuments({ _id: 'access-token-signing-key' as never })).toBe(1);
    await db.close();
  });

  it('agrees on one key when several instances start at once on an empty database', async () => {
    const dbName = testDatabaseName('keys_race');
    databases.push(dbName);
    const instances = await Promise.all([start(dbName), start(dbName), start(dbName)]);
    const kids = await Promise.all(instances.map(kidOf));
    expect(new Set(kids).size).toBe(1);
  });

  it('publishes the keys of JWT_ADDITIONAL_PUBLIC_KEYS after its own, and accepts tokens they verify', async () => {
    const signing = rsaPrivateKeyPem();
    const [extra, other] = [TokenForge.generate(), TokenForge.generate()];
    const dbName = testDatabaseName('keys_extra');
    databases.push(dbName);
    const app = await start(dbName, {
      JWT_PRIVATE_KEY: signing,
      JWT_ADDITIONAL_PUBLIC_KEYS: `${extra.publicKeyPem}${other.publicKeyPem}`,
    });
    const keys = (await call(app, 'GET', '/.well-known/jwks.json')).body.keys as Array<Record<string, string>>;
    expect(keys.map((key) => key.kid)).toEqual([(await signingKeyFromPem(signing)).kid, extra.kid, other.kid]);
    expect(keys[1]).toEqual(extra.jwks.keys[0]);

    const { issued, forged } = await adminTokens(app, extra);
    expect(await statusOfUsersList(app, issued)).toBe(200);
    expect(await statusOfUsersList(app, forged!)).toBe(200);
    // A key nobody configured is still refused.
    expect(await statusOfUsersList(app, (await adminTokens(app, TokenForge.generate())).forged!)).toBe(401);
  });

  it('rotates JWT_PRIVATE_KEY replica by replica without refusing a valid token, then refuses the withdrawn key', async () => {
    const [old, next] = [rsaPrivateKeyPem(), rsaPrivateKeyPem()];
    const publicOf = (pem: string): string => TokenForge.fromPrivateKey(pem).publicKeyPem;
    const dbName = testDatabaseName('keys_rotate');
    databases.push(dbName);
    // Replicas on one database as the steps of docs/design.md ("Rotating the signing key") leave them. Each is
    // asked right after it starts: the apps of one process share Passport's one strategy, the last one's.
    const before = await start(dbName, { JWT_PRIVATE_KEY: old });
    const byOld = (await adminTokens(before)).issued;
    const signingNext = await start(dbName, { JWT_PRIVATE_KEY: next, JWT_ADDITIONAL_PUBLIC_KEYS: publicOf(old) });
    const byNext = (await adminTokens(signingNext)).issued;
    expect(byNext.split('.')[0]).not.toBe(byOld.split('.')[0]);
    expect(await statusOfUsersList(signingNext, byOld)).toBe(200);
    expect(await statusOfUsersList(signingNext, byNext)).toBe(200);
    // A replica not yet switched, but publishing the next key: it accepts its switched peers' tokens.
    const nextPublished = await start(dbName, { JWT_PRIVATE_KEY: old, JWT_ADDITIONAL_PUBLIC_KEYS: publicOf(next) });
    expect(await statusOfUsersList(nextPublished, byOld)).toBe(200);
    expect(await statusOfUsersList(nextPublished, byNext)).toBe(200);
    expect(await kidsOf(nextPublished)).toEqual([...(await kidsOf(signingNext))].reverse());
    // Once the old key is withdrawn, a token it signed is refused; the new key's are not.
    const after = await start(dbName, { JWT_PRIVATE_KEY: next });
    expect(await statusOfUsersList(after, byNext)).toBe(200);
    expect(await statusOfUsersList(after, byOld)).toBe(401);
  });
});
