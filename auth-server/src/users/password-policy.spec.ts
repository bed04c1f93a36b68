import { describe, expect, it } from 'vitest';
import { passwordProblem } from './password-policy.js';

describe('passwordProblem', () => {
  it.each([
    'correct horse battery staple',
    'Tr0ub4dor&3',
    'ab12ab12ab12xy',
    // A long unit repeated is no short one: eight different characters, twice.
    'k3y!w0rdk3y!w0rd',
  ])('lets %j be chosen', (password) => {
    expect(passwordProblem(password)).toBeUndefined();
  });

  it.each([
    ['       ', /visible character/],
    ['\u200b\u200b\u200b\u200b\u200b\u200b\u200b\u200b', /visible character/],
    ['PassWord123', /most common passwords/],
    ['change-me-admin-password', /most common passwords/],
    ['aaaaaaaa', /at least 4 different characters/],
    ['       a', /at least 4 different characters/],
    ['abababab', /at least 4 different characters/],
    ['passwordpassword', /short or common password repeated/],
    ['abcdabcdabcd', /short or common password repeated/],
  ])('refuses %j', (password, problem) => {
    expect(passwordProblem(password)).toMatch(problem);
  });

  it("refuses the account's email or the part before its @, in any case", () => {
    const context = { email: ' Player.One@Example.com ' };
    expect(passwordProblem('player.one@example.com', context)).toMatch(/email/);
    expect(passwordProblem('PLAYER.ONE', context)).toMatch(/email/);
    expect(passwordProblem('player.one!', context)).toBeUndefined();
  });

  it('refuses the current password, but not one that differs in case only', () => {
    expect(passwordProblem('long enough 42', { current: 'long enough 42' })).toMatch(/differ from the current/);
    expect(passwordProblem('Long enough 42', { current: 'long enough 42' })).toBeUndefined();
  });

  it('ignores context that is not text (the body validation passes whatever the body held)', () => {
    expect(passwordProblem('long enough 42', { email: 42, current: null })).toBeUndefined();
  });
});
