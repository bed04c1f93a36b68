import { describe, expect, it } from 'vitest';
import { freeFormProblem } from './free-form.rules.js';

describe('free-form rules', () => {
  it('finds what a store would refuse at any depth', () => {
    expect(freeFormProblem({ questId: 'Q', stage: { boss: 'ok' }, list: [{ a: 1 }, 2, [3].length] })).toBeUndefined();
    expect(freeFormProblem({ 'a.b': 1 })).toMatch(/keys/);
    expect(freeFormProblem({ nested: { $gt: 1 } })).toMatch(/keys/);
    expect(freeFormProblem({ list: [{ 'x.y': 1 }] })).toMatch(/keys/);
    expect(freeFormProblem({ '': 1 })).toMatch(/keys/);
    expect(freeFormProblem({ grid: [[false]] })).toMatch(/array directly inside an array/);
    expect(freeFormProblem({ grid: [{ row: [1, 2] }] })).toBeUndefined();
    // 1e309 in a JSON body parses as Infinity, which FerretDB refused after the batch's other items were written.
    expect(freeFormProblem(JSON.parse('{"score": 1e309}'))).toMatch(/finite numbers/);
    expect(freeFormProblem({ list: [{ low: -Infinity }] })).toMatch(/finite numbers/);
    expect(freeFormProblem({ big: 1.7e308, small: -5e-324 })).toBeUndefined();
  });

  it('refuses a _bsontype key at any depth, naming where (the BSON encoder throws on it)', () => {
    expect(freeFormProblem({ _bsontype: 'x' })).toBe('must not hold a key named _bsontype (at _bsontype)');
    expect(freeFormProblem({ a: { _bsontype: 'ObjectId' } })).toBe('must not hold a key named _bsontype (at a._bsontype)');
    expect(freeFormProblem({ list: [1, { _bsontype: 1 }] })).toBe('must not hold a key named _bsontype (at list[1]._bsontype)');
    expect(freeFormProblem({ _bsontypes: 'x', bsontype: 1, _BSONTYPE: 2 })).toBeUndefined();
  });
});
