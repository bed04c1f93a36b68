import { DomainError } from '@reward/server-kit/errors';
import { describe, expect, it } from 'vitest';
import { prepareActivities } from './activity.rules.js';

describe('activity rules', () => {
  it('bounds attributes by their bytes in UTF-8, not by their characters', () => {
    const now = new Date('2025-12-01T00:00:00Z');
    const item = (text: string) => ({ userId: '0123456789abcdef01234567', type: 'KOR', attributes: { n: text } });
    // {"n":"…"} is 8 bytes around the text; 가 is 3 bytes in UTF-8.
    expect(prepareActivities([item('a'.repeat(4_088))], now, () => '')).toHaveLength(1);
    expect(() => prepareActivities([item('가'.repeat(1_400))], now, () => '')).toThrow(/at most 4096 bytes/);
    expect(() => prepareActivities([item('a'.repeat(4_089))], now, () => '')).toThrow(/at most 4096 bytes/);
  });

  it('refuses such attributes with a 400 naming the item, before anything is written', () => {
    const now = new Date('2025-12-01T00:00:00Z');
    const good = { userId: '0123456789abcdef01234567', type: 'BOSS_KILL', occurredAt: '2025-11-30T00:00:00Z' };
    expect(prepareActivities([good], now, () => '')).toHaveLength(1);
    try {
      prepareActivities([good, { ...good, attributes: { deep: { '.{': 1 } } }], now, (index) => `items[${index}].`);
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).status).toBe(400);
      expect((error as DomainError).messages).toEqual([
        'items[1].attributes keys (at any depth) must be non-empty, not start with $ and contain no dot',
      ]);
    }
  });

  it("stores a clear's questId in Unicode NFC, as a QUEST_CLEAR condition holds it, and leaves other attributes as sent", () => {
    const now = new Date('2025-12-01T00:00:00Z');
    const userId = '0123456789abcdef01234567';
    const [clear, other] = prepareActivities(
      [
        { userId, type: 'QUEST_CLEAR', attributes: { questId: '\u1112\u1161\u11ab-cafe\u0301', stage: 'cafe\u0301' } },
        { userId, type: 'BOSS_KILL', attributes: { questId: 'cafe\u0301' } },
      ],
      now,
      () => '',
    );
    expect(clear?.attributes).toEqual({ questId: '\ud55c-caf\u00e9', stage: 'cafe\u0301' });
    expect(other?.attributes).toEqual({ questId: 'cafe\u0301' });
  });

  it('refuses a clear whose questId is only spaces or invisible characters', () => {
    const now = new Date('2025-12-01T00:00:00Z');
    const clear = (questId: string) => ({ userId: '0123456789abcdef01234567', type: 'QUEST_CLEAR', attributes: { questId } });
    expect(() => prepareActivities([clear('\u200b')], now, () => '')).toThrow(/attributes\.questId is required/);
    expect(() => prepareActivities([clear(' \u00a0')], now, () => '')).toThrow(/attributes\.questId is required/);
    expect(prepareActivities([clear('Q-17')], now, () => '')).toHaveLength(1);
  });

  it('refuses a clear whose questId no QUEST_CLEAR condition could name (over 128 characters in NFC), or is not text', () => {
    const now = new Date('2025-12-01T00:00:00Z');
    const clear = (questId: unknown) => ({ userId: '0123456789abcdef01234567', type: 'QUEST_CLEAR', attributes: { questId } });
    expect(prepareActivities([clear('q'.repeat(128))], now, () => '')).toHaveLength(1);
    // 128 characters once composed (e + U+0301 is one é in NFC), as a condition's questId is measured.
    expect(prepareActivities([clear('e\u0301'.repeat(128))], now, () => '')).toHaveLength(1);
    expect(() => prepareActivities([clear('q'.repeat(129))], now, (index) => `items[${index}].`)).toThrow(
      /items\[0\]\.attributes\.questId must be at most 128 characters/,
    );
    expect(() => prepareActivities([clear(17)], now, () => '')).toThrow(/attributes\.questId must be a string, not a number/);
    expect(() => prepareActivities([clear(['Q-17'])], now, () => '')).toThrow(
      /attributes\.questId must be a string, not an array/,
    );
  });
});
