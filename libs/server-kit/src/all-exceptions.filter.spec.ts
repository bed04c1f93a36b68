import 'reflect-metadata';
import { Controller, Get, Module, Res } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Public } from './auth.guards.js';
import { DomainError, tooManyRequests } from './errors.js';
import { createHttpApp } from './http-app.js';

@Controller()
class WaitController {
  /** A 503 whose wait a handler set as a header (as the claim route does), the error itself saying none. */
  @Public()
  @Get('header-only')
  headerOnly(@Res({ passthrough: true }) reply: FastifyReply): never {
    void reply.header('retry-after', '3');
    throw new DomainError(503, 'CLAIM_INTERRUPTED', 'interrupted');
  }

  @Public()
  @Get('body-only')
  bodyOnly(): never {
    throw tooManyRequests('attempts', 7);
  }

  @Public()
  @Get('no-wait')
  noWait(): never {
    throw new DomainError(409, 'CONFLICT', 'no wait to say');
  }
}

@Module({ controllers: [WaitController] })
class WaitModule {}

describe('AllExceptionsFilter: a wait is said in the header and in the body', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createHttpApp(WaitModule, { service: 'filter-spec', logLevel: 'silent' });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('copies a Retry-After header a handler set into the body', async () => {
    const reply = await app.inject({ method: 'GET', url: '/header-only' });
    expect(reply.statusCode).toBe(503);
    expect(reply.headers['retry-after']).toBe('3');
    expect(reply.json()).toMatchObject({ code: 'CLAIM_INTERRUPTED', retryAfterSeconds: 3 });
  });

  it("sends a body's retryAfterSeconds as Retry-After", async () => {
    const reply = await app.inject({ method: 'GET', url: '/body-only' });
    expect(reply.statusCode).toBe(429);
    expect(reply.headers['retry-after']).toBe('7');
    expect(reply.json()).toMatchObject({ code: 'TOO_MANY_REQUESTS', retryAfterSeconds: 7 });
  });

  it('adds neither to an answer that is not a wait', async () => {
    const reply = await app.inject({ method: 'GET', url: '/no-wait' });
    expect(reply.statusCode).toBe(409);
    expect(reply.headers['retry-after']).toBeUndefined();
    expect(reply.json()).not.toHaveProperty('retryAfterSeconds');
  });
});
