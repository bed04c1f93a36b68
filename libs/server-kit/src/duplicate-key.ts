/** The code MongoDB and FerretDB answer when a unique index refuses an insert ("E11000 duplicate key"). */
export const DUPLICATE_KEY_CODE = 11000;

/**
 * True when a unique index refused the write: every invariant of the platform is such an insert. FerretDB
 * does not say which index, so callers with several unique indexes find out by reading afterwards.
 */
export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY_CODE;
}
