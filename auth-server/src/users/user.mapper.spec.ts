import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { generateReferralCode, REFERRAL_CODE_ALPHABET } from './referral-code.js';
import { toUser, toUserCredentials, toUserResponse } from './user.mapper.js';
import type { UserEntity } from './user.schema.js';
import { normaliseEmail } from './user.js';

const document: UserEntity = {
  _id: new Types.ObjectId('0123456789abcdef01234567'),
  email: 'alice@example.com',
  passwordHash: '$2b$04$hash',
  nickname: null,
  roles: ['USER'],
  referralCode: 'ABCDEFGH',
  referredBy: 'fedcba9876543210fedcba98',
  accessVersion: 3,
  sessionEpoch: 1,
  createdAt: new Date('2030-01-02T03:04:05.678Z'),
  updatedAt: new Date('2030-01-02T03:04:05.678Z'),
};

describe('user mapper', () => {
  it('maps a document to the public response without internals', () => {
    const response = toUserResponse(toUser({ ...document, __v: 0 } as UserEntity));
    expect(response).toEqual({
      id: '0123456789abcdef01234567',
      email: 'alice@example.com',
      nickname: null,
      roles: ['USER'],
      referralCode: 'ABCDEFGH',
      createdAt: '2030-01-02T03:04:05.678Z',
    });
    expect(JSON.stringify(response)).not.toMatch(/passwordHash|_id|__v|referredBy|\$2b\$/);
  });

  it('keeps the hash only in credentials', () => {
    expect(toUserCredentials(document)).toEqual({
      id: '0123456789abcdef01234567',
      roles: ['USER'],
      passwordHash: '$2b$04$hash',
      accessVersion: 3,
      sessionEpoch: 1,
    });
    expect(toUser(document)).not.toHaveProperty('passwordHash');
  });

  it('copies roles instead of sharing the array', () => {
    const user = toUser(document);
    user.roles.push('ADMIN');
    expect(document.roles).toEqual(['USER']);
  });
});

describe('normaliseEmail', () => {
  it('trims and lower-cases', () => {
    expect(normaliseEmail('  Alice@Example.COM\t')).toBe('alice@example.com');
  });

  it('gives look-alike spellings of one mailbox one form: NFC, and an IDN domain whether Unicode or punycode', () => {
    expect(normaliseEmail('jose\u0301@example.com')).toBe(normaliseEmail('jos\u00e9@example.com'));
    expect(normaliseEmail('jos\u00e9@example.com')).toBe('jos\u00e9@example.com');
    expect(normaliseEmail('p@xn--exmple-cua.com')).toBe('p@ex\u00e4mple.com');
    expect(normaliseEmail('p@EXA\u0308MPLE.com')).toBe('p@ex\u00e4mple.com');
    expect(normaliseEmail('p@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com')).toBe('p@example.com');
    // A dot at the end names the same domain (the DNS root); an ideographic full stop there is one after IDNA.
    expect(normaliseEmail('p@example.com\u3002')).toBe('p@example.com');
    // Two of them pass the email validation too (its top-level label may hold one): both go.
    expect(normaliseEmail('p@example.com\u3002\u3002')).toBe('p@example.com');
    expect(normaliseEmail('p@example.com\uff61\u3002')).toBe('p@example.com');
    // Not a valid domain: kept as it came (validation says what is wrong with it).
    expect(normaliseEmail('p@ex ample.com')).toBe('p@ex ample.com');
    expect(normaliseEmail('no-at-sign')).toBe('no-at-sign');
  });
});

describe('generateReferralCode', () => {
  it('draws 8 characters from the unambiguous alphabet', () => {
    for (let i = 0; i < 100; i += 1) expect(generateReferralCode()).toMatch(/^[ABCDEFGHJKMNPQRSTVWXYZ2-9]{8}$/);
  });

  it('uses the random source for every character', () => {
    const picks = [0, 1, 2, 3, 4, 5, 6, REFERRAL_CODE_ALPHABET.length - 1];
    expect(generateReferralCode(() => picks.shift()!)).toBe('ABCDEFG9');
  });
});
