import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { PaginationQueryDto } from '@reward/server-kit/pagination';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { TimeRangeQueryDto } from '../../common/time-range.js';

export class AuditLogQueryDto extends IntersectionType(PaginationQueryDto, TimeRangeQueryDto) {
  @ApiPropertyOptional({ pattern: '^[0-9a-fA-F]{24}$', description: 'Who made the change' })
  @IsOptional()
  @Matches(/^[0-9a-f]{24}$/i, { message: 'actorId must be a valid id' })
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
