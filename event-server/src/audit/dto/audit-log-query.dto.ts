import { PaginationQueryDto } from '@reward/server-kit/pagination';
import { IsISO8601, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export class AuditLogQueryDto extends PaginationQueryDto {
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

  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}
