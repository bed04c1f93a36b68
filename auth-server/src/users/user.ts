import { domainToASCII, domainToUnicode } from 'node:url';
import type { Role } from '@reward/server-kit/roles';

/** A user as the rest of the server sees it: no password hash, no Mongo internals. */
export interface User {
  id: string;
  email: string;
  nickname: string | null;
  roles: Role[];
  referralCode: string;
  referredBy: string | null;
  createdAt: Date;
  accessVersion: number;
  sessionEpoch: number;
}

/** What a login needs and nothing else reads: the hash stays inside the login path. */
export interface UserCredentials {
  id: string;
  roles: Role[];
  passwordHash: string;
  accessVersion: number;
  sessionEpoch: number;
}

export interface NewUser {
  /** The id to store it under (made by the caller when it must name the user before the insert), else a new one. */
  id?: string;
  email: string;
  passwordHash: string;
  nickname: string | null;
  roles: Role[];
  referralCode: string;
  referredBy: string | null;
}

/**
 * How emails were stored before normaliseEmail did more than this (trimmed and lower-cased): accounts stored
 * so before are still found by it (UsersService), since no migration rewrote them.
 */
export function legacyEmailSpelling(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * One spelling per mailbox: trimmed, lower-cased and in Unicode NFC (`é` typed as one character or as `e`
 * plus a combining accent), and an internationalised domain in its Unicode form whether it came as such or
 * in punycode (`exämple.com` and `xn--exmple-cua.com` are one domain). So `Alice@Example.com ` and
 * `alice@example.com` are one account, and so are two spellings that look alike but differ in code points.
 */
export function normaliseEmail(email: string): string {
  const lowered = legacyEmailSpelling(email).normalize('NFC');
  const at = lowered.lastIndexOf('@');
  if (at < 0) return lowered;
  // domainToASCII applies IDNA's mapping ('' when the domain is not valid: then it is kept as it came). Dots
  // at the end (the DNS root; an ideographic full stop there maps to one) name the same domain: all of them,
  // since the email validation lets `example.com\u3002\u3002` through (a top-level label may hold U+3002).
  // A loop, not /\.+$/: that regex is quadratic on a run of dots before the end, and the login throttle
  // calls this on the body's email before validation bounds its length.
  const ascii = withoutTrailingDots(domainToASCII(lowered.slice(at + 1)));
  return ascii === '' ? lowered : `${lowered.slice(0, at + 1)}${domainToUnicode(ascii)}`;
}

function withoutTrailingDots(domain: string): string {
  let end = domain.length;
  while (end > 0 && domain.charCodeAt(end - 1) === 0x2e) end -= 1;
  return domain.slice(0, end);
}

/** The part before the @ as RFC 5322's dot-atom: ASCII letters, digits and these symbols, dots between (no quotes). */
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/;
const LETTER = /\p{L}/u;
const MARK = /\p{M}/u;
const DIGIT = /\p{N}/u;
const LATIN = /\p{Script=Latin}/u;
/** What a domain's labels are made of, in their Unicode form (marks and digits are judged further below). */
const NAME_CHARACTER = /[\p{L}\p{M}\p{N}]/u;
/** Scripts with letters that look like one another's (beside Latin, which may mix with none). */
const LOOKALIKE_SCRIPTS = [
  /\p{Script=Cyrillic}/u,
  /\p{Script=Greek}/u,
  /\p{Script=Coptic}/u,
  /\p{Script=Armenian}/u,
  /\p{Script=Cherokee}/u,
  /\p{Script=Lisu}/u,
];

/**
 * Why an address could pass for another one in a list (the users list an ADMIN grants roles from), or
 * undefined. Checked on the address as normaliseEmail keeps it (so a punycode or fullwidth spelling too):
 * - the part before the @ must be a plain dot-atom in ASCII (`ａdmin`, `аdmin` with a Cyrillic а, `admın`,
 *   `josé`, a quoted `"admin@example.com"@evil.com` are refused);
 * - in the domain (but for a last label in ASCII, `com`, under which a name keeps to its own script), Latin
 *   letters must be ASCII ones, accents allowed (`exämple` is fine, `gmaıl` with a dotless ı or `exɑmple` is
 *   not), may not mix with another script's (`exаmple.com`, `example.сом`, `gⲟⲟgle.com` with Coptic o), and
 *   Cyrillic, Greek, Coptic, Armenian, Cherokee and Lisu letters may not mix with one another.
 * - the domain must be one IDNA accepts, made of letters, digits and hyphens (no symbol that reads as a letter,
 *   `℮xample.com`, no blank that shows as nothing, `example.com` + U+2800).
 * A name wholly in one non-Latin script that reads as a Latin word is not caught (that needs Unicode's
 * confusables table), nor a Latin letter beyond ASCII that is not a look-alike (`ø`, `ł`: refused too).
 */
export function lookalikeEmailProblem(email: string): string | undefined {
  const normalised = normaliseEmail(email);
  const at = normalised.lastIndexOf('@');
  if (at < 0) return undefined;
  if (!DOT_ATOM.test(normalised.slice(0, at))) {
    return "the part before the @ must be ASCII: letters, digits, dots and ! # $ % & ' * + - / = ? ^ _ ` { | } ~ (no quotes or spaces)";
  }
  const domain = normalised.slice(at + 1);
  // A domain IDNA refuses (an unassigned code point, say) would be stored as it came, unchecked by what follows.
  if (domainToASCII(domain) === '') return 'the domain is not a valid domain name';
  // A domain name is letters, digits and hyphens: a symbol that reads as a letter (`℮`, `◦`, `⍺`, `∣`), a blank
  // that shows as nothing (U+2800) or any other punctuation, space or control character is refused.
  if ([...domain].some((char) => char !== '.' && char !== '-' && !NAME_CHARACTER.test(char))) {
    return 'the domain has a character that is not a letter, a digit or a hyphen (a look-alike spelling)';
  }
  const labels = domain.split('.');
  const named = /^[\x20-\x7e]*$/.test(labels.at(-1) ?? '') ? labels.slice(0, -1) : labels;
  const checked = [...named.join('')];
  // Marks left after NFC (a low line under a letter composes with none) and digits of other scripts (an Odia or
  // Myanmar zero for an o) draw like what they are not.
  if (checked.some((char) => MARK.test(char) || (DIGIT.test(char) && char > '\x7f'))) {
    return 'the domain has a combining mark or a non-ASCII digit (a look-alike spelling)';
  }
  const letters = checked.filter((char) => LETTER.test(char));
  const latin = letters.filter((char) => LATIN.test(char));
  if (latin.some((char) => (char.normalize('NFD').codePointAt(0) ?? 0) > 0x7f)) {
    return 'the domain has a Latin letter that is not an ASCII letter with or without accents (a look-alike spelling)';
  }
  if (latin.length > 0 && latin.length < letters.length) {
    return 'the domain mixes letters of two scripts, Latin and another (a look-alike spelling)';
  }
  if (LOOKALIKE_SCRIPTS.filter((script) => letters.some((char) => script.test(char))).length > 1) {
    return 'the domain mixes letters of two scripts (a look-alike spelling)';
  }
  return undefined;
}
