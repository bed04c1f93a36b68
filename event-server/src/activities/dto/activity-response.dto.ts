import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageResponseDto } from '@reward/server-kit/pagination';
import { ACTIVITY_SOURCES } from '../activity.schema.js';

export class ActivityResponseDto {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  userId!: string;

  @ApiProperty({ example: 'LOGIN' })
  type!: string;

  @ApiProperty({ format: 'date-time' })
  occurredAt!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { questId: 'main-quest-3' } })
  attributes?: Record<string, unknown>;

  @ApiProperty({ description: "The importer's id, or a generated one" })
  externalId!: string;

  @ApiProperty({
    enum: ACTIVITY_SOURCES,
    enumName: 'ActivitySource',
    description: 'IMPORT (POST /activities) or AUTH (logins, invites)',
  })
  source!: string;

  @ApiProperty({ description: 'Id of the operator or the name of the server that recorded it' })
  recordedBy!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}

export class ActivityPageResponseDto extends PageResponseDto {
  @ApiProperty({ type: [ActivityResponseDto] })
  items!: ActivityResponseDto[];
}

export class ImportConflictResponseDto {
  @ApiProperty({ type: 'integer', description: "The item's place in the request (0 for a single activity)" })
  index!: number;

  @ApiProperty()
  externalId!: string;
}

export class ImportResultResponseDto {
  @ApiProperty({ type: 'integer', description: 'Activities in the request' })
  received!: number;

  @ApiProperty({ type: 'integer', description: 'Newly recorded' })
  inserted!: number;

  @ApiProperty({
    type: 'integer',
    description: 'Already recorded under the same externalId, for the same user and type (a repeat), not recorded again',
  })
  duplicates!: number;

  @ApiPropertyOptional({
    type: () => [ImportConflictResponseDto],
    description:
      'Present when some items were not recorded because their externalId is already recorded for another user or ' +
      "another activity type, in the request's order (received = inserted + duplicates + these)",
  })
  conflicts?: ImportConflictResponseDto[];
}
