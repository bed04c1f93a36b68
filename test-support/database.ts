import { randomBytes } from 'node:crypto';

/**
 * A database name of the caller's own on the test server (from a label and a random suffix), so test files
 * and the servers they start can run in parallel without seeing each other's data.
 */
export function testDatabaseName(label: string): string {
  return `t_${label.replace(/[^a-z0-9]/gi, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`;
}
