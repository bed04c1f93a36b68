import { ApiPropertyOptional } from '@nestjs/swagger';
import { PaginationQueryDto } from '@reward/server-kit/pagination';
import { IsIn, IsOptional } from 'class-validator';
import { IsInstant } from './create-event.dto.js';
import { EVENT_STATUSES, type EventStatus } from '../event.schema.js';

export class ListEventsQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ enum: EVENT_STATUSES, enumName: 'EventStatus' })
  @IsOptional()
  @IsIn(EVENT_STATUSES)
  status?: EventStatus;

  /** Only events whose period contains this instant. */
  @ApiPropertyOptional({ format: 'date-time', description: 'Only events whose period contains this instant' })
  @IsOptional()
  @IsInstant()
  activeAt?: string;
}
