import { IsOptional, Matches } from 'class-validator';

export class ProgressQueryDto {
  /** OPERATOR/ADMIN only: whose progress to show (a dry run for another player). */
  @IsOptional()
  @Matches(/^[0-9a-f]{24}$/i, { message: 'userId must be a valid user id' })
  userId?: string;
}
