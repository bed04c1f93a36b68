import { OBJECT_ID_PATTERN, OBJECT_ID_SCHEMA_PATTERN } from '@reward/server-kit/object-id.pipe';
import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { PaginationQueryDto } from '@reward/server-kit/pagination';
import { IsOptional, Matches } from 'class-validator';
import { ACTIVITY_TYPE_PATTERN } from '../../conditions/condition.types.js';
import { TimeRangeQueryDto } from '../../common/time-range.js';

export class ActivityQueryDto extends IntersectionType(PaginationQueryDto, TimeRangeQueryDto) {
  @ApiPropertyOptional({ pattern: OBJECT_ID_SCHEMA_PATTERN })
  @IsOptional()
  @Matches(OBJECT_ID_PATTERN, { message: 'userId must be a valid user id' })
  userId?: string;

  @ApiPropertyOptional({ pattern: ACTIVITY_TYPE_PATTERN.source, example: 'LOGIN' })
  @IsOptional()
  @Matches(ACTIVITY_TYPE_PATTERN, { message: 'type must be an upper-case word such as LOGIN' })
  type?: string;
}
