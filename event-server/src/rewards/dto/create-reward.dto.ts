import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { REWARD_TYPES, type RewardType } from '../reward.schema.js';

const CODE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export class CreateRewardDto {
  @IsIn(REWARD_TYPES)
  type!: RewardType;

  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name!: string;

  /** How much one grant gives. */
  @IsInt()
  @Min(1)
  @Max(1_000_000_000)
  quantity!: number;

  /** How many grants exist in total; absent = unlimited. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  stock?: number;

  /** Required for ITEM rewards, refused for the others. */
  @IsOptional()
  @Matches(CODE, { message: 'itemCode must be 1-64 letters, digits or . _ : -' })
  itemCode?: string;

  /** Required for COUPON rewards, refused for the others. */
  @IsOptional()
  @Matches(CODE, { message: 'couponCode must be 1-64 letters, digits or . _ : -' })
  couponCode?: string;
}
