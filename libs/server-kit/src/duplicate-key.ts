/** The code MongoDB and FerretDB answer when a unique index refuses an insert ("E11000 duplicate key"). */
export const DUPLICATE_KEY_CODE = 11000;

/**
 * True when a unique index refused the write: every invariant of the platform is such an insert. FerretDB
 * does not say which index, so callers with several unique indexes find out by reading afterwards.
 */
export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY_CODE;
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
    type WriteError = { index?: number; code?: number };
    const writeErrors = (error as { writeErrors?: WriteError[] | WriteError }).writeErrors;
    const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
    if (list.length === 0 && count === 1 && isDuplicateKeyError(error)) return [false];
    if (list.length === 0 || list.some((entry) => entry.code !== DUPLICATE_KEY_CODE || entry.index === undefined)) throw error;
    for (const entry of list) stored[entry.index as number] = false;
  }
  return stored;
}
