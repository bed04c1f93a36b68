import { OBJECT_ID_PATTERN, OBJECT_ID_SCHEMA_PATTERN } from '@reward/server-kit/object-id.pipe';
import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { PaginationQueryDto } from '@reward/server-kit/pagination';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { TimeRangeQueryDto } from '../../common/time-range.js';

export class AuditLogQueryDto extends IntersectionType(PaginationQueryDto, TimeRangeQueryDto) {
  @ApiPropertyOptional({ pattern: OBJECT_ID_SCHEMA_PATTERN, description: 'Who made the change' })
  @IsOptional()
  @Matches(OBJECT_ID_PATTERN, { message: 'actorId must be a valid id' })
  actorId?: string;

  @ApiPropertyOptional({ maxLength: 64, example: 'EVENT_CREATED' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  action?: string;

  @ApiPropertyOptional({ maxLength: 64, example: 'EVENT' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  targetType?: string;

  @ApiPropertyOptional({ maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  targetId?: string;
}
