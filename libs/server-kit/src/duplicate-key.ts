/** The code MongoDB and FerretDB answer when a unique index refuses an insert ("E11000 duplicate key"). */
export const DUPLICATE_KEY_CODE = 11000;

/**
 * True when a unique index refused the write: every invariant of the platform is such an insert. FerretDB
 * does not say which index, so callers with several unique indexes find out by reading afterwards.
 */
export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY_CODE;
}

/** One document's refusal in an unordered write, as the server sent it: its place in the write, code and message. */
export interface WriteErrorEntry {
  index?: number;
  code?: number;
  errmsg?: string;
  [field: string]: unknown;
}

/**
 * The refusals, document by document, that an unordered write's error carries (the driver's MongoBulkWriteError:
 * `writeErrors`, a list or one, each a WriteError whose `err` is the server's entry), empty when it carries none
 * (the write failed as a whole, or it is no such error). Each caller judges the entries (which codes, an index).
 */
export function writeErrorEntries(error: unknown): WriteErrorEntry[] {
  if (typeof error !== 'object' || error === null) return [];
  const { writeErrors } = error as { writeErrors?: unknown };
  const list: unknown[] = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  return list.map((entry) => ((entry as { err?: WriteErrorEntry }).err ?? entry) as WriteErrorEntry);
}

/**
 * Which of the documents an unordered insert stored: the others a unique index refused (anything else
 * is thrown). One command for the whole list.
 */
export async function insertEach(insert: () => Promise<unknown>, count: number): Promise<boolean[]> {
  const stored = new Array<boolean>(count).fill(true);
  try {
    await insert();
  } catch (error) {
    const list = writeErrorEntries(error);
    if (list.length === 0 && count === 1 && isDuplicateKeyError(error)) return [false];
    if (list.length === 0 || list.some((entry) => entry.code !== DUPLICATE_KEY_CODE || entry.index === undefined)) throw error;
    for (const entry of list) stored[entry.index as number] = false;
  }
  return stored;
}
