import { ApiProperty } from '@nestjs/swagger';
import { PageResponseDto } from '@reward/server-kit/pagination';

export class AuditLogResponseDto {
  @ApiProperty()
  id!: string;

  @ApiProperty({ description: 'Who made the change' })
  actorId!: string;

  @ApiProperty({ example: 'EVENT_CREATED' })
  action!: string;

  @ApiProperty({ example: 'EVENT' })
  targetType!: string;

  @ApiProperty()
  targetId!: string;

  @ApiProperty({ format: 'date-time' })
  at!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'What changed: for each field, `{before, after}` (or the facts of the action)',
  })
  changes!: Record<string, unknown>;
}

export class AuditLogPageResponseDto extends PageResponseDto {
  @ApiProperty({ type: [AuditLogResponseDto] })
  items!: AuditLogResponseDto[];
}
