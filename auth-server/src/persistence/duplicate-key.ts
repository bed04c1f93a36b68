/**
 * MongoDB and FerretDB both refuse an insert that breaks a unique index with code 11000. FerretDB does
 * not say which index, so callers that have several unique indexes find out by reading afterwards.
 */
export function isDuplicateKeyError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}
