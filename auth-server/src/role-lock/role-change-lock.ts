import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import { RoleChangeLockRepository } from './role-change-lock.repository.js';

/** The one mutex every role change holds: "is anyone else an ADMIN?" and the write happen under it. */
export const ADMIN_ROLES_MUTEX = 'admin-roles';
/** Far longer than a role change takes (a few store round trips); what a crashed holder can block at most. */
export const LEASE_MS = 10_000;
/** A holder stops before writing when less than this is left of its lease. */
const SAFETY_MS = 2_000;
/** How long a request waits for the mutex before answering 503. */
const WAIT_MS = 5_000;

export interface HeldLease {
  /** Throws (503) when the lease is about to run out: the work must not write after it may have lost the mutex. */
  assertHeld(): void;
}

/**
 * A lease mutex built only from inserts under a unique index, since conditional updates are not atomic on
 * our store (STYLE.md): acquire = insert `{_id: mutex}`, release = delete it. A lease a crashed holder left
 * behind expires; clearing it is itself decided by a unique insert (`<mutex>:takeover:<holder>`), so of all
 * the requests that see the same expired lease exactly one deletes it and none deletes a newer one.
 */
@Injectable()
export class RoleChangeLock {
  constructor(private readonly locks: RoleChangeLockRepository) {}

  async runExclusive<T>(work: (lease: HeldLease) => Promise<T>, mutex = ADMIN_ROLES_MUTEX): Promise<T> {
    const holder = randomUUID();
    const acquiredAt = await this.acquire(mutex, holder);
    const lease: HeldLease = {
      assertHeld: () => {
        if (Date.now() > acquiredAt + LEASE_MS - SAFETY_MS) throw busy();
      },
    };
    try {
      return await work(lease);
    } finally {
      await this.locks.deleteHeld(mutex, holder);
    }
  }

  private async acquire(mutex: string, holder: string): Promise<number> {
    const giveUpAt = Date.now() + WAIT_MS;
    for (let attempt = 0; ; attempt += 1) {
      const now = Date.now();
      if (await this.locks.tryInsert(mutex, { holder, expiresAt: new Date(now + LEASE_MS) })) return now;
      if (await this.clearIfExpired(mutex, holder)) continue;
      if (Date.now() >= giveUpAt) throw busy();
      // Role changes take milliseconds: a short, growing, jittered pause.
      await sleep(Math.min(5 * 2 ** Math.min(attempt, 5), 100) + Math.random() * 10);
    }
  }

  /**
   * Clears `key` when its lease has expired; true when it did or it was already gone. The right to delete an
   * expired lease is a unique insert of `<key>:takeover:<holder>` (whose own lease, should its winner crash
   * in between, expires and is cleared the same way), and the takeover record goes once the lease has.
   */
  private async clearIfExpired(key: string, holder: string, depth = 0): Promise<boolean> {
    const current = await this.locks.find(key);
    if (!current) return true;
    if (current.expiresAt.getTime() > Date.now() || depth > 2) return false;
    const takeover = `${key}:takeover:${current.holder}`;
    if (!(await this.locks.tryInsert(takeover, { holder, expiresAt: new Date(Date.now() + LEASE_MS) }))) {
      return this.clearIfExpired(takeover, holder, depth + 1);
    }
    await this.locks.deleteHeld(key, current.holder);
    await this.locks.deleteHeld(takeover, holder);
    return true;
  }
}

function busy(): DomainError {
  return new DomainError(503, CommonErrorCode.SERVICE_UNAVAILABLE, 'Another role change is in progress; try again', {
    retryAfterSeconds: 1,
  });
}
