import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { OBJECT_ID_PATTERN, OBJECT_ID_SCHEMA_PATTERN } from '@reward/server-kit/object-id.pipe';
import { PaginationQueryDto } from '@reward/server-kit/pagination';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../payout.rules.js';

export class DeliveryFilterDto {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES, enumName: 'DeliveryStatus' })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: DeliveryStatus;

  @ApiPropertyOptional({ pattern: OBJECT_ID_SCHEMA_PATTERN, description: 'Only deliveries to this endpoint' })
  @IsOptional()
  @Matches(OBJECT_ID_PATTERN, { message: 'endpointId must be a valid id' })
  endpointId?: string;

  @ApiPropertyOptional({ pattern: OBJECT_ID_SCHEMA_PATTERN, description: "Only this claim's deliveries" })
  @IsOptional()
  @Matches(OBJECT_ID_PATTERN, { message: 'claimId must be a valid id' })
  claimId?: string;
}

export class ListDeliveriesQueryDto extends IntersectionType(PaginationQueryDto, DeliveryFilterDto) {}
