import { OBJECT_ID_PATTERN } from '@reward/server-kit/object-id.pipe';
import { IsISO8601, IsObject, IsString, Matches, MaxLength } from 'class-validator';

/** A staff change made on another server (the auth server's role changes), reported server-to-server. */
export class InternalAuditEntryDto {
  @Matches(OBJECT_ID_PATTERN, { message: 'actorId must be a valid id' })
  actorId!: string;

  @Matches(/^[A-Z][A-Z0-9_]{0,63}$/, { message: 'action must be an upper-case word such as USER_ROLES_CHANGED' })
  action!: string;

  @Matches(/^[A-Z][A-Z0-9_]{0,63}$/, { message: 'targetType must be an upper-case word such as USER' })
  targetType!: string;

  @IsString()
  @MaxLength(128)
  targetId!: string;

  @IsISO8601({ strict: true })
  at!: string;

  @IsObject()
  changes!: Record<string, unknown>;

  /** Makes redelivery harmless: the same id is recorded once. */
  @IsString()
  @MaxLength(128)
  externalId!: string;
}
