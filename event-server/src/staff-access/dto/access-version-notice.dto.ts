import { OBJECT_ID_PATTERN } from '@reward/server-kit/object-id.pipe';
import { IsInt, IsISO8601, Matches, Max, Min } from 'class-validator';

/** The auth server's notice that a user's roles changed or they logged out everywhere (server to server). */
export class AccessVersionNoticeDto {
  @Matches(OBJECT_ID_PATTERN, { message: 'userId must be a valid id' })
  userId!: string;

  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  accessVersion!: number;

  /**
   * Why (ROLES_CHANGED, LOGGED_OUT_EVERYWHERE, LOGGED_OUT...): only stored. Any such name is taken, so that an
   * auth server that knows a reason this server does not yet (a rolling upgrade) is not refused with a 400,
   * which its outbox would take as final and the notice would be lost.
   */
  @Matches(/^[A-Z][A-Z_]{0,39}$/, { message: 'reason must be an upper-case name (A-Z and _), at most 40 characters' })
  reason!: string;

  @IsISO8601({ strict: true })
  at!: string;
}
