import { mongo } from 'mongoose';

/** The most items one write of GroupedWrites carries. */
export const GROUPED_WRITE_MAX = 256;

/**
 * What a write of several items says of each, in their order: undefined when it was written, else the
 * error that refused that item alone (the others were written). A write that fails as a whole throws.
 */
export type ItemErrors = ReadonlyArray<Error | undefined>;

/**
 * Group commit: items given while a write is under way wait for it to end, and then go in one write
 * together (at most `max` per write); an item given while none is under way is written at once. A caller's
 * promise settles when the write carrying its item did: a failed write fails every caller in it, and a write
 * that reports errors item by item (ItemErrors) fails only the callers of the items it refused. Alone, an
 * item costs one write as before; under a crowd, one write serves many.
 */
export class GroupedWrites<T> {
  private pending: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private writing = false;

  constructor(
    private readonly write: (items: T[]) => Promise<ItemErrors | void>,
    private readonly max = GROUPED_WRITE_MAX,
  ) {}

  add(item: T): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.pending.push({ item, resolve, reject }));
    if (!this.writing) void this.drain();
    return done;
  }

  private async drain(): Promise<void> {
    this.writing = true;
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
      this.writing = false;
    }
  }
}

/** The most documents one grouped insert carries (a claim's document is well under 2 KB). */
export const GROUPED_INSERT_MAX = 100;

/**
 * Single-document inserts into `collection`, grouped (GroupedWrites): one unordered insert command for the
 * documents given while the previous command was under way. Each caller learns what its own insert alone
 * would have told it: nothing when stored, else the error that refused its document. A document sent alone
 * (no insert under way: every insert outside a crowd) goes by the driver's `insertOne`, so its caller gets
 * exactly what it got before grouping: the same error classes, MongoDB's `keyPattern` and `keyValue` on a
 * duplicate key, the driver's retryable write. A document sent in a group is refused by a MongoServerError
 * built from its write error as the driver reports it, which has its code and message but, on MongoDB too,
 * no `keyPattern` (the driver's bulk write keeps only index, code, errmsg and errInfo of each server entry):
 * callers that tell the indexes apart handle it as they do FerretDB's refusals, which name no index. A unique
 * index decides each document on its own as it would a single insert: unordered, a refused document stops
 * none of the others (on FerretDB too). A command that fails as a whole (the store unreachable, a write
 * concern error) fails every caller in it, each of whose documents may or may not be stored, with the error a
 * single insert would have thrown: the driver wraps a grouped command's failure (a network error, no server
 * to select) in a MongoBulkWriteError, which does not say the store is unavailable (isStoreUnavailable), so
 * the error it wraps is what the callers get.
 *
 * On FerretDB an insert command costs about as much for 16 documents as for 4 single ones: a launch crowd's
 * claims and keys, recorded so, cost the store a fraction of their commands (see docs/benchmarks.md).
 */
export function groupedInserts<T extends mongo.Document>(
  collection: mongo.Collection<T>,
): GroupedWrites<mongo.OptionalUnlessRequiredId<T>> {
  return new GroupedWrites<mongo.OptionalUnlessRequiredId<T>>(async (docs) => {
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
      for (const entry of refused) errors[entry.index] = new mongo.MongoServerError(entry);
      return errors;
    }
  }, GROUPED_INSERT_MAX);
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

type RawWriteError = { index: number; code: number; errmsg?: string; [field: string]: unknown };

/**
 * The documents an unordered insert refused one by one (the driver's MongoBulkWriteError: each entry's raw
 * server answer), or undefined when the command failed as a whole (nothing to say per document: a write
 * concern error, a network error, any other).
 */
function writeErrorsOf(error: unknown): RawWriteError[] | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { writeErrors, writeConcernErrors } = error as { writeErrors?: unknown; writeConcernErrors?: unknown[] };
  if (writeConcernErrors && writeConcernErrors.length > 0) return undefined;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  if (list.length === 0) return undefined;
  const raw = list.map((entry) => (entry as { err?: RawWriteError }).err);
  return raw.every((entry) => entry !== undefined && typeof entry.index === 'number' && typeof entry.code === 'number')
    ? (raw as RawWriteError[])
    : undefined;
}
