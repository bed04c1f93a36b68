import { randomBytes } from 'node:crypto';
import { ModulesContainer } from '@nestjs/core';
import { getConnectionToken } from '@nestjs/mongoose';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Connection } from 'mongoose';
import { testDatabaseName } from '../../../test-support/database.js';
import { UNHURRIED_CLAIM_QUEUE } from '../../../test-support/event-env.js';
import { TestTokenIssuer } from '../../../test-support/token-issuer.js';
import { createEventServer, loadEventConfig } from '../server.js';
import { inject } from 'vitest';

export interface EventTestApp {
  app: NestFastifyApplication;
  issuer: TestTokenIssuer;
  /** A token for a fresh user id with these roles. */
  as(...roles: string[]): { id: string; token: string };
  request<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    options?: { token?: string; body?: unknown; raw?: string },
  ): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

export const newId = (): string => randomBytes(12).toString('hex');

/**
 * Another replica of `first`: the same database, and tokens from `first`'s issuer (one auth server signs for every
 * replica). `env` is its own settings (`first`'s are not copied).
 */
export async function startReplicaOf(
  first: EventTestApp,
  label: string,
  env: Record<string, string> = {},
): Promise<EventTestApp> {
  const dbName = first.app.get<Connection>(getConnectionToken()).name;
  return startEventTestApp(label, { ...env, EVENT_DB_NAME: dbName, AUTH_JWKS_URL: first.issuer.jwksUrl });
}

/** The event server on the real test database, with a stand-in auth server for its tokens. */
export async function startEventTestApp(label: string, env: Record<string, string> = {}): Promise<EventTestApp> {
  const issuer = await TestTokenIssuer.start();
  const app = await createEventServer(
    loadEventConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      MONGODB_URI: inject('mongoUri'),
      EVENT_DB_NAME: testDatabaseName(label),
      AUTH_JWKS_URL: issuer.jwksUrl,
      ...UNHURRIED_CLAIM_QUEUE,
      ...env,
    }),
  );
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    issuer,
    as(...roles) {
      const id = newId();
      return { id, token: issuer.token(id, roles) };
    },
    async request(method, url, options = {}) {
      const headers: Record<string, string> = {};
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let payload: string | undefined;
      if (options.raw !== undefined || options.body !== undefined) {
        headers['content-type'] = 'application/json';
        payload = options.raw ?? JSON.stringify(options.body);
      }
      const response = await app.inject({ method, url, headers, payload });
      return { status: response.statusCode, body: response.body ? JSON.parse(response.body) : undefined };
    },
    async close() {
      await closeWatched(app, label);
      await issuer.stop();
    },
  };
}

/**
 * Closes the app; while that takes more than 10 s, says every 10 s which lifecycle hooks have not returned
 * yet (a close that hangs then names its cause in the test's output instead of a bare hook timeout).
 */
async function closeWatched(app: NestFastifyApplication, label: string): Promise<void> {
  const pending = new Set<string>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.providers.values()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      for (const hook of ['onModuleDestroy', 'beforeApplicationShutdown', 'onApplicationShutdown']) {
        const original = instance[hook];
        if (typeof original !== 'function') continue;
        const name = `${String(wrapper.name)}.${hook}`;
        instance[hook] = async (...args: unknown[]) => {
          pending.add(name);
          try {
            return await (original as (...hookArgs: unknown[]) => unknown).apply(instance, args);
          } finally {
            pending.delete(name);
          }
        };
      }
    }
  }
  const started = Date.now();
  const watch = setInterval(() => {
    const hooks = [...pending].join(', ') || 'none (the HTTP server or the store connection)';
    console.error(`[${label}] closing for ${Date.now() - started} ms; waiting for ${hooks}`);
  }, 10_000);
  try {
    await app.close();
  } finally {
    clearInterval(watch);
  }
}
