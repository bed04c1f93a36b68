import { mongo } from 'mongoose';
import { DUPLICATE_KEY_CODE, type WriteErrorEntry, writeErrorEntries } from '@reward/server-kit/duplicate-key';

/** The most items one write of GroupedWrites carries. */
export const GROUPED_WRITE_MAX = 256;

/**
 * What a write of several items says of each, in their order: undefined when it was written, else the
 * error that refused that item alone (the others were written). A write that fails as a whole throws.
 */
export type ItemErrors = ReadonlyArray<Error | undefined>;

/**
 * Group commit: items given while every lane's write is under way wait for one to end, and then go in one
 * write together (at most `max` per write); an item given while a lane is free is written at once. A caller's
 * promise settles when the write carrying its item did: a failed write fails every caller in it, and a write
 * that reports errors item by item (ItemErrors) fails only the callers of the items it refused. Alone, an
 * item costs one write as before; under a crowd, one write serves many. `lanes` (default 1): how many writes
 * may be under way at once; with more than one, a write that hangs (one dead connection of the pool) holds
 * only the items it carries, the others going on through the other lanes.
 */
export class GroupedWrites<T> {
  private pending: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** Lanes with a write under way. */
  private writing = 0;

  constructor(
    private readonly write: (items: T[]) => Promise<ItemErrors | void>,
    private readonly max = GROUPED_WRITE_MAX,
    private readonly lanes = 1,
  ) {}

  add(item: T): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.pending.push({ item, resolve, reject }));
    if (this.writing < this.lanes) void this.drain();
    return done;
  }

  /** One lane: writes what is waiting, a group at a time, until nothing is. */
  private async drain(): Promise<void> {
    this.writing++;
    try {
      while (this.pending.length > 0) {
        const group = this.pending.splice(0, this.max);
        try {
          const errors = await this.write(group.map(({ item }) => item));
          group.forEach(({ resolve, reject }, index) => {
            const error = errors?.[index];
            if (error) reject(error);
            else resolve();
          });
        } catch (error) {
          for (const { reject } of group) reject(error);
        }
      }
    } finally {
      this.writing--;
    }
  }
}

/** The most documents one grouped insert carries (a claim's document is well under 2 KB). */
export const GROUPED_INSERT_MAX = 100;

/**
 * Insert commands under way at once per collection and process: one hanging (a connection the network
 * dropped without a word, found dead only by TCP keepalive minutes later) holds only its own documents,
 * the claims given meanwhile going by the other. On FerretDB two lanes of a crowd stored 5,200-6,000
 * documents/s against 6,700-7,300 with one (the driver alone, 16 in flight).
 */
export const GROUPED_INSERT_LANES = 2;

/**
 * Single-document inserts into `collection`, grouped (GroupedWrites, `lanes` commands under way at once): one
 * unordered insert command for the documents given while every lane had one under way. Each caller learns
 * what its own insert alone would have told it: nothing when stored, else the error that refused its
 * document. A document sent alone (a lane free: every insert outside a crowd) goes by the driver's
 * `insertOne`, so its caller gets exactly what it got before grouping: the same error classes, MongoDB's
 * `keyPattern` and `keyValue` on a duplicate key, the driver's retryable write. A document sent in a group is
 * refused by a MongoServerError built from its write error as the driver reports it: its code and message,
 * and the `keyPattern` read from the index name in MongoDB's message (withKeyPattern: the driver's bulk write
 * keeps only index, code, errmsg and errInfo of each server entry); FerretDB names no index, and callers that
 * tell the indexes apart handle that as they always did there. A unique index decides each document on its
 * own as it would a single insert: unordered, a refused document stops none of the others (on FerretDB too).
 * A command that fails as a whole (the store unreachable, a write concern error) fails every caller in it,
 * each of whose documents may or may not be stored, with the error a single insert would have thrown: the
 * driver wraps a grouped command's failure (a network error, no server to select) in a MongoBulkWriteError,
 * which does not say the store is unavailable (isStoreUnavailable), so the error it wraps is what the callers
 * get.
 *
 * On FerretDB an insert command costs about as much for 16 documents as for 4 single ones: a launch crowd's
 * claims and keys, recorded so, cost the store a fraction of their commands (see docs/benchmarks.md).
 */
export function groupedInserts<T extends mongo.Document>(
  collection: mongo.Collection<T>,
  lanes = GROUPED_INSERT_LANES,
): GroupedWrites<mongo.OptionalUnlessRequiredId<T>> {
  return new GroupedWrites<mongo.OptionalUnlessRequiredId<T>>(
    async (docs) => {
      if (docs.length === 1) {
        await collection.insertOne(docs[0]!);
        return undefined;
      }
      try {
        await collection.insertMany(docs, { ordered: false });
        return undefined;
      } catch (error) {
        const refused = writeErrorsOf(error);
        if (!refused) throw unwrapped(error);
        const errors: (Error | undefined)[] = new Array(docs.length).fill(undefined);
        for (const entry of refused) errors[entry.index] = new mongo.MongoServerError(withKeyPattern(entry));
        return errors;
      }
    },
    GROUPED_INSERT_MAX,
    lanes,
  );
}

/**
 * The driver's own error that a bulk write's MongoBulkWriteError of no write errors wraps (it keeps it as
 * `errorResponse`): a MongoNetworkError, a MongoServerSelectionError, a pool cleared... as insertOne throws
 * them; else the error itself (a server's answer is copied onto it, code and labels included).
 */
function unwrapped(error: unknown): unknown {
  if (!(error instanceof Error) || error.name !== 'MongoBulkWriteError') return error;
  const { errorResponse, writeErrors } = error as Error & { errorResponse?: unknown; writeErrors?: unknown };
  if (Array.isArray(writeErrors) && writeErrors.length > 0) return error;
  return errorResponse instanceof Error ? errorResponse : error;
}

/**
 * A grouped write error with the `keyPattern` of the index that refused it when the store named one in its
 * message (MongoDB: `E11000 duplicate key error collection: db.claims index: slotKey_1 dup key: {...}`): the
 * driver's bulk write keeps only index, code, errmsg and errInfo of each entry, and a caller telling indexes
 * apart (ClaimRepository.insert) would read the store to learn which. FerretDB names none: left as it is.
 */
export function withKeyPattern(entry: RawWriteError): RawWriteError {
  if (entry.keyPattern !== undefined || entry.code !== DUPLICATE_KEY_CODE || typeof entry.errmsg !== 'string') return entry;
  const name = / index: (\S+) dup key/.exec(entry.errmsg)?.[1];
  const keyPattern = name === undefined ? undefined : keyPatternOfIndexName(name);
  return keyPattern ? { ...entry, keyPattern } : entry;
}

/**
 * The key of an index from its default name (`slotKey_1`, `userId_1_key_1`, `_id_`), undefined for a name
 * that is not one (given by hand).
 */
function keyPatternOfIndexName(name: string): Record<string, number> | undefined {
  if (name === '_id_') return { _id: 1 };
  const keyPattern: Record<string, number> = {};
  const part = /(.+?)_(-?1)(?:_|$)/gy;
  let match: RegExpExecArray | null;
  let end = 0;
  while ((match = part.exec(name)) !== null) {
    keyPattern[match[1]!] = Number(match[2]);
    end = part.lastIndex;
  }
  return end === name.length && Object.keys(keyPattern).length > 0 ? keyPattern : undefined;
}

type RawWriteError = WriteErrorEntry & { index: number; code: number };

/**
 * The documents an unordered insert refused one by one (the driver's MongoBulkWriteError: each entry's raw
 * server answer), or undefined when the command failed as a whole (nothing to say per document: a write
 * concern error, a network error, any other).
 */
function writeErrorsOf(error: unknown): RawWriteError[] | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { writeConcernErrors } = error as { writeConcernErrors?: unknown[] };
  if (writeConcernErrors && writeConcernErrors.length > 0) return undefined;
  const entries = writeErrorEntries(error);
  if (entries.length === 0) return undefined;
  return entries.every((entry) => typeof entry.index === 'number' && typeof entry.code === 'number')
    ? (entries as RawWriteError[])
    : undefined;
}
