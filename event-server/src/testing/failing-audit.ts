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
  const insert = repository.insert.bind(repository);
  const insertOnce = repository.insertOnce.bind(repository);
  vi.spyOn(repository, 'insert').mockImplementation(async (entry) => {
    if (!failed && entry.action === action) {
      failed = true;
      throw unavailable();
    }
    return insert(entry);
  });
  vi.spyOn(repository, 'insertOnce').mockImplementation(async (entry) => {
    if (!failed && entry.action === action) {
      failed = true;
      throw unavailable();
    }
    return insertOnce(entry);
  });
}
