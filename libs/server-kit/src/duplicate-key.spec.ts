import { describe, expect, it } from 'vitest';
import { insertEach, writeErrorEntries } from './duplicate-key.js';

describe('writeErrorEntries', () => {
  it("reads the server's entries of a bulk write's write errors, a list or one", () => {
    const entry = { index: 2, code: 11000, errmsg: 'E11000 duplicate key' };
    expect(writeErrorEntries({ writeErrors: [{ err: entry }] })).toEqual([entry]);
    expect(writeErrorEntries({ writeErrors: { err: entry } })).toEqual([entry]);
  });

  it('is empty for an error that carries none', () => {
    expect(writeErrorEntries(new Error('connection closed'))).toEqual([]);
    expect(writeErrorEntries({ writeErrors: [] })).toEqual([]);
    expect(writeErrorEntries(undefined)).toEqual([]);
  });
});

describe('insertEach', () => {
  it('says which documents a unique index refused, and throws any other refusal', async () => {
    const refused = { writeErrors: [{ err: { index: 1, code: 11000 } }] };
    await expect(insertEach(() => Promise.reject(refused), 3)).resolves.toEqual([true, false, true]);
    const invalid = { writeErrors: [{ err: { index: 0, code: 121 } }] };
    await expect(insertEach(() => Promise.reject(invalid), 2)).rejects.toBe(invalid);
    await expect(insertEach(() => Promise.reject({ code: 11000 }), 1)).resolves.toEqual([false]);
  });
});
