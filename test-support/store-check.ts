import mongoose from 'mongoose';
import { shownMongoUri } from '../scripts/mongo-uri.js';

/**
 * Resolves once the server MONGODB_URI names answers a ping (within `timeoutMs`); otherwise rejects with an
 * error that names the URI, the driver's reason and what to do, as `npm start` does. Without it a stale
 * MONGODB_URI (scripts/ferretdb-store.sh picks a new port at every start) let every test file time out in
 * its first hook, a minute each, and the run say "Hook timed out" for each without naming the database.
 */
export async function checkStore(uri: string, timeoutMs = 10_000): Promise<void> {
  const shown = shownMongoUri(uri);
  let connection: mongoose.Connection;
  try {
    connection = mongoose.createConnection(uri, { serverSelectionTimeoutMS: timeoutMs });
  } catch (error) {
    throw new Error(`MONGODB_URI=${shown} is malformed: ${(error as Error).message}`);
  }
  try {
    await connection.asPromise();
    await connection.db?.admin().command({ ping: 1 });
  } catch (error) {
    const reason = (error as Error).message;
    throw new Error(
      /Invalid scheme|URI|malformed|parse/i.test(reason) && !/ECONN|timed out|Server selection/i.test(reason)
        ? `MONGODB_URI=${shown} is malformed: ${reason}`
        : `MONGODB_URI=${shown} does not answer: ${reason}\n` +
            'start a MongoDB (or FerretDB) there, or set MONGODB_URI to one that runs, and run the tests again ' +
            '(`bash scripts/ferretdb-store.sh` prints a new MONGODB_URI each time it starts; unset, the tests start a mongod of their own)',
    );
  } finally {
    await connection.close().catch(() => undefined);
  }
}
