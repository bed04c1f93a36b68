import { randomInt } from 'node:crypto';

/** No 0/O, 1/I/L or U: codes are read aloud and typed from screenshots. */
export const REFERRAL_CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTVWXYZ23456789';
export const REFERRAL_CODE_LENGTH = 8;

/** 30^8 ≈ 6.6e11 codes; the unique index catches the rare collision and the caller draws again. */
export function generateReferralCode(random: (max: number) => number = randomInt): string {
  let code = '';
  for (let i = 0; i < REFERRAL_CODE_LENGTH; i += 1) code += REFERRAL_CODE_ALPHABET[random(REFERRAL_CODE_ALPHABET.length)];
  return code;
}
