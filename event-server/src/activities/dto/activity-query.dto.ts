import { PaginationQueryDto } from '@reward/server-kit/pagination';
import { IsISO8601, IsOptional, Matches } from 'class-validator';
import { ACTIVITY_TYPE_PATTERN } from '../../conditions/condition.types.js';

export class ActivityQueryDto extends PaginationQueryDto {
  @IsOptional()
  @Matches(/^[0-9a-f]{24}$/i, { message: 'userId must be a valid user id' })
  userId?: string;

  @IsOptional()
  @Matches(ACTIVITY_TYPE_PATTERN, { message: 'type must be an upper-case word such as LOGIN' })
  type?: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}
