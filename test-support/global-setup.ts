import type { TestProject } from 'vitest/node';

// Every test talks to a real MongoDB wire-protocol server: the one MONGODB_URI names (FerretDB in CI),
// otherwise a real mongod started by mongodb-memory-server (needs internet on first use to fetch it).
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.MONGODB_URI;
  if (given) {
    project.provide('mongoUri', given);
    return async () => {};
  }
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  const server = await MongoMemoryServer.create();
  project.provide('mongoUri', server.getUri());
  return async () => {
    await server.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
  }
}
