/**
 * Why a nested value cannot be stored as a free-form field (an activity's attributes, an audit entry's changes),
 * or undefined when it can: keys that stores refuse or read as operators/paths, a `_bsontype` key (the BSON
 * encoder reads it as the type of a value it must then encode, and throws), arrays directly inside arrays
 * (FerretDB v1 refuses those), and numbers too large for a double.
 */
export function freeFormProblem(value: unknown, depth = 0, insideArray = false, path = ''): string | undefined {
  if (depth > 20) return 'must not nest deeper than 20 levels';
  if (Array.isArray(value)) {
    if (insideArray) return 'must not hold an array directly inside an array';
    for (const [index, element] of value.entries()) {
      const problem = freeFormProblem(element, depth + 1, true, `${path}[${index}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  // JSON has no infinity, but a number too large for a double (1e309) parses as one, which no store keeps.
  if (typeof value === 'number' && !Number.isFinite(value)) return 'must hold only finite numbers (at most about 1.8e308)';
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, nested] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (key === '_bsontype') return `must not hold a key named _bsontype (at ${at})`;
    if (key === '' || key.startsWith('$') || key.includes('.') || key.includes('\0')) {
      return 'keys (at any depth) must be non-empty, not start with $ and contain no dot';
    }
    const problem = freeFormProblem(nested, depth + 1, false, at);
    if (problem) return problem;
  }
  return undefined;
}
