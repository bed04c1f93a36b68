import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { ACTIVITY_TYPE_PATTERN } from '../../conditions/condition.types.js';
import { INSTANT_WITH_ZONE } from '../../events/dto/create-event.dto.js';

export const MAX_BATCH_SIZE = 1000;

export class ActivityInputDto {
  @Matches(/^[0-9a-f]{24}$/i, { message: 'userId must be a valid user id' })
  userId!: string;

  @Matches(ACTIVITY_TYPE_PATTERN, { message: 'type must be an upper-case word such as LOGIN or BOSS_KILL' })
  type!: string;

  /** Defaults to now; may not be in the future. */
  @IsOptional()
  @IsISO8601({ strict: true })
  @Matches(INSTANT_WITH_ZONE, { message: 'occurredAt must name its zone (Z or an offset)' })
  occurredAt?: string;

  @IsOptional()
  @IsObject()
  attributes?: Record<string, unknown>;

  /** Makes the write idempotent: the same externalId twice records one activity. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  externalId?: string;
}

export class ActivityBatchDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH_SIZE)
  @ValidateNested({ each: true })
  @Type(() => ActivityInputDto)
  items!: ActivityInputDto[];
}
