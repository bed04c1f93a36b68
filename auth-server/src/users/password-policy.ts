import { VISIBLE_CHARACTER } from '@reward/server-kit/validation';

/*
 * What a chosen password may not be: a plain rule (no Nest, no class-validator), used by the request bodies'
 * validation (dto/password-rules.ts), the users service (a change, checked against the current password) and
 * the config (the first admin's password).
 */

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
  // This platform's own development default for the first admin (printed in its README): the first one tried.
  'change-me-admin-password',
]);

/** Different characters a password must hold: `aaaaaaaa` or seven spaces and an `a` are guessed at once. */
const MIN_DISTINCT_CHARACTERS = 4;

/**
 * A password as it is hashed: Unicode NFC. One password typed on two devices can arrive as two byte sequences
 * ("é" as one code point, or "e" and a combining accent; Hangul as syllables or as jamo, as macOS may send it),
 * and bcrypt compares bytes: without this the player is refused on the other device.
 */
export function normalizedPassword(password: string): string {
  return password.normalize('NFC');
}

/** A password's bytes as bcrypt reads them: the larger of its own and its normalized form's (see normalizedPassword). */
export function passwordBytes(password: string): number {
  return Math.max(Buffer.byteLength(password, 'utf8'), Buffer.byteLength(normalizedPassword(password), 'utf8'));
}

/** What else a chosen password is compared with: the account's email, the password it replaces. */
export interface PasswordContext {
  email?: unknown;
  current?: unknown;
}

/**
 * Why a password may not be chosen, or undefined when it may (NIST SP 800-63B 3.1.1.2: refuse what is in
 * breach lists, repetitive or sequential, or specific to the context, the account's own name).
 */
export function passwordProblem(typed: string, { email, current }: PasswordContext = {}): string | undefined {
  // Judged as it is hashed (normalizedPassword): "é" typed as two code points is one character.
  const value = normalizedPassword(typed);
  if (!VISIBLE_CHARACTER.test(value)) return 'must hold a visible character (not only spaces or invisible ones)';
  const lower = value.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return 'is one of the most common passwords: choose another';
  const characters = [...lower];
  if (new Set(characters).size < MIN_DISTINCT_CHARACTERS) {
    return `must hold at least ${MIN_DISTINCT_CHARACTERS} different characters (one repeated is guessed at once)`;
  }
  const unit = repeatedUnit(characters);
  if (unit !== undefined && (COMMON_PASSWORDS.has(unit) || new Set(unit).size < MIN_DISTINCT_CHARACTERS * 2)) {
    return 'is a short or common password repeated: choose another';
  }
  if (typeof email === 'string') {
    const address = email.trim().toLowerCase();
    const name = address.slice(0, Math.max(0, address.lastIndexOf('@')));
    if (lower === address || lower === name) return "must not be the account's email or the part before its @";
  }
  if (typeof current === 'string' && value === normalizedPassword(current)) return 'must differ from the current password';
  return undefined;
}

/** The shortest part of which `characters` is two or more copies (`passwordpassword`: `password`), if any. */
function repeatedUnit(characters: string[]): string | undefined {
  const text = characters.join('');
  for (let length = 1; length <= characters.length / 2; length += 1) {
    if (characters.length % length !== 0) continue;
    const unit = characters.slice(0, length).join('');
    if (unit.repeat(characters.length / length) === text) return unit;
  }
  return undefined;
}
