import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import type { TestProject } from 'vitest/node';
import { TEST_DATABASE_PREFIX } from './database-prefix.js';
import { checkStore } from './store-check.js';

// Every test talks to a real MongoDB wire-protocol server: the one MONGODB_URI names (FerretDB in CI),
// otherwise a real mongod started by mongodb-memory-server (needs internet on first use to fetch it).
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Every database this run makes is named after it (testDatabaseName), so that the run drops them all when
  // it ends and nothing else: a developer's own MongoDB keeps no test databases, and a run beside it keeps its own.
  const runId = randomBytes(3).toString('hex');
  project.provide('testRunId', runId);
  // Blank is unset, and the value is taken trimmed, as `npm start` and the servers read it.
  const given = (process.env.MONGODB_URI ?? '').trim();
  if (given) {
    // Told at once, as `npm start` does, rather than by every test file's first hook timing out.
    await checkStore(given);
    project.provide('mongoUri', given);
    return () => dropRunDatabases(given, runId);
  }
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  const server = await MongoMemoryServer.create().catch((error: unknown) => {
    throw new Error(
      `MONGODB_URI is not set and no mongod could be started for the tests: ${(error as Error).message}\n` +
        '(the first run downloads a mongod, which needs the internet; without it, `bash scripts/ferretdb-store.sh` ' +
        'builds and starts a FerretDB and prints the MONGODB_URI to run the tests with)',
    );
  });
  project.provide('mongoUri', server.getUri());
  return async () => {
    await server.stop();
  };
}

async function dropRunDatabases(uri: string, runId: string): Promise<void> {
  const prefix = `${TEST_DATABASE_PREFIX}${runId}_`;
  const connection = mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5_000 });
  try {
    await connection.asPromise();
    const { databases } = await connection.listDatabases();
    const ours = databases.map((database) => database.name).filter((name) => name.startsWith(prefix));
    for (const name of ours) await connection.useDb(name, { useCache: false }).dropDatabase();
  } catch (error) {
    // The results stand either way; what is left is named after the run and can be dropped by hand.
    console.warn(`test databases ${prefix}* not dropped: ${(error as Error).message}`);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    /** Names this run's databases (testDatabaseName); they are dropped when the run ends. */
    testRunId: string;
  }
}
