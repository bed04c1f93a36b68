import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
/** The test server's URI with a database name of its own, so test files can run in parallel. */
export function testDatabaseUri(label) {
  const base = new URL(inject('mongoUri'));
  const name = `t_${label.replace(/[^a-z0-9]/gi, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  base.pathname = `/${name}`;
  return base.toString();
}
export function testDatabaseName(label) {
  return new URL(testDatabaseUri(label)).pathname.slice(1);
}
//# sourceMappingURL=database.js.map
