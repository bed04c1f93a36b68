import 'reflect-metadata';
import type { KeyObject } from 'node:crypto';
import type { ExecutionContext } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { TokenForge } from '../../../test-support/tokens.js';
import { type KeyResolver, SigningKeysUnavailableError } from '@reward/server-kit/access-token';
import { DomainError } from '@reward/server-kit/errors';
import type { EventConfig } from '../config/event-config.js';
import { ServiceTokenGuard } from './service-token.guard.js';

const SERVICE_AUDIENCE = 'reward-platform-internal';
const forge = TokenForge.generate({ issuer: 'service-guard-issuer', audience: SERVICE_AUDIENCE });

/** The forge's key, or, while `down`, the auth server's keys cannot be fetched. */
class Keys implements KeyResolver {
  down = false;
  getKey(kid: string): Promise<KeyObject | undefined> {
    if (this.down) return Promise.reject(new SigningKeysUnavailableError('The keys that verify access tokens are unavailable'));
    return Promise.resolve(kid === forge.kid ? forge.publicKey : undefined);
  }
}

function guardWith(keys: KeyResolver): ServiceTokenGuard {
  const config = { jwt: { serviceAudience: SERVICE_AUDIENCE } } as EventConfig;
  return new ServiceTokenGuard({ issuer: forge.issuer, audience: 'reward-platform-users', keys }, config);
}

/** The guard's answer for a request carrying `authorization`: true, or the DomainError it threw. */
async function judge(guard: ServiceTokenGuard, authorization?: string): Promise<true | DomainError> {
  const request: { headers: Record<string, string | undefined>; service?: string } = { headers: { authorization } };
  const context = { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
  try {
    expect(await guard.canActivate(context)).toBe(true);
    expect(request.service).toBe('auth-server');
    return true;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
}

describe('ServiceTokenGuard', () => {
  const token = forge.sign({ sub: 'auth-server', roles: [] });

  it('admits the auth server with a service token', async () => {
    expect(await judge(guardWith(new Keys()), `Bearer ${token}`)).toBe(true);
  });

  it('answers 503 with Retry-After when the keys cannot be fetched: the token is not known to be bad', async () => {
    const keys = new Keys();
    keys.down = true;
    const refused = await judge(guardWith(keys), `Bearer ${token}`);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE', details: { retryAfterSeconds: 1 } });
    expect((refused as DomainError).message).toMatch(/^The keys that verify access tokens are unavailable/);
    keys.down = false;
    expect(await judge(guardWith(keys), `Bearer ${token}`)).toBe(true);
  });

  it("refuses with 401 a missing token, another key's, a player's audience; 403 a service that is not a caller", async () => {
    const guard = guardWith(new Keys());
    const missing = await judge(guard);
    expect(missing).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect((missing as DomainError).message).toBe('Missing service token');
    expect(await judge(guard, `Bearer ${forge.unknownKid({ sub: 'auth-server', roles: [] })}`)).toMatchObject({ status: 401 });
    const player = forge.sign({ sub: 'auth-server', roles: [] }, { audience: 'reward-platform-users' });
    expect(await judge(guard, `Bearer ${player}`)).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    const stranger = forge.sign({ sub: 'game-server', roles: [] });
    expect(await judge(guard, `Bearer ${stranger}`)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
  });
});
