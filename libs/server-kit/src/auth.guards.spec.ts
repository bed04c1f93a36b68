import 'reflect-metadata';
import type { KeyObject } from 'node:crypto';
import { request } from 'node:http';
import { Controller, Get, Global, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TokenForge } from '../../../test-support/tokens.js';
import { type KeyResolver, SigningKeysUnavailableError } from './access-token.js';
import { CURRENT_ACCESS_CHECK, type CurrentAccessCheck, CurrentUser, Public, Roles } from './auth.guards.js';
import { DomainError } from './errors.js';
import { createHttpApp } from './http-app.js';
import { JwtAuthModule } from './jwt-auth.module.js';
import type { AuthenticatedUser } from './roles.js';

const forge = TokenForge.generate({ issuer: 'guard-issuer', audience: 'guard-audience' });

/** The forge's key, counting how often a verification asked for it (once per RSA verification). */
class CountingKeys implements KeyResolver {
  lookups = 0;
  /** The auth server cannot be reached: the keys cannot be fetched. */
  down = false;
  getKey(kid: string): Promise<KeyObject | undefined> {
    if (this.down) return Promise.reject(new SigningKeysUnavailableError('The keys that verify access tokens are unavailable'));
    this.lookups += 1;
    return Promise.resolve(kid === forge.kid ? forge.publicKey : undefined);
  }
}

@Controller()
class ProbeController {
  @Get('me')
  me(@CurrentUser() user: AuthenticatedUser): AuthenticatedUser {
    // What a handler does with its caller stays its own: the next request's caller is a fresh copy.
    const answer = { ...user, roles: [...user.roles] };
    user.roles.push('ADMIN');
    return answer;
  }

  @Roles('OPERATOR')
  @Get('staff')
  staff(): { ok: true } {
    return { ok: true };
  }
}

describe('JwtAuthGuard', () => {
  const keys = new CountingKeys();
  let app: NestFastifyApplication;

  beforeAll(async () => {
    @Module({
      imports: [JwtAuthModule.forRootAsync({ useFactory: () => ({ issuer: forge.issuer, audience: forge.audience, keys }) })],
      controllers: [ProbeController],
    })
    class ProbeModule {}
    app = await createHttpApp(ProbeModule, { service: 'guard-spec', logLevel: 'silent' });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await app?.close();
  });

  const get = (url: string, authorization?: string) =>
    app.inject({ method: 'GET', url, headers: authorization === undefined ? {} : { authorization } });

  it('verifies a token once, then answers from what it verified, access version included', async () => {
    const token = forge.sign({ sub: '64b7f0c2a1b2c3d4e5f60719', roles: ['USER'], av: 3 });
    const before = keys.lookups;
    for (let i = 0; i < 3; i++) {
      const reply = await get('/me', `Bearer ${token}`);
      expect(reply.statusCode).toBe(200);
      expect(reply.json()).toEqual({ id: '64b7f0c2a1b2c3d4e5f60719', roles: ['USER'], accessVersion: 3 });
    }
    expect(keys.lookups - before).toBe(1);
  });

  it('answers 503 with Retry-After (header and body) when the keys cannot be fetched: the token is not known to be bad', async () => {
    keys.down = true;
    try {
      const reply = await get('/me', `Bearer ${forge.sign({ roles: ['USER'] })}`);
      expect(reply.statusCode).toBe(503);
      expect(reply.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 1 });
      expect(reply.headers['retry-after']).toBe('1');
    } finally {
      keys.down = false;
    }
  });

  it('still judges the roles of a remembered token on every request', async () => {
    const token = forge.sign({ roles: ['USER'] });
    expect((await get('/me', `Bearer ${token}`)).statusCode).toBe(200);
    const refused = await get('/staff', `Bearer ${token}`);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('verifies a token that differs in any byte from scratch, and remembers no refused one', async () => {
    const token = forge.sign({ roles: ['USER'] });
    expect((await get('/me', `Bearer ${token}`)).statusCode).toBe(200);
    const forgeries = [
      TokenForge.tampered(token, { roles: ['ADMIN'] }),
      // One character of the signature changed (well inside it: the last one carries padding bits).
      `${token.slice(0, -10)}${token.at(-10) === 'A' ? 'B' : 'A'}${token.slice(-9)}`,
      forge.expired({ roles: ['USER'] }),
      forge.hmacWithPublicKey({ roles: ['ADMIN'] }),
      forge.unsigned({ roles: ['ADMIN'] }),
    ];
    for (const forged of forgeries) {
      // Twice each: a refusal is not remembered either way.
      for (let i = 0; i < 2; i++) {
        const reply = await get('/staff', `Bearer ${forged}`);
        expect(reply.statusCode).toBe(401);
        expect(reply.json()).toMatchObject({ code: 'UNAUTHORIZED' });
      }
    }
    expect((await get('/me')).statusCode).toBe(401);
  });

  it('refuses a request that gives Authorization twice, whichever comes first (Node reads only the first)', async () => {
    if (!app.getHttpServer().listening) await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = new URL(await app.getUrl());
    const twice = (first: string, second: string) =>
      new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
        const outgoing = request(
          {
            host: '127.0.0.1',
            port,
            path: '/me',
            headers: ['host', `127.0.0.1:${port}`, 'authorization', first, 'authorization', second],
          },
          (reply) => {
            let text = '';
            reply.on('data', (chunk: Buffer) => (text += chunk.toString()));
            reply.on('end', () => resolve({ status: reply.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
          },
        );
        outgoing.on('error', reject);
        outgoing.end();
      });
    const token = `Bearer ${forge.sign({ roles: ['USER'] })}`;
    // Remembered first: the second request must not be answered from what the first verified either.
    expect((await get('/me', token)).statusCode).toBe(200);
    for (const [first, second] of [
      [token, 'Bearer abc.def.ghi'],
      [token, token],
    ] as const) {
      const reply = await twice(first, second);
      expect(reply.status).toBe(401);
      expect(reply.body).toMatchObject({
        code: 'UNAUTHORIZED',
        message: 'Authorization must be given once (one header, one token)',
      });
    }
  });

  it('forgets a token when it expires', async () => {
    const token = forge.sign({ roles: ['USER'] }, { expiresInSeconds: 60 });
    expect((await get('/me', `Bearer ${token}`)).statusCode).toBe(200);
    const exp = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).exp as number;
    // The clock (read by the verifier and the cache alike) moved past the token's exp.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(exp * 1000 + 1);
      const reply = await get('/me', `Bearer ${token}`);
      expect(reply.statusCode).toBe(401);
      expect(reply.json().message).toMatch(/expired/i);
    } finally {
      vi.useRealTimers();
    }
  });

  it('answers each request on one keep-alive connection with its own caller', async () => {
    if (!app.getHttpServer().listening) await app.listen({ host: '127.0.0.1', port: 0 });
    const pool = new Pool(await app.getUrl(), { connections: 1 });
    try {
      const [a, b] = ['64b7f0c2a1b2c3d4e5f6071a', '64b7f0c2a1b2c3d4e5f6071b'];
      const tokens = { [a]: forge.sign({ sub: a, roles: ['USER'] }), [b]: forge.sign({ sub: b, roles: ['OPERATOR'] }) };
      const before = keys.lookups;
      for (const caller of [a, b, a, b, a]) {
        const reply = await pool.request({ method: 'GET', path: '/me', headers: { authorization: `Bearer ${tokens[caller]}` } });
        expect(reply.statusCode).toBe(200);
        expect(((await reply.body.json()) as AuthenticatedUser).id).toBe(caller);
      }
      // One verification each; the other three answered from the cache, on the same connection.
      expect(keys.lookups - before).toBe(2);
    } finally {
      await pool.close();
    }
  });
});

/** A base controller whose handler two controllers inherit under different class-level roles. */
class InheritedProbe {
  @Get('inherited')
  inherited(): { ok: true } {
    return { ok: true };
  }
}

@Roles('AUDITOR')
@Controller('auditors')
class AuditorsController extends InheritedProbe {
  @Get('any')
  any(): { ok: true } {
    return { ok: true };
  }

  @Roles('USER')
  @Get('players')
  players(): { ok: true } {
    return { ok: true };
  }

  @Public()
  @Get('open')
  open(): { ok: true } {
    return { ok: true };
  }
}

@Roles('OPERATOR')
@Controller('operators')
class OperatorsController extends InheritedProbe {}

describe('RolesGuard', () => {
  const keys = new CountingKeys();
  /** Callers the app's current-state check refuses, and whether it answers through a promise. */
  const refused = new Set<string>();
  let asynchronous = false;
  const checked: string[] = [];
  let app: NestFastifyApplication;

  beforeAll(async () => {
    const check: CurrentAccessCheck = {
      check(user) {
        checked.push(user.id);
        const judge = (): void => {
          if (refused.has(user.id)) throw new DomainError(401, 'STALE', 'refused by the current state');
        };
        if (asynchronous) return Promise.resolve().then(judge);
        judge();
      },
    };
    @Global()
    @Module({ providers: [{ provide: CURRENT_ACCESS_CHECK, useValue: check }], exports: [CURRENT_ACCESS_CHECK] })
    class CheckModule {}
    @Module({
      imports: [
        CheckModule,
        JwtAuthModule.forRootAsync({ useFactory: () => ({ issuer: forge.issuer, audience: forge.audience, keys }) }),
      ],
      controllers: [AuditorsController, OperatorsController],
    })
    class ProbeModule {}
    app = await createHttpApp(ProbeModule, { service: 'roles-spec', logLevel: 'silent' });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await app?.close();
  });

  const statusOf = async (url: string, roles?: string[], sub = '64b7f0c2a1b2c3d4e5f60720'): Promise<number> => {
    const headers = roles === undefined ? {} : { authorization: `Bearer ${forge.sign({ sub, roles })}` };
    return (await app.inject({ method: 'GET', url, headers })).statusCode;
  };

  it('judges each route by its own decorators, the handler over its class, however often it is asked', async () => {
    for (let round = 0; round < 3; round++) {
      expect(await statusOf('/auditors/any', ['AUDITOR'])).toBe(200);
      expect(await statusOf('/auditors/any', ['USER'])).toBe(403);
      expect(await statusOf('/auditors/players', ['USER'])).toBe(200);
      expect(await statusOf('/auditors/players', ['AUDITOR'])).toBe(403);
      expect(await statusOf('/auditors/open')).toBe(200);
      expect(await statusOf('/auditors/any')).toBe(401);
      // One handler, two classes: each class's roles.
      expect(await statusOf('/auditors/inherited', ['AUDITOR'])).toBe(200);
      expect(await statusOf('/auditors/inherited', ['OPERATOR'])).toBe(403);
      expect(await statusOf('/operators/inherited', ['OPERATOR'])).toBe(200);
      expect(await statusOf('/operators/inherited', ['AUDITOR'])).toBe(403);
    }
  });

  it("makes the app's current-state check last, for every route with a caller, answered or through a promise", async () => {
    const stale = '64b7f0c2a1b2c3d4e5f60721';
    refused.add(stale);
    try {
      for (const through of [false, true]) {
        asynchronous = through;
        checked.length = 0;
        expect(await statusOf('/auditors/any', ['AUDITOR'], stale)).toBe(401);
        expect(await statusOf('/auditors/players', ['USER'], stale)).toBe(401);
        expect(await statusOf('/auditors/players', ['USER'])).toBe(200);
        // Not for a caller the roles refuse already (403), nor on a public route.
        expect(await statusOf('/auditors/any', ['USER'], stale)).toBe(403);
        expect(await statusOf('/auditors/open', ['AUDITOR'], stale)).toBe(200);
        expect(checked).toEqual([stale, stale, '64b7f0c2a1b2c3d4e5f60720']);
      }
    } finally {
      refused.clear();
      asynchronous = false;
    }
  });
});
