import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { REWARD_TYPES } from '../reward.schema.js';

export class RewardResponseDto {
  @ApiProperty({ example: '665f1c2b9d3e4a0012345679' })
  id!: string;

  @ApiProperty({ example: '665f1c2b9d3e4a0012345678' })
  eventId!: string;

  @ApiProperty({ enum: REWARD_TYPES, enumName: 'RewardType' })
  type!: string;

  @ApiProperty({ example: '100 points' })
  name!: string;

  @ApiProperty({ type: 'integer', example: 100, description: 'How much one grant gives' })
  quantity!: number;

  @ApiProperty({ type: 'integer', nullable: true, example: 50, description: 'Total grants; null = unlimited' })
  stock!: number | null;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 49,
    description:
      'Grants still available; null = unlimited. Counted at the moment for staff (OPERATOR, AUDITOR, ADMIN); for ' +
      'players a count shared between views, which shows a grant made through another replica within twice ' +
      'CLAIM_CATALOG_TTL_MS (2 s) plus the time two counts of the units take',
  })
  remaining!: number | null;

  @ApiPropertyOptional({ example: 'SWORD_01' })
  itemCode?: string;

  @ApiPropertyOptional({ example: 'WELCOME10', description: 'COUPON rewards; shown to staff only (OPERATOR, AUDITOR, ADMIN)' })
  couponCode?: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}
