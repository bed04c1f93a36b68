import { OBJECT_ID_PATTERN, OBJECT_ID_SCHEMA_PATTERN } from '@reward/server-kit/object-id.pipe';
import { VISIBLE_CHARACTER } from '@reward/server-kit/validation';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { ACTIVITY_TYPE_PATTERN } from '../../conditions/condition.types.js';
import { IsInstant } from '../../events/dto/create-event.dto.js';

export const MAX_BATCH_SIZE = 1000;

export class ActivityInputDto {
  @ApiProperty({ pattern: OBJECT_ID_SCHEMA_PATTERN, description: 'The player' })
  @Matches(OBJECT_ID_PATTERN, { message: 'userId must be a valid user id' })
  userId!: string;

  @ApiProperty({
    pattern: ACTIVITY_TYPE_PATTERN.source,
    example: 'QUEST_CLEAR',
    description: 'LOGIN, FRIEND_INVITE, QUEST_CLEAR (needs attributes.questId) or any other upper-case word',
  })
  @Matches(ACTIVITY_TYPE_PATTERN, { message: 'type must be an upper-case word such as LOGIN or BOSS_KILL' })
  type!: string;

  /** Defaults to now; may not be in the future. */
  @ApiPropertyOptional({ format: 'date-time', description: 'Default now; not in the future; with its zone (Z or an offset)' })
  @IsOptional()
  @IsInstant()
  occurredAt?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { questId: 'main-quest-3' },
    description:
      'Small facts (at most 4096 bytes of JSON; keys may not start with $ or contain a dot); a QUEST_CLEAR needs questId, a string of at most 128 characters',
  })
  @IsOptional()
  @IsObject()
  attributes?: Record<string, unknown>;

  /** Makes the write idempotent: the same externalId twice records one activity. */
  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 128,
    example: 'game-7:quest:123',
    description:
      'Makes the import idempotent: the same externalId twice records one activity; not blank (only spaces or invisible characters)',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @Matches(VISIBLE_CHARACTER, { message: 'externalId must not be blank (only spaces or invisible characters)' })
  externalId?: string;
}

export class ActivityBatchDto {
  @ApiProperty({ type: [ActivityInputDto], minItems: 1, maxItems: MAX_BATCH_SIZE })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_SIZE)
  // ValidateNested's each-rule takes an array in an item's place (and validates what it holds), so an item that
  // is an array reached the service, which read its fields: a 500.
  @IsObject({ each: true, message: 'each value in items must be an object' })
  @ValidateNested({ each: true })
  @Type(() => ActivityInputDto)
  items!: ActivityInputDto[];
}
