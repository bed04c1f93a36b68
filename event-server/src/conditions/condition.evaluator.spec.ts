import { describe, expect, it } from 'vitest';
import { type ActivityFact, evaluateCondition, factPlanOf } from './condition.evaluator.js';
import type { Condition } from './condition.types.js';

const period = {
  startAt: new Date('2025-12-01T00:00:00+09:00'),
  endAt: new Date('2025-12-31T23:59:59+09:00'),
  timezone: 'Asia/Seoul',
};
const login = (iso: string): ActivityFact => ({ type: 'LOGIN', occurredAt: new Date(iso) });

describe('evaluateCondition', () => {
  it('counts login days by the event zone: 23:30 and 00:30 Seoul time are two days', () => {
    const activities = [login('2025-12-05T23:30:00+09:00'), login('2025-12-06T00:30:00+09:00')];
    const result = evaluateCondition({ type: 'LOGIN_DAYS', days: 2 }, period, activities);
    expect(result).toEqual({ eligible: true, conditions: [{ type: 'LOGIN_DAYS', required: 2, current: 2, met: true }] });
    // The same two instants are one day in UTC (14:30 and 15:30 on Dec 5).
    const utc = evaluateCondition({ type: 'LOGIN_DAYS', days: 2 }, { ...period, timezone: 'UTC' }, activities);
    expect(utc.conditions[0]).toMatchObject({ current: 1, met: false });
  });

  it('reports every leaf of a nested condition, met or not', () => {
    const condition: Condition = {
      type: 'ALL',
      conditions: [
        { type: 'QUEST_CLEAR', questId: 'Q-17' },
        {
          type: 'ANY',
          conditions: [
            { type: 'LOGIN_STREAK', days: 3 },
            { type: 'ACTIVITY_COUNT', activity: 'BOSS_KILL', count: 2 },
          ],
        },
        { type: 'INVITE_FRIENDS', count: 1 },
      ],
    };
    const activities: ActivityFact[] = [
      { type: 'QUEST_CLEAR', occurredAt: new Date('2025-12-02T10:00:00+09:00'), attributes: { questId: 'Q-17' } },
      { type: 'QUEST_CLEAR', occurredAt: new Date('2025-12-02T10:00:00+09:00'), attributes: { questId: 'Q-18' } },
      login('2025-12-03T10:00:00+09:00'),
      login('2025-12-04T10:00:00+09:00'),
      login('2025-12-06T10:00:00+09:00'),
      { type: 'BOSS_KILL', occurredAt: new Date('2025-12-07T10:00:00+09:00') },
      { type: 'BOSS_KILL', occurredAt: new Date('2025-12-08T10:00:00+09:00') },
      { type: 'FRIEND_INVITE', occurredAt: new Date('2025-11-30T10:00:00+09:00') },
    ];
    const result = evaluateCondition(condition, period, activities);
    expect(result.conditions).toEqual([
      { type: 'QUEST_CLEAR', required: 1, current: 1, met: true, questId: 'Q-17' },
      { type: 'LOGIN_STREAK', required: 3, current: 2, met: false },
      { type: 'ACTIVITY_COUNT', required: 2, current: 2, met: true, activity: 'BOSS_KILL' },
      // The invite happened before the period: it does not count.
      { type: 'INVITE_FRIENDS', required: 1, current: 0, met: false },
    ]);
    expect(result.eligible).toBe(false);
  });

  it('counts each leaf up to its own requirement, whatever another leaf of the same type asks', () => {
    // Reads of a counted type stop at the largest count asked (10 here): the leaf asking for 2 shows 2 of 2.
    const condition: Condition = {
      type: 'ANY',
      conditions: [
        { type: 'INVITE_FRIENDS', count: 2 },
        { type: 'ACTIVITY_COUNT', activity: 'FRIEND_INVITE', count: 10 },
        { type: 'LOGIN_DAYS', days: 1 },
      ],
    };
    const invites = Array.from({ length: 4 }, (_, index) => ({
      type: 'FRIEND_INVITE',
      occurredAt: new Date(`2025-12-0${index + 2}T10:00:00+09:00`),
    }));
    const activities = [...invites, login('2025-12-03T10:00:00+09:00'), login('2025-12-04T10:00:00+09:00')];
    expect(evaluateCondition(condition, period, activities).conditions).toEqual([
      { type: 'INVITE_FRIENDS', required: 2, current: 2, met: true },
      { type: 'ACTIVITY_COUNT', activity: 'FRIEND_INVITE', required: 10, current: 4, met: false },
      { type: 'LOGIN_DAYS', required: 1, current: 1, met: true },
    ]);
  });

  it('is not eligible on no activity at all', () => {
    const result = evaluateCondition({ type: 'ANY', conditions: [{ type: 'LOGIN_DAYS', days: 1 }] }, period, []);
    expect(result).toEqual({ eligible: false, conditions: [{ type: 'LOGIN_DAYS', required: 1, current: 0, met: false }] });
  });

  it('plans the reads: every login instant for days and streaks, counted types up to the largest count asked, quests apart', () => {
    expect(
      factPlanOf({
        type: 'ANY',
        conditions: [
          { type: 'LOGIN_STREAK', days: 2 },
          { type: 'ACTIVITY_COUNT', activity: 'PVP_WIN', count: 3 },
          {
            type: 'ALL',
            conditions: [
              { type: 'ACTIVITY_COUNT', activity: 'PVP_WIN', count: 10 },
              { type: 'INVITE_FRIENDS', count: 2 },
            ],
          },
          { type: 'QUEST_CLEAR', questId: 'Q' },
          // Counted, and read for its days too: the days from the marks, the count capped.
          { type: 'ACTIVITY_COUNT', activity: 'LOGIN', count: 2 },
          // Counted apart from the named quests' reads (those read one clear of each named quest only).
          { type: 'ACTIVITY_COUNT', activity: 'QUEST_CLEAR', count: 1 },
          { type: 'QUEST_CLEAR', questId: 'A' },
          { type: 'QUEST_CLEAR', questId: 'Q' },
        ],
      }),
    ).toEqual({
      instants: ['LOGIN'],
      loginDaysByMarks: true,
      questIds: ['A', 'Q'],
      counts: new Map([
        ['PVP_WIN', 10],
        ['FRIEND_INVITE', 2],
        ['LOGIN', 2],
        ['QUEST_CLEAR', 1],
      ]),
    });
  });

  it("takes a counted type from the store's counts (inside the period), any other from the facts; current stops at required", () => {
    const condition: Condition = {
      type: 'ALL',
      conditions: [
        { type: 'ACTIVITY_COUNT', activity: 'BOSS_KILL', count: 3 },
        { type: 'ACTIVITY_COUNT', activity: 'BOSS_KILL', count: 1_000_000 },
        { type: 'INVITE_FRIENDS', count: 2 },
        { type: 'ACTIVITY_COUNT', activity: 'LOGIN', count: 2 },
        { type: 'LOGIN_DAYS', days: 1 },
      ],
    };
    // One login instant (its day, from a mark) and a count of 5 logins: the count decides ACTIVITY_COUNT LOGIN.
    const facts = [login('2025-12-05T10:00:00+09:00')];
    const counts = new Map([
      ['BOSS_KILL', 30_000],
      ['FRIEND_INVITE', 1],
      ['LOGIN', 5],
    ]);
    expect(evaluateCondition(condition, period, facts, counts)).toEqual({
      eligible: false,
      conditions: [
        { type: 'ACTIVITY_COUNT', activity: 'BOSS_KILL', required: 3, current: 3, met: true },
        { type: 'ACTIVITY_COUNT', activity: 'BOSS_KILL', required: 1_000_000, current: 30_000, met: false },
        { type: 'INVITE_FRIENDS', required: 2, current: 1, met: false },
        { type: 'ACTIVITY_COUNT', activity: 'LOGIN', required: 2, current: 2, met: true },
        { type: 'LOGIN_DAYS', required: 1, current: 1, met: true },
      ],
    });
  });

  it('plans login days and streaks alone as read from one login per quarter hour', () => {
    const plan = factPlanOf({
      type: 'ALL',
      conditions: [
        { type: 'LOGIN_DAYS', days: 3 },
        { type: 'LOGIN_STREAK', days: 2 },
        { type: 'ACTIVITY_COUNT', activity: 'PVP_WIN', count: 4 },
      ],
    });
    expect(plan).toEqual({ instants: ['LOGIN'], loginDaysByMarks: true, questIds: [], counts: new Map([['PVP_WIN', 4]]) });
    expect(factPlanOf({ type: 'ACTIVITY_COUNT', activity: 'LOGIN', count: 5 })).toEqual({
      instants: [],
      loginDaysByMarks: false,
      questIds: [],
      counts: new Map([['LOGIN', 5]]),
    });
  });
});
