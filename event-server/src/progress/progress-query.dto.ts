import { OBJECT_ID_PATTERN, OBJECT_ID_SCHEMA_PATTERN } from '@reward/server-kit/object-id.pipe';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';

export class ProgressQueryDto {
  /** OPERATOR/ADMIN only: whose progress to show (a dry run for another player). */
  @ApiPropertyOptional({
    pattern: OBJECT_ID_SCHEMA_PATTERN,
    description: "OPERATOR/ADMIN only: another user's progress (a dry run of their claim); default: the caller",
  })
  @IsOptional()
  @Matches(OBJECT_ID_PATTERN, { message: 'userId must be a valid user id' })
  userId?: string;
}
