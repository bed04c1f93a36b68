import { ApiPropertyOptional } from '@nestjs/swagger';
import { PaginationQueryDto } from '@reward/server-kit/pagination';
import { IsIn, IsISO8601, IsOptional, Matches } from 'class-validator';
import { INSTANT_WITH_ZONE, instantMessage } from './create-event.dto.js';
import { EVENT_STATUSES, type EventStatus } from '../event.schema.js';

export class ListEventsQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ enum: EVENT_STATUSES, enumName: 'EventStatus' })
  @IsOptional()
  @IsIn(EVENT_STATUSES)
  status?: EventStatus;

  /** Only events whose period contains this instant. */
  @ApiPropertyOptional({ format: 'date-time', description: 'Only events whose period contains this instant' })
  @IsOptional()
  @IsISO8601({ strict: true })
  @Matches(INSTANT_WITH_ZONE, { message: instantMessage('activeAt') })
  activeAt?: string;
}
