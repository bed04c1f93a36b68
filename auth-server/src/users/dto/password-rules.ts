import { ValidateBy } from 'class-validator';
import { VISIBLE_CHARACTER } from '@reward/server-kit/validation';

/**
 * The most common passwords of 8 characters or more in public breach lists (the first a guesser tries, and
 * what a credential-stuffing list is made of). NIST SP 800-63B asks a verifier to refuse them; compared
 * without regard to case.
 */
const COMMON_PASSWORDS = new Set([
  '12345678',
  '123456789',
  '1234567890',
  '12345678910',
  '123123123',
  '11111111',
  '111111111',
  '00000000',
  '88888888',
  '87654321',
  '987654321',
  '0987654321',
  '147258369',
  '123321123',
  '1q2w3e4r',
  '1q2w3e4r5t',
  '1qaz2wsx',
  'qwertyui',
  'qwertyuiop',
  'qwerty123',
  'qwerty12',
  'asdfghjk',
  'asdfghjkl',
  'zxcvbnm1',
  'password',
  'password1',
  'password12',
  'password123',
  'passw0rd',
  'p@ssw0rd',
  'p@ssword',
  'iloveyou',
  'iloveyou1',
  'sunshine',
  'princess',
  'football',
  'baseball',
  'superman',
  'starwars',
  'whatever',
  'trustno1',
  'welcome1',
  'welcome123',
  'letmein1',
  'abc12345',
  'abcd1234',
  'abcdefgh',
  'aa123456',
  'a1234567',
  'changeme',
  'computer',
  'internet',
  'michelle',
  'jennifer',
  'liverpool',
  'chocolate',
  'password!',
  'admin123',
  'administrator',
  'qazwsxedc',
  'zaq12wsx',
  '!qaz2wsx',
]);

/** Why a password may not be chosen, or undefined when it may. */
export function passwordProblem(value: string): string | undefined {
  if (!VISIBLE_CHARACTER.test(value)) return 'must hold a visible character (not only spaces or invisible ones)';
  if (COMMON_PASSWORDS.has(value.toLowerCase())) return 'is one of the most common passwords: choose another';
  return undefined;
}

/** A password one may choose (registration, a change): see passwordProblem. */
export function AcceptablePassword(): PropertyDecorator {
  return ValidateBy({
    name: 'acceptablePassword',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && passwordProblem(value) === undefined,
      defaultMessage: (args) =>
        `${args?.property ?? 'password'} ${typeof args?.value === 'string' ? (passwordProblem(args.value) ?? '') : 'must be a string'}`,
    },
  });
}
