import { IntersectionType } from '@nestjs/swagger';
import { PaginationQueryDto } from '@reward/server-kit/pagination';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { TimeRangeQueryDto } from '../../common/time-range.js';

export class AuditLogQueryDto extends IntersectionType(PaginationQueryDto, TimeRangeQueryDto) {
  @IsOptional()
  @Matches(/^[0-9a-f]{24}$/i, { message: 'actorId must be a valid id' })
  actorId?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  action?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  targetType?: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  targetId?: string;
}
