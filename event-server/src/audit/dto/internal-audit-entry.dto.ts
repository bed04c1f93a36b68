import { AuditTargetType, REPORTED_AUDIT_ACTIONS, type ReportedAuditAction } from '@reward/server-kit/audit-actions';
import { OBJECT_ID_PATTERN } from '@reward/server-kit/object-id.pipe';
import { IsIn, IsISO8601, IsObject, IsString, Matches, MaxLength } from 'class-validator';

/** A staff change made on another server (the auth server's role changes), reported server-to-server. */
export class InternalAuditEntryDto {
  @Matches(OBJECT_ID_PATTERN, { message: 'actorId must be a valid id' })
  actorId!: string;

  /** Only the auth server's own actions: an entry under any other name would pose as the event server's. */
  @IsIn(REPORTED_AUDIT_ACTIONS)
  action!: ReportedAuditAction;

  @IsIn([AuditTargetType.USER])
  targetType!: typeof AuditTargetType.USER;

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
