import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsInstant } from '../events/dto/create-event.dto.js';

export interface TimeRange {
  from?: Date;
  to?: Date;
}

/** `from`/`to` query values (already checked as ISO-8601) as a range; `from` after `to` is a 400. */
export function toTimeRange(from?: string, to?: string): TimeRange {
  const range: TimeRange = { from: from ? new Date(from) : undefined, to: to ? new Date(to) : undefined };
  if (range.from && range.to && range.from.getTime() > range.to.getTime()) {
    throw new DomainError(400, CommonErrorCode.VALIDATION_FAILED, ['from must not be after to']);
  }
  return range;
}

/** `from`/`to` query filters (ISO-8601 instants, both ends included); combine with the list's own filters. */
export class TimeRangeQueryDto {
  @ApiPropertyOptional({ format: 'date-time', description: 'From this instant (included); not after `to`' })
  @IsOptional()
  @IsInstant()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Up to this instant (included)' })
  @IsOptional()
  @IsInstant()
  to?: string;
}
