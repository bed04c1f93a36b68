import { describe, expect, it } from 'vitest';
import { OwedAnswers } from './owed-answers.js';

describe('OwedAnswers', () => {
  it('owes a (user, key) pair until its outcome is answered; the arrival check sees the key alone', () => {
    const owed = new OwedAnswers();
    owed.owe('u1', 'k');
    expect(owed.has('u1', 'k')).toBe(true);
    expect(owed.has('u2', 'k')).toBe(false);
    expect(owed.mayBeOwed('k')).toBe(true);
    expect(owed.mayBeOwed('other')).toBe(false);
    expect(owed.mayBeOwed(['k', 'k'])).toBe(false);
    expect(owed.mayBeOwed(undefined)).toBe(false);
    owed.owe('u2', 'k');
    owed.settle('u1', 'k');
    expect(owed.has('u1', 'k')).toBe(false);
    // Still owed to u2 under the same key.
    expect(owed.mayBeOwed('k')).toBe(true);
    owed.settle('u2', 'k');
    expect(owed.mayBeOwed('k')).toBe(false);
    expect(owed.size).toBe(0);
    // Settling what is not owed changes nothing.
    owed.settle('u3', 'k');
    expect(owed.size).toBe(0);
  });

  it('forgets a pair after its time, and the oldest first beyond its bound', () => {
    let now = 0;
    const owed = new OwedAnswers(3, 1_000, () => now);
    owed.owe('u1', 'a');
    owed.owe('u2', 'b');
    owed.owe('u3', 'c');
    // Owed again: the newest, with a new time.
    now = 500;
    owed.owe('u1', 'a');
    owed.owe('u4', 'd');
    expect(owed.size).toBe(3);
    expect(owed.has('u2', 'b')).toBe(false);
    expect(owed.mayBeOwed('b')).toBe(false);
    expect(owed.has('u1', 'a')).toBe(true);
    now = 1_000;
    expect(owed.has('u3', 'c')).toBe(false);
    expect(owed.mayBeOwed('c')).toBe(false);
    expect(owed.has('u1', 'a')).toBe(true);
    now = 1_500;
    expect(owed.has('u1', 'a')).toBe(false);
    expect(owed.has('u4', 'd')).toBe(false);
    expect(owed.size).toBe(0);
  });

  it('no longer lets a key past the arrival check once its time is up, though nobody asked for it since', () => {
    let now = 0;
    const owed = new OwedAnswers(10, 1_000, () => now);
    owed.owe('u1', 'k');
    now = 500;
    owed.owe('u2', 'j');
    now = 1_000;
    // The (u1, k) pair is forgotten: a request with the key alone is shed on arrival like any other.
    expect(owed.mayBeOwed('k')).toBe(false);
    expect(owed.mayBeOwed('j')).toBe(true);
    expect(owed.size).toBe(1);
  });
});
