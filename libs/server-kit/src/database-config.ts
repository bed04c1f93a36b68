import { mongo } from 'mongoose';
import type { EnvReader } from './env.js';

/**
 * The database a server owns: `MONGODB_URI` names the server, `<PREFIX>_DB_NAME` the database.
 *
 * The URI is read by the driver's own parser here, at boot (constructing a client connects nothing): a URI
 * it refuses (no `mongodb://`, an unknown option, an `@` in a password not written `%40`) is a setting to
 * fix, said once with the variable's name and exit code 78, not a store to retry connecting to for a minute
 * as if it did not answer. The driver's reasons never quote the URI, so a password stays out of the log.
 */
export function readDatabase(reader: EnvReader, prefix: string, defaultName: string): { uri: string; dbName: string } {
  const uri = reader.optionalString('MONGODB_URI') ?? 'mongodb://127.0.0.1:27017/';
  try {
    void new mongo.MongoClient(uri);
  } catch (error) {
    reader.problem(`MONGODB_URI is malformed: ${(error as Error).message}`);
  }
  return {
    uri,
    dbName: reader.string(`${prefix}_DB_NAME`, { default: defaultName, pattern: /^[A-Za-z0-9_-]{1,63}$/ }),
  };
}
