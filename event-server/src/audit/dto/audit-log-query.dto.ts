import { AUDIT_ACTIONS, AUDIT_TARGET_TYPES, type AuditAction, type AuditTargetType } from '@reward/server-kit/audit-actions';
import { OBJECT_ID_PATTERN } from '@reward/server-kit/object-id.pipe';
import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { PaginationQueryDto } from '@reward/server-kit/pagination';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { SYSTEM_ACTOR } from '../../claims/claim.js';
import { TimeRangeQueryDto } from '../../common/time-range.js';

/** A user id, or `system`: the actor of what the platform changed by itself (a 410 Gone turning an endpoint off). */
const ACTOR_PATTERN = new RegExp(`${OBJECT_ID_PATTERN.source}|^${SYSTEM_ACTOR}$`, 'i');

export class AuditLogQueryDto extends IntersectionType(PaginationQueryDto, TimeRangeQueryDto) {
  @ApiPropertyOptional({
    pattern: `^([0-9a-fA-F]{24}|${SYSTEM_ACTOR})$`,
    description: `Who made the change: a user id, or \`${SYSTEM_ACTOR}\` for what the platform changed by itself`,
  })
  @IsOptional()
  @Matches(ACTOR_PATTERN, { message: `actorId must be a valid user id or ${SYSTEM_ACTOR}` })
  actorId?: string;

  @ApiPropertyOptional({ enum: AUDIT_ACTIONS, enumName: 'AuditAction' })
  @IsOptional()
  @IsIn(AUDIT_ACTIONS)
  action?: AuditAction;

  @ApiPropertyOptional({ enum: AUDIT_TARGET_TYPES, enumName: 'AuditTargetType' })
  @IsOptional()
  @IsIn(AUDIT_TARGET_TYPES)
  targetType?: AuditTargetType;

  // An import's targetId is its externalId (up to 128 characters) or `batch:<externalId>+<n>`.
  @ApiPropertyOptional({
    maxLength: 160,
    description: 'The id of what was changed; for an activity import, its externalId (or `batch:<first externalId>+<n>`)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(160)
  targetId?: string;
}
