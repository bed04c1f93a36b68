import { describe, expect, it } from 'vitest';
import { JsonDepthScanner, isJsonMediaType } from './json-depth.js';

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
