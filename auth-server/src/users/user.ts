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

/** Scripts with letters that look like Latin ones, or like one another's (Unicode TR39's usual suspects). */
const LOOKALIKE_SCRIPTS = [
  /\p{Script=Latin}/u,
  /\p{Script=Cyrillic}/u,
  /\p{Script=Greek}/u,
  /\p{Script=Armenian}/u,
  /\p{Script=Cherokee}/u,
];

/**
 * Why an address could pass for another one in a list (the users list an ADMIN grants roles from), or
 * undefined: a part before the @ that is not ASCII (`ａdmin`, `аdmin` with a Cyrillic а, `admın`), or a domain
 * label that mixes letters of two of LOOKALIKE_SCRIPTS (`exаmple.com`; the domain as normaliseEmail keeps it,
 * so a punycode spelling of it too). A label wholly in another script that happens to read as a Latin word is
 * not caught (that needs Unicode's confusables table).
 */
export function lookalikeEmailProblem(email: string): string | undefined {
  const normalised = normaliseEmail(email);
  const at = normalised.lastIndexOf('@');
  if (at < 0) return undefined;
  if (!/^[\x21-\x7e]*$/.test(normalised.slice(0, at))) return 'the part before the @ must be ASCII';
  for (const label of normalised.slice(at + 1).split('.')) {
    const scripts = LOOKALIKE_SCRIPTS.filter((script) => script.test(label));
    if (scripts.length > 1) return 'a part of the domain mixes letters of two scripts (a look-alike spelling)';
  }
  return undefined;
}
