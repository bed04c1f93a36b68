import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { TEST_DATABASE_PREFIX } from './database-prefix.js';

/**
 * A database name of the caller's own on the test server (from a label and a random suffix), so test files
 * and the servers they start can run in parallel without seeing each other's data. It names the run, which
 * drops its databases when it ends (global-setup.ts).
 */
export function testDatabaseName(label: string): string {
  const run = inject('testRunId');
  return `${TEST_DATABASE_PREFIX}${run}_${label.replace(/[^a-z0-9]/gi, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`;
}
