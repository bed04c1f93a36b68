import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { LEAF_TYPES } from '../conditions/condition.types.js';

export class LeafProgressResponseDto {
  @ApiProperty({ enum: LEAF_TYPES, enumName: 'LeafConditionType' })
  type!: string;

  @ApiProperty({ type: 'integer', example: 3 })
  required!: number;

  @ApiProperty({ type: 'integer', example: 2, description: 'How much the player has, counted up to `required`' })
  current!: number;

  @ApiProperty()
  met!: boolean;

  @ApiPropertyOptional({ description: 'ACTIVITY_COUNT: the activity type counted' })
  activity?: string;

  @ApiPropertyOptional({ description: 'QUEST_CLEAR: the quest' })
  questId?: string;
}

export class ProgressResponseDto {
  @ApiProperty()
  eventId!: string;

  @ApiProperty()
  userId!: string;

  @ApiProperty({ description: 'Whether the condition holds now (a claim would pass the condition check)' })
  eligible!: boolean;

  @ApiProperty({ type: [LeafProgressResponseDto], description: 'One entry per leaf condition' })
  conditions!: LeafProgressResponseDto[];
}
