/* generated using openapi-typescript-codegen -- do not edit */
/* istanbul ignore file */
/* tslint:disable */
/* eslint-disable */
export type RegisterUserDto = {
  /**
   * One account per address: compared trimmed, lower-cased, in Unicode NFC and with an internationalised domain in one form (Unicode or punycode); no invisible formatting characters (zero-width or bidirectional); a plain ASCII part before the @, and a domain whose letters keep to one script, Latin ones being ASCII letters with or without accents (look-alike spellings are refused)
   */
  email: string;
  /**
   * Trimmed; at least one visible character; no control characters and no bidirectional formatting characters (they reorder the text shown)
   */
  nickname?: string;
  /**
   * Hashed and compared in Unicode NFC, so the same password typed with a combining accent or as Hangul jamo signs in too: at least 8 characters in NFC, at most 72 bytes (UTF-8) as typed and in NFC; no control characters; at least one visible character; not one of the most common passwords ("password1", "12345678"); at least 4 different characters, not a short or common part repeated ("passwordpassword"); not the email or the part before its @
   */
  password: string;
  /**
   * Another user's referral code
   */
  referralCode?: string;
};
