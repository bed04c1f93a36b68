import { mongo } from 'mongoose';
import { vi } from 'vitest';
import { AuditLogRepository } from '../audit/audit-log.repository.js';
import type { EventTestApp } from './event-test-app.js';

/**
 * The next audit write of `action` on `t` fails as a store gone away does; every other write goes on (the spies are
 * undone by `vi.restoreAllMocks()`).
 */
export function failNextAuditOf(t: EventTestApp, action: string): void {
  const repository = t.app.get(AuditLogRepository);
  const unavailable = () => new mongo.MongoNetworkError('connection reset (injected)');
  let failed = false;
  /** `write` as it is, but for the first entry of `action`, which fails. */
  const failingFirst =
    <E extends { action: string }, R>(write: (entry: E) => Promise<R>) =>
    async (entry: E): Promise<R> => {
      if (!failed && entry.action === action) {
        failed = true;
        throw unavailable();
      }
      return write(entry);
    };
  vi.spyOn(repository, 'insert').mockImplementation(failingFirst(repository.insert.bind(repository)));
  vi.spyOn(repository, 'insertOnce').mockImplementation(failingFirst(repository.insertOnce.bind(repository)));
}
