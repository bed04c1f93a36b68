import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageResponseDto } from '@reward/server-kit/pagination';
import { REWARD_TYPES } from '../../rewards/reward.schema.js';
import { PAYOUT_STATUSES } from '../../payout/payout.rules.js';
import { CLAIM_REASONS, PUBLIC_CLAIM_STATUSES } from '../claim.state-machine.js';

export class ClaimRewardResponseDto {
  @ApiProperty({ example: '665f1c2b9d3e4a0012345679' })
  rewardId!: string;

  @ApiProperty({ enum: REWARD_TYPES, enumName: 'RewardType' })
  type!: string;

  @ApiProperty({ example: '100 points' })
  name!: string;

  @ApiProperty({ type: 'integer', example: 100 })
  quantity!: number;

  @ApiPropertyOptional({ description: "An ITEM reward's item code in the game, as the reward had it when the claim was made" })
  itemCode?: string;

  @ApiPropertyOptional({
    description:
      "A COUPON reward's coupon code, as the reward had it when the claim was made; shown to staff (OPERATOR, AUDITOR, ADMIN) and in the payout webhook only",
  })
  couponCode?: string;
}

export class ClaimPayoutResponseDto {
  @ApiProperty({
    enum: PAYOUT_STATUSES,
    enumName: 'PayoutStatus',
    description: 'NOT_REQUIRED when no webhook endpoint was subscribed to what happened to the claim',
  })
  status!: string;

  @ApiProperty({ type: 'integer', description: 'Delivery attempts so far, over all its webhooks' })
  attempts!: number;

  @ApiPropertyOptional({ format: 'date-time' })
  lastAttemptAt?: string;

  @ApiPropertyOptional({
    description:
      "Why the latest unsuccessful attempt failed; shown to staff (OPERATOR, AUDITOR, ADMIN) only: it quotes the game's receiver",
  })
  lastError?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'When the last of its webhooks was received' })
  deliveredAt?: string;
}

export class ClaimResponseDto {
  @ApiProperty({ example: '665f1c2b9d3e4a001234567a' })
  id!: string;

  @ApiProperty({ example: '665f1c2b9d3e4a0012345678' })
  eventId!: string;

  @ApiProperty({ example: '665f1c2b9d3e4a0012340000' })
  userId!: string;

  @ApiProperty({ enum: PUBLIC_CLAIM_STATUSES, enumName: 'ClaimStatus' })
  status!: string;

  @ApiPropertyOptional({ enum: CLAIM_REASONS, enumName: 'ClaimReason', description: 'Why the claim was rejected' })
  reason?: string;

  @ApiPropertyOptional({ description: "The reviewer's note (reject, revoke)" })
  note?: string;

  @ApiProperty({ type: [ClaimRewardResponseDto], description: 'What the claim grants (a copy taken when it was made)' })
  rewards!: ClaimRewardResponseDto[];

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'When the claim was decided; absent while it is PENDING' })
  decidedAt?: string;

  @ApiPropertyOptional({ description: 'Id of the reviewer (absent for decisions the system made)' })
  decidedBy?: string;

  @ApiProperty({ type: ClaimPayoutResponseDto, description: "Delivery of the claim's webhooks to the game" })
  payout!: ClaimPayoutResponseDto;
}

export class ClaimPageResponseDto extends PageResponseDto {
  @ApiProperty({ type: [ClaimResponseDto] })
  items!: ClaimResponseDto[];
}
