import { VISIBLE_CHARACTER } from '@reward/server-kit/validation';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { REWARD_TYPES, type RewardType } from '../reward.schema.js';

const CODE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export class CreateRewardDto {
  @ApiProperty({ enum: REWARD_TYPES, enumName: 'RewardType' })
  @IsIn(REWARD_TYPES)
  type!: RewardType;

  @ApiProperty({
    minLength: 1,
    maxLength: 100,
    example: '100 points',
    description: 'Stored trimmed; not only spaces or invisible characters',
  })
  @IsString()
  @IsNotEmpty()
  @Matches(VISIBLE_CHARACTER, { message: 'name must not be blank (only spaces or invisible characters)' })
  @MaxLength(100)
  name!: string;

  /** How much one grant gives. */
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 1_000_000_000, example: 100, description: 'How much one grant gives' })
  @IsInt()
  @Min(1)
  @Max(1_000_000_000)
  quantity!: number;

  /** How many grants exist in total; absent = unlimited. */
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 10_000_000,
    example: 50,
    description: 'How many grants exist in total; absent = unlimited',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  stock?: number;

  /** Required for ITEM rewards, refused for the others. */
  @ApiPropertyOptional({
    pattern: CODE.source,
    example: 'SWORD_01',
    description: 'Required for ITEM rewards, refused for the others',
  })
  @IsOptional()
  @Matches(CODE, { message: 'itemCode must be 1-64 letters, digits or . _ : -, starting with a letter or digit' })
  itemCode?: string;

  /** Required for COUPON rewards, refused for the others. */
  @ApiPropertyOptional({
    pattern: CODE.source,
    example: 'WELCOME10',
    description: 'Required for COUPON rewards, refused for the others',
  })
  @IsOptional()
  @Matches(CODE, { message: 'couponCode must be 1-64 letters, digits or . _ : -, starting with a letter or digit' })
  couponCode?: string;
}
