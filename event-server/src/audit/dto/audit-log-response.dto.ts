import { ApiProperty } from '@nestjs/swagger';
import { AUDIT_ACTIONS, AUDIT_TARGET_TYPES } from '@reward/server-kit/audit-actions';
import { PageResponseDto } from '@reward/server-kit/pagination';

export class AuditLogResponseDto {
  @ApiProperty()
  id!: string;

  @ApiProperty({ description: 'Who made the change' })
  actorId!: string;

  @ApiProperty({ enum: AUDIT_ACTIONS, enumName: 'AuditAction', example: 'EVENT_CREATED' })
  action!: string;

  @ApiProperty({ enum: AUDIT_TARGET_TYPES, enumName: 'AuditTargetType', example: 'EVENT' })
  targetType!: string;

  @ApiProperty()
  targetId!: string;

  @ApiProperty({ format: 'date-time' })
  at!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'What changed: for each field, `{before, after}` (or the facts of the action; see docs/api-rules.md)',
  })
  changes!: Record<string, unknown>;
}

export class AuditLogPageResponseDto extends PageResponseDto {
  @ApiProperty({ type: [AuditLogResponseDto] })
  items!: AuditLogResponseDto[];
}
