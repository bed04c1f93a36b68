import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateBy } from 'class-validator';
import { VISIBLE_CHARACTER } from '@reward/server-kit/validation';
import { PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH } from '../../config/auth-config.js';
import { legacyEmailSpelling, lookalikeEmailProblem } from '../user.js';
import { normalizedPassword, passwordBytes } from '../password-policy.js';
import { AcceptablePassword } from './password-rules.js';

const trimmed = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);

/**
 * bcrypt reads at most 72 bytes; a longer password would be silently cut, so it is refused instead. Counted
 * as hashed too (NFC, which lengthens a few characters: passwordBytes).
 */
export function MaxUtf8Bytes(max: number): PropertyDecorator {
  return ValidateBy({
    name: 'maxUtf8Bytes',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && passwordBytes(value) <= max,
      defaultMessage: (args) => `${args?.property ?? 'value'} must be at most ${max} bytes (UTF-8)`,
    },
  });
}

/**
 * bcrypt reads a password as a C string: a NUL ends it, so "pass\u0000anything" would be the password "pass".
 * Control characters (NUL included) are refused outright rather than hashed.
 */
export const NO_CONTROL_CHARACTERS = /^[^\p{Cc}]*$/u;

export function NoControlCharacters(): PropertyDecorator {
  return Matches(NO_CONTROL_CHARACTERS, { message: ({ property }) => `${property} must not contain control characters` });
}

/**
 * Unicode format characters (\p{Cf}: zero-width spaces and joiners, bidirectional marks and overrides, the BOM,
 * the soft hyphen) draw nothing or reorder what follows: `admin\u200b@example.com` is another account that
 * reads as `admin@example.com` in the users list an ADMIN grants roles from. No mailbox needs one.
 */
export const NO_FORMAT_CHARACTERS = /^[^\p{Cf}]*$/u;

/**
 * The characters that reorder the text around them (RFC 9839's bidi formatting characters: LRM, RLM, ALM,
 * the embeddings, overrides and isolates): `\u202Enimda` shows as `admin`. Zero-width joiners stay allowed in a
 * nickname (emoji sequences and several scripts need them).
 */
export const NO_BIDI_CONTROLS = /^[^\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]*$/u;

/**
 * At least `min` characters as hashed (NFC, see normalizedPassword): Hangul sent as jamo is two or three code
 * points a syllable, so a 4-syllable password would otherwise pass a minimum of 8 in one form and not the other.
 */
export function MinNormalizedLength(min: number): PropertyDecorator {
  return ValidateBy({
    name: 'minNormalizedLength',
    constraints: [min],
    validator: {
      validate: (value: unknown) => typeof value === 'string' && normalizedPassword(value).length >= min,
      defaultMessage: (args) => `${args?.property ?? 'value'} must be longer than or equal to ${min} characters`,
    },
  });
}

/** A password being chosen (registration's `password`, a change's `newPassword`): every rule a new one meets. */
export function ChosenPassword(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    MinNormalizedLength(PASSWORD_MIN_LENGTH),
    MaxUtf8Bytes(PASSWORD_MAX_BYTES),
    NoControlCharacters(),
    AcceptablePassword(),
  );
}

/**
 * A password presented to be checked (a login's, a change's `currentPassword`): any account's, so only bounded
 * (no account can have a control character, nor one longer than this).
 */
export function PresentedPassword(): PropertyDecorator {
  return applyDecorators(IsString(), MinLength(1), MaxLength(1024), NoControlCharacters());
}

/**
 * An address that cannot pass for another in the users list (lookalikeEmailProblem): anything but a plain
 * ASCII dot-atom before the @, or a domain mixing scripts or holding look-alike letters, digits or marks, is
 * refused at registration.
 */
function NotLookalike(): PropertyDecorator {
  return ValidateBy({
    name: 'notLookalike',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || lookalikeEmailProblem(value) === undefined,
      defaultMessage: (args) =>
        `${args?.property ?? 'email'} is refused: ${typeof args?.value === 'string' ? (lookalikeEmailProblem(args.value) ?? '') : ''}`,
    },
  });
}

export class RegisterUserDto {
  @ApiProperty({
    format: 'email',
    maxLength: 254,
    example: 'alice@example.com',
    description:
      'One account per address: compared trimmed, lower-cased, in Unicode NFC and with an internationalised domain in one form (Unicode or punycode); no invisible formatting characters (zero-width or bidirectional); a plain ASCII part before the @, and a domain whose letters keep to one script, Latin ones being ASCII letters with or without accents (look-alike spellings are refused)',
  })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? legacyEmailSpelling(value) : value))
  @IsString()
  @MaxLength(254)
  @IsEmail()
  @Matches(NO_FORMAT_CHARACTERS, {
    message: ({ property }) => `${property} must not contain invisible formatting characters (zero-width or bidirectional)`,
  })
  @NotLookalike()
  email: string;

  @ApiProperty({
    minLength: PASSWORD_MIN_LENGTH,
    maxLength: PASSWORD_MAX_BYTES,
    example: 'correct horse battery staple',
    description: `Hashed and compared in Unicode NFC, so the same password typed with a combining accent or as Hangul jamo signs in too: at least ${PASSWORD_MIN_LENGTH} characters in NFC, at most ${PASSWORD_MAX_BYTES} bytes (UTF-8) as typed and in NFC; no control characters; at least one visible character; not one of the most common passwords ("password1", "12345678"); at least 4 different characters, not a short or common part repeated ("passwordpassword"); not the email or the part before its @`,
  })
  @ChosenPassword()
  password: string;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 32,
    example: 'alice',
    description:
      'Trimmed; at least one visible character; no control characters and no bidirectional formatting characters (they reorder the text shown)',
  })
  @IsOptional()
  @Transform(trimmed)
  @IsString()
  @MinLength(1)
  @MaxLength(32)
  @NoControlCharacters()
  @Matches(NO_BIDI_CONTROLS, { message: ({ property }) => `${property} must not contain bidirectional formatting characters` })
  @Matches(VISIBLE_CHARACTER, {
    message: ({ property }) => `${property} must not be blank (only spaces or invisible characters)`,
  })
  nickname?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 64, description: "Another user's referral code", example: 'K7M2Q9XA' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toUpperCase() : value))
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  referralCode?: string;
}
