import { ApiPropertyOptional, PartialType, PickType } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { CreateRewardDto } from './create-reward.dto.js';

/**
 * What may change of a reward once made: its name, quantity and codes (a claim keeps the reward as it was when
 * it was made), and a limited reward's stock, raised only. Its type and whether it is limited stay.
 */
export class UpdateRewardDto extends PartialType(PickType(CreateRewardDto, ['name', 'quantity', 'itemCode', 'couponCode'])) {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 10_000_000,
    example: 150,
    description: "A limited reward's new stock: at least its stock now (units granted stay granted)",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  stock?: number;
}
