// The store a bench runs on: MONGODB_URI when set, otherwise an embedded MongoDB (mongodb-memory-server)
// that the bench stops when it is done.
export async function benchStore() {
  if (process.env.MONGODB_URI) return { uri: process.env.MONGODB_URI, embedded: false, stop: async () => {} };
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  const server = await MongoMemoryServer.create();
  return { uri: server.getUri(), embedded: true, stop: () => server.stop() };
}
