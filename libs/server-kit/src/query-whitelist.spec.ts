import 'reflect-metadata';
import { type CanActivate, Controller, Get, Module, Param, Post, Query, UseGuards } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsOptional, IsString } from 'class-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from './errors.js';
import { createHttpApp } from './http-app.js';
import { AnyQuery } from './query-whitelist.js';

class FilterQuery {
  @IsOptional()
  @IsString()
  status?: string;
}

class Forbidden implements CanActivate {
  canActivate(): boolean {
    throw new DomainError(403, 'FORBIDDEN', 'no');
  }
}

@Controller('things')
class ThingsController {
  @Get()
  list(@Query() query: FilterQuery): object {
    return { status: query.status ?? null };
  }

  @Get(':id')
  one(@Param('id') id: string): object {
    return { id };
  }

  @Post(':id/claims')
  claim(@Param('id') id: string): object {
    return { claimed: id };
  }

  @Get('-/forbidden')
  @UseGuards(Forbidden)
  forbidden(): object {
    return {};
  }

  @Get('-/probe')
  @AnyQuery()
  probe(): object {
    return { up: true };
  }
}

@AnyQuery()
@Controller('open')
class OpenController {
  @Get()
  open(): object {
    return { open: true };
  }
}

@Module({ controllers: [ThingsController, OpenController] })
class ThingsModule {}

describe('QueryWhitelistInterceptor (createHttpApp)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await createHttpApp(ThingsModule, { service: 'query-spec', logLevel: 'silent' });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('refuses a query parameter on a route that takes none, naming each, as the whitelist does', async () => {
    const get = await app.inject({ method: 'GET', url: '/things/1?status=ACTIVE&evnetId=2' });
    expect(get.statusCode).toBe(400);
    expect(get.json()).toMatchObject({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: ['status: property status should not exist', 'evnetId: property evnetId should not exist'],
    });
    const post = await app.inject({ method: 'POST', url: '/things/1/claims?x', payload: {} });
    expect(post.statusCode).toBe(400);
    expect(post.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: ['x: property x should not exist'] });
    const emptyName = await app.inject({ method: 'GET', url: '/things/1?=1' });
    expect(emptyName.statusCode).toBe(400);
    expect(emptyName.json()).toMatchObject({ message: ['(empty name): property (empty name) should not exist'] });
  });

  it('answers as before without a query, or with an empty one', async () => {
    expect((await app.inject({ method: 'GET', url: '/things/1' })).json()).toEqual({ id: '1' });
    expect((await app.inject({ method: 'GET', url: '/things/1?' })).json()).toEqual({ id: '1' });
    const post = await app.inject({ method: 'POST', url: '/things/1/claims', payload: {} });
    expect(post.statusCode).toBe(201);
  });

  it("leaves a route that takes a query to its DTO's whitelist", async () => {
    expect((await app.inject({ method: 'GET', url: '/things?status=ACTIVE' })).json()).toEqual({ status: 'ACTIVE' });
    const unknown = await app.inject({ method: 'GET', url: '/things?foo=1' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: ['foo: property foo should not exist'] });
  });

  it('refuses a parameter given twice with one message naming it', async () => {
    const twice = await app.inject({ method: 'GET', url: '/things?status=A&status=B' });
    expect(twice.statusCode).toBe(400);
    expect(twice.json()).toMatchObject({ code: 'VALIDATION_FAILED', message: ['status: given 2 times; give it once'] });
  });

  it('lets the guards answer first, and ignores the query where a route or its controller says so', async () => {
    expect((await app.inject({ method: 'GET', url: '/things/-/forbidden?x=1' })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/things/-/probe?cache=1' })).json()).toEqual({ up: true });
    expect((await app.inject({ method: 'GET', url: '/open?cache=1' })).json()).toEqual({ open: true });
  });
});
