import { OBJECT_ID_PATTERN } from '@reward/server-kit/object-id.pipe';
import { IsIn, IsInt, IsISO8601, Matches, Max, Min } from 'class-validator';

/** The auth server's notice that a user's roles changed or they logged out everywhere (server to server). */
export class AccessVersionNoticeDto {
  @Matches(OBJECT_ID_PATTERN, { message: 'userId must be a valid id' })
  userId!: string;

  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  accessVersion!: number;

  @IsIn(['ROLES_CHANGED', 'LOGGED_OUT_EVERYWHERE', 'LOGGED_OUT'])
  reason!: string;

  @IsISO8601({ strict: true })
  at!: string;
}
