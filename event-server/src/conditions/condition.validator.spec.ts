import { describe, expect, it } from 'vitest';
import { validateCondition } from './condition.validator.js';

function errorsOf(input: unknown): string[] {
  const result = validateCondition(input);
  if (result.ok) throw new Error('expected the condition to be refused');
  return result.errors;
}

describe('validateCondition', () => {
  it('accepts every type of API.md, nested, and keeps only known fields', () => {
    const input = {
      type: 'ALL',
      conditions: [
        { type: 'LOGIN_DAYS', days: 3 },
        {
          type: 'ANY',
          conditions: [
            { type: 'LOGIN_STREAK', days: 5 },
            { type: 'INVITE_FRIENDS', count: 3 },
          ],
        },
        { type: 'QUEST_CLEAR', questId: 'Q-17' },
        { type: 'ACTIVITY_COUNT', activity: 'BOSS_KILL', count: 10 },
      ],
    };
    expect(validateCondition(input)).toEqual({ ok: true, condition: input });
  });

  it('names the exact place of a bad value', () => {
    expect(
      errorsOf({
        type: 'ALL',
        conditions: [
          { type: 'LOGIN_DAYS', days: 1 },
          { type: 'LOGIN_DAYS', days: -2 },
        ],
      }),
    ).toEqual(['condition.conditions[1].days must be a positive integer']);
    expect(errorsOf({ type: 'LOGIN_STREAK', days: 1.5 })).toEqual(['condition.days must be a positive integer']);
    expect(errorsOf({ type: 'INVITE_FRIENDS', count: '3' })).toEqual(['condition.count must be a positive integer']);
    expect(errorsOf({ type: 'ACTIVITY_COUNT', activity: 'boss kill', count: 1 })).toEqual([
      'condition.activity must be an upper-case activity type such as BOSS_KILL',
    ]);
    expect(errorsOf({ type: 'QUEST_CLEAR', questId: '  ' })[0]).toMatch(/^condition\.questId must be a non-empty string/);
  });

  it('refuses unknown types, unknown fields, empty composites and non-objects', () => {
    expect(errorsOf({ type: 'LEVEL_UP', level: 3 })[0]).toMatch(/^condition\.type must be one of .*got "LEVEL_UP"/);
    expect(errorsOf({ type: 'LOGIN_DAYS', days: 3, extra: true })).toEqual(['condition.extra is not allowed for LOGIN_DAYS']);
    expect(errorsOf({ type: 'ANY', conditions: [] })).toEqual(['condition.conditions must be a non-empty array of conditions']);
    expect(errorsOf('LOGIN_DAYS')).toEqual(['condition must be an object with a "type"']);
    expect(errorsOf({ type: 'ALL', conditions: [null] })).toEqual(['condition.conditions[0] must be an object with a "type"']);
  });

  it('bounds depth to 5 and size to 20 leaves', () => {
    const nest = (depth: number): unknown =>
      depth === 1 ? { type: 'LOGIN_DAYS', days: 1 } : { type: 'ALL', conditions: [nest(depth - 1)] };
    expect(validateCondition(nest(5)).ok).toBe(true);
    expect(errorsOf(nest(6)).join()).toMatch(/nested too deeply/);
    // What the documents say "depth 5" counts: the top condition is level 1, the leaf of nest(6) is level 6.
    expect(errorsOf(nest(6))).toEqual([
      `condition${'.conditions[0]'.repeat(5)} is nested too deeply (at most 5 levels: the top condition is level 1, each ALL/ANY adds one)`,
    ]);

    const leaves = (count: number): unknown => ({
      type: 'ANY',
      conditions: Array.from({ length: count }, () => ({ type: 'LOGIN_DAYS', days: 1 })),
    });
    expect(validateCondition(leaves(20)).ok).toBe(true);
    expect(errorsOf(leaves(21)).join()).toMatch(/at most 20/);
    const wide = { type: 'ALL', conditions: [leaves(15), leaves(15)] };
    expect(errorsOf(wide)).toEqual(['condition has 30 leaf conditions; at most 20 are allowed']);
  });

  it("stores a quest's id in Unicode NFC, however it was composed", () => {
    const decomposed = '\u1112\u1161\u11ab-cafe\u0301'; // 한-café as macOS tools write it (NFD)
    expect(validateCondition({ type: 'QUEST_CLEAR', questId: decomposed })).toEqual({
      ok: true,
      condition: { type: 'QUEST_CLEAR', questId: '\ud55c-caf\u00e9' },
    });
  });

  it('bounds the questId as stored (composed)', () => {
    // 128 decomposed Hangul syllables (384 code units) are 128 once composed: within the bound.
    expect(validateCondition({ type: 'QUEST_CLEAR', questId: '\u1112\u1161\u11ab'.repeat(128) }).ok).toBe(true);
    // U+0958 has no composed form: NFC writes it as two code units, so 65 of them are 130.
    expect(errorsOf({ type: 'QUEST_CLEAR', questId: '\u0958'.repeat(65) })[0]).toMatch(/at most 128 characters/);
  });

  it('refuses a questId of only spaces or invisible characters, as a title', () => {
    for (const questId of ['\u200b', ' \u200d\u00a0', '\u2060\ufeff']) {
      expect(errorsOf({ type: 'QUEST_CLEAR', questId })[0]).toMatch(/^condition\.questId must be a non-empty string/);
    }
  });
});
