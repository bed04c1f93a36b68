import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';

export class ProgressQueryDto {
  /** OPERATOR/ADMIN only: whose progress to show (a dry run for another player). */
  @ApiPropertyOptional({
    pattern: '^[0-9a-fA-F]{24}$',
    description: "OPERATOR/ADMIN only: another user's progress (a dry run of their claim); default: the caller",
  })
  @IsOptional()
  @Matches(/^[0-9a-f]{24}$/i, { message: 'userId must be a valid user id' })
  userId?: string;
}
