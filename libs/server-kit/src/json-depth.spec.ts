import { describe, expect, it } from 'vitest';
import { JsonDepthScanner, MAX_JSON_OBJECT_KEYS, MAX_JSON_SEPARATORS, isJsonMediaType } from './json-depth.js';

const depthOk = (text: string, max = 3, chunkSize = text.length || 1): boolean => {
  const scanner = new JsonDepthScanner(max);
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += chunkSize) if (!scanner.feed(bytes.subarray(i, i + chunkSize))) return false;
  return true;
};

describe('JsonDepthScanner', () => {
  it('accepts nesting up to the bound and refuses one level more', () => {
    expect(depthOk('{"a":[{"b":1}]}')).toBe(true);
    expect(depthOk('{"a":[{"b":[1]}]}')).toBe(false);
    expect(depthOk('[[[]],[[]],{"x":{"y":2}}]')).toBe(true);
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(depthOk('{"a":"[[[[[[{{{{"}')).toBe(true);
    expect(depthOk('{"a":"\\"[[[[[[\\\\"}')).toBe(true);
    expect(depthOk('{"a":"\\\\","b":[[[[1]]]]}')).toBe(false);
    expect(depthOk('{"\u00e9[[[[":"\ud83d\ude00{{{{"}')).toBe(true);
  });

  it('gives the same verdict whatever the chunking', () => {
    const deep = `${'['.repeat(40)}"]]]\\"[["${']'.repeat(40)}`;
    for (const size of [1, 2, 3, 7, 1000]) {
      expect(depthOk(deep, 40, size)).toBe(true);
      expect(depthOk(deep, 39, size)).toBe(false);
    }
  });

  it('refuses a 1,500-level body at the 33rd bracket', () => {
    expect(depthOk('['.repeat(1500) + ']'.repeat(1500), 32)).toBe(false);
    expect(depthOk('['.repeat(32) + ']'.repeat(32), 32)).toBe(true);
  });
});

describe('JsonDepthScanner: how many values', () => {
  it('counts separators outside strings only, and refuses one over the bound', () => {
    expect(new JsonDepthScanner(32, 3).scan(Buffer.from('{"a":1,"b":2}'))).toBe('ok');
    expect(new JsonDepthScanner(32, 3).scan(Buffer.from('{"a":1,"b":[2,3]}'))).toBe('too-many-values');
    expect(new JsonDepthScanner(32, 1).scan(Buffer.from('{"a,b:c,d":"1,2,3"}'))).toBe('ok');
  });

  it('lets a 1,000-activity import through and refuses one separator over the bound', () => {
    const item = {
      userId: '0123456789abcdef01234567',
      type: 'QUEST_CLEAR',
      occurredAt: '2025-12-01T00:00:00Z',
      attributes: { questId: 'Q-1', score: 10, level: 3 },
      externalId: 'x',
    };
    const importBody = JSON.stringify({ items: Array.from({ length: 1000 }, () => item) });
    expect(new JsonDepthScanner().scan(Buffer.from(importBody))).toBe('ok');
    const zeros = `[${'0,'.repeat(MAX_JSON_SEPARATORS + 1)}0]`;
    expect(new JsonDepthScanner().scan(Buffer.from(zeros))).toBe('too-many-values');
  });
});

describe('JsonDepthScanner: how many fields in one object', () => {
  const objectOf = (keys: number): string => `{${Array.from({ length: keys }, (_, index) => `"k${index}":1`).join(',')}}`;

  it('refuses an object with one field over the bound, at any depth, and counts each object on its own', () => {
    expect(new JsonDepthScanner().scan(Buffer.from(objectOf(MAX_JSON_OBJECT_KEYS)))).toBe('ok');
    expect(new JsonDepthScanner().scan(Buffer.from(objectOf(MAX_JSON_OBJECT_KEYS + 1)))).toBe('too-many-keys');
    expect(new JsonDepthScanner().scan(Buffer.from(`{"a":[{"b":${objectOf(MAX_JSON_OBJECT_KEYS + 1)}}]}`))).toBe('too-many-keys');
    // Many objects at the bound each, side by side and nested: the count is per object, not per body.
    const siblings = `[${Array.from({ length: 20 }, () => objectOf(MAX_JSON_OBJECT_KEYS)).join(',')}]`;
    expect(new JsonDepthScanner().scan(Buffer.from(siblings))).toBe('ok');
    const nested = `{"inner":${objectOf(MAX_JSON_OBJECT_KEYS - 1)},${objectOf(MAX_JSON_OBJECT_KEYS - 1).slice(1)}`;
    expect(new JsonDepthScanner().scan(Buffer.from(nested))).toBe('ok');
  });

  it('counts only colons between keys: not array items, not inside strings, and across chunks', () => {
    expect(new JsonDepthScanner(32, 100_000, 2).scan(Buffer.from('{"a":[1,2,3,4],"b":"x:y:z"}'))).toBe('ok');
    expect(new JsonDepthScanner(32, 100_000, 2).scan(Buffer.from('{"a":1,"b":2,"c":3}'))).toBe('too-many-keys');
    const scanner = new JsonDepthScanner(32, 100_000, 2);
    expect(scanner.scan(Buffer.from('{"a":1,"b"'))).toBe('ok');
    expect(scanner.scan(Buffer.from(':2,"c":3}'))).toBe('too-many-keys');
  });
});

describe('isJsonMediaType', () => {
  it('knows JSON whatever the case and parameters', () => {
    expect(isJsonMediaType('application/json')).toBe(true);
    expect(isJsonMediaType('Application/JSON; charset=utf-8')).toBe(true);
    expect(isJsonMediaType('application/merge-patch+json')).toBe(true);
    expect(isJsonMediaType('text/plain')).toBe(false);
    expect(isJsonMediaType('application/x-www-form-urlencoded')).toBe(false);
    expect(isJsonMediaType(undefined)).toBe(false);
  });
});

describe('JsonDepthScanner: the NUL character', () => {
  const verdictOf = (text: string, chunkSize = text.length || 1): string => {
    const scanner = new JsonDepthScanner();
    const bytes = Buffer.from(text, 'utf8');
    for (let i = 0; i < bytes.length; i += chunkSize) {
      const verdict = scanner.scan(bytes.subarray(i, i + chunkSize));
      if (verdict !== 'ok') return verdict;
    }
    return 'ok';
  };

  it('refuses \\u0000 in a value or a key, whatever the chunking', () => {
    for (const text of ['{"a":"x\\u0000y"}', '{"k\\u0000":1}', '["\\u0000"]', '{"a":"\\n\\u0000"}']) {
      expect(JSON.parse(text)).toBeTruthy();
      for (const size of [1, 2, 3, 1000]) expect(verdictOf(text, size), `${text} by ${size}`).toBe('nul-character');
    }
  });

  it('accepts every other escape, and a backslash followed by u0000 as text', () => {
    for (const text of ['{"a":"\\u0001\\u0100\\u1000\\u00e9"}', '{"a":"\\\\u0000"}', '{"u0000":"\\"u0000"}', '{"a":"\\u000"}']) {
      for (const size of [1, 3, 1000]) expect(verdictOf(text, size), `${text} by ${size}`).toBe('ok');
    }
  });

  it('still counts the depth after a malformed escape with a quote in it', () => {
    expect(verdictOf(`{"a":"\\u0"}${'['.repeat(40)}`)).toBe('too-deep');
  });
});
