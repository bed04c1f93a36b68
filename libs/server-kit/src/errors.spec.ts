import { describe, expect, it } from 'vitest';
import { DomainError, MAX_LISTED_PROBLEMS, errorBody, listedProblems, statusText, withoutStackTrace } from './errors.js';

describe('error body', () => {
  it('names the status the way HTTP does', () => {
    expect(statusText(400)).toBe('Bad Request');
    expect(statusText(413)).toBe('Payload Too Large');
    expect(statusText(429)).toBe('Too Many Requests');
    expect(statusText(504)).toBe('Gateway Timeout');
    // Not in Nest's HttpStatus: Node's name.
    expect(statusText(431)).toBe('Request Header Fields Too Large');
  });

  it('keeps statusCode, error, message and code over any detail of the same name', () => {
    expect(errorBody(409, 'EMAIL_TAKEN', 'taken', { code: 'X', id: '1' })).toEqual({
      id: '1',
      statusCode: 409,
      error: 'Conflict',
      message: 'taken',
      code: 'EMAIL_TAKEN',
    });
  });

  it('keeps a list of messages as a list', () => {
    const error = new DomainError(400, 'VALIDATION_FAILED', ['a is bad', 'b is bad']);
    expect(error.messages).toEqual(['a is bad', 'b is bad']);
    expect(error.message).toBe('a is bad; b is bad');
  });

  it('lists at most MAX_LISTED_PROBLEMS problems, then counts the rest in one line', () => {
    const problems = (count: number) => Array.from({ length: count }, (_, index) => `items[${index}] is bad`);
    expect(listedProblems(problems(MAX_LISTED_PROBLEMS))).toEqual(problems(MAX_LISTED_PROBLEMS));
    expect(listedProblems(problems(MAX_LISTED_PROBLEMS + 1))).toEqual([
      ...problems(MAX_LISTED_PROBLEMS),
      `...and 1 more problem (only the first ${MAX_LISTED_PROBLEMS} are listed)`,
    ]);
    const error = new DomainError(400, 'VALIDATION_FAILED', problems(20_000));
    expect(error.messages).toHaveLength(MAX_LISTED_PROBLEMS + 1);
    expect(error.messages.at(-1)).toBe(
      `...and ${20_000 - MAX_LISTED_PROBLEMS} more problems (only the first ${MAX_LISTED_PROBLEMS} are listed)`,
    );
    expect(error.message.split('; ')).toEqual(error.messages);
  });
});

describe('stack traces', () => {
  it('an expected answer captures none (a 4xx, a 503), a 500 keeps its own, and the limit is put back', () => {
    const limit = Error.stackTraceLimit;
    expect(new DomainError(409, 'OUT_OF_STOCK', 'gone').stack).toBe('DomainError: gone');
    expect(new DomainError(503, 'CLAIMS_BUSY', 'busy').stack).toBe('DomainError: busy');
    expect(new DomainError(500, 'INTERNAL_ERROR', 'broken').stack).toMatch(/^DomainError: broken\n\s+at /);
    expect(Error.stackTraceLimit).toBe(limit);
  });

  it('withoutStackTrace makes an error without one, and puts the limit back even when the making throws', () => {
    const limit = Error.stackTraceLimit;
    expect(withoutStackTrace(() => new Error('shed')).stack).toBe('Error: shed');
    expect(() =>
      withoutStackTrace(() => {
        throw new Error('thrown');
      }),
    ).toThrow('thrown');
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error('after').stack).toMatch(/\n\s+at /);
  });
});
