import { VISIBLE_CHARACTER } from '@reward/server-kit/validation';
import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString, Matches, MaxLength, ValidateBy } from 'class-validator';
import { CONDITION_PROPERTY } from '../../conditions/dto/condition.openapi.js';
import { APPROVAL_MODES, type ApprovalMode, EVENT_STATUSES, type EventStatus } from '../event.schema.js';

/**
 * An instant in ISO-8601's extended form with an explicit zone (Z or ±hh:mm): a bare local time would depend
 * on the server's clock zone. The other forms IsISO8601 accepts (basic `20260101T000000Z`, week
 * `2026-W01-1T00:00:00Z`, ordinal `2026-001T00:00:00Z`, hour only `2026-01-01T00Z`) are not read by
 * JavaScript's Date: they became an Invalid Date (a 500 on a list's filter, 1970 on a stored time).
 */
export const INSTANT_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/** The first and last instants an API date-time names in UTC (a four-digit year, as every answer writes it). */
const FIRST_INSTANT_MS = Date.parse('0000-01-01T00:00:00.000Z');
const LAST_INSTANT_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * Whether an instant written with its zone falls in years 0000-9999 once in UTC: `9999-12-31T23:00:00-23:59` is
 * in year 10000 there, which an answer writes `+010000-01-01T22:59:00.000Z`, a date-time the API itself refuses.
 * True for what the other checks refuse (they say why).
 */
export function isInWrittenYears(value: unknown): boolean {
  if (typeof value !== 'string' || !INSTANT_WITH_ZONE.test(value)) return true;
  const ms = Date.parse(value);
  return Number.isNaN(ms) || (ms >= FIRST_INSTANT_MS && ms <= LAST_INSTANT_MS);
}

/**
 * An instant whose offset's `+` became a space: what `?from=2031-01-01T09:00:00+09:00` reads as, a `+` in a URL's
 * query being a space (form encoding). Told as such: the other messages asked for "+09:00", which is what was sent.
 */
const OFFSET_PLUS_AS_SPACE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)? \d{2}:?\d{2}$/;

/**
 * An instant field: ISO-8601 (strict: a real date) in the extended form with its zone (INSTANT_WITH_ZONE), in years
 * 0000-9999 in UTC.
 */
export function IsInstant(): PropertyDecorator {
  return applyDecorators(
    IsISO8601({ strict: true }),
    Matches(INSTANT_WITH_ZONE, {
      message:
        '$property must be an ISO-8601 date-time that names its zone, like 2030-01-01T00:00:00Z or 2030-01-01T09:00:00+09:00',
    }),
    ValidateBy({
      name: 'isOffsetPlusNotSpace',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !OFFSET_PLUS_AS_SPACE.test(value),
        defaultMessage: () =>
          "$property has a space where its offset's + belongs: in a URL's query a + reads as a space, so write it %2B " +
          '(2031-01-01T09:00:00%2B09:00)',
      },
    }),
    ValidateBy({
      name: 'isInWrittenYears',
      validator: {
        validate: isInWrittenYears,
        defaultMessage: () => '$property must fall in the years 0000 to 9999 in UTC',
      },
    }),
  );
}

export class CreateEventDto {
  @ApiProperty({
    minLength: 1,
    maxLength: 200,
    example: '7-day login event',
    description: 'Stored trimmed; not only spaces or invisible characters',
  })
  @IsString()
  @IsNotEmpty()
  @Matches(VISIBLE_CHARACTER, { message: 'title must not be blank (only spaces or invisible characters)' })
  @MaxLength(200)
  title!: string;

  @ApiPropertyOptional({ maxLength: 2000, example: 'Log in on 3 days of the week to get 100 points' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiProperty({
    format: 'date-time',
    example: '2030-01-01T00:00:00Z',
    description: 'Before endAt; with its zone (Z or an offset)',
  })
  @IsInstant()
  startAt!: string;

  @ApiProperty({ format: 'date-time', example: '2030-01-08T00:00:00Z', description: 'At most 1830 days after startAt' })
  @IsInstant()
  endAt!: string;

  @ApiProperty({ enum: EVENT_STATUSES, enumName: 'EventStatus', description: 'Only ACTIVE events can be claimed' })
  @IsIn(EVENT_STATUSES)
  status!: EventStatus;

  @ApiProperty({ enum: APPROVAL_MODES, enumName: 'ApprovalMode', description: 'MANUAL: claims wait for an OPERATOR' })
  @IsIn(APPROVAL_MODES)
  approval!: ApprovalMode;

  /** IANA zone deciding where a "day" starts; default Asia/Seoul. Checked by the service. */
  @ApiPropertyOptional({ maxLength: 64, default: 'Asia/Seoul', example: 'Asia/Seoul', description: 'IANA time zone' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  timezone?: string;

  /** The condition DSL; checked in depth by the condition validator, which names the exact path. */
  @ApiProperty(CONDITION_PROPERTY)
  @IsObject()
  condition!: Record<string, unknown>;
}
