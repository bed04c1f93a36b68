/** MongoDB's (and FerretDB's) "E11000 duplicate key": a unique index refused the insert. */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}
