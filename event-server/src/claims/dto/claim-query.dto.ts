import { OBJECT_ID_PATTERN, OBJECT_ID_SCHEMA_PATTERN } from '@reward/server-kit/object-id.pipe';
import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { PaginationQueryDto } from '@reward/server-kit/pagination';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { TimeRangeQueryDto } from '../../common/time-range.js';
import { PAYOUT_STATUSES, type PayoutStatus } from '../../payout/payout.rules.js';
import { PUBLIC_CLAIM_STATUSES, type PublicClaimStatus } from '../claim.state-machine.js';

/** Filters of GET /claims/me. */
export class MyClaimFilterDto {
  @ApiPropertyOptional({ pattern: OBJECT_ID_SCHEMA_PATTERN, description: 'Only claims for this event' })
  @IsOptional()
  @Matches(OBJECT_ID_PATTERN, { message: 'eventId must be a valid id' })
  eventId?: string;

  @ApiPropertyOptional({ enum: PUBLIC_CLAIM_STATUSES, enumName: 'ClaimStatus' })
  @IsOptional()
  @IsIn(PUBLIC_CLAIM_STATUSES)
  status?: PublicClaimStatus;
}

/** Filters of GET /claims and GET /claims/export; `from`/`to` bound the claim's creation time. */
export class ClaimFilterDto extends IntersectionType(MyClaimFilterDto, TimeRangeQueryDto) {
  @ApiPropertyOptional({ pattern: OBJECT_ID_SCHEMA_PATTERN, description: "Only this user's claims" })
  @IsOptional()
  @Matches(OBJECT_ID_PATTERN, { message: 'userId must be a valid user id' })
  userId?: string;

  @ApiPropertyOptional({ enum: PAYOUT_STATUSES, enumName: 'PayoutStatus', description: 'Only claims with this payout status' })
  @IsOptional()
  @IsIn(PAYOUT_STATUSES)
  payoutStatus?: PayoutStatus;
}

/** GET /claims/export: the filters, and whether the file starts with a byte order mark. */
export class ExportClaimsQueryDto extends ClaimFilterDto {
  @ApiPropertyOptional({
    enum: ['true', 'false'],
    default: 'false',
    description:
      'true: the file starts with a UTF-8 byte order mark, so Excel reads it as UTF-8 (Korean or other non-Latin ' +
      'text shows as written instead of mojibake). Other tools do not need it.',
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  bom?: 'true' | 'false';
}

export class MyClaimsQueryDto extends IntersectionType(PaginationQueryDto, MyClaimFilterDto) {}

export class ListClaimsQueryDto extends IntersectionType(PaginationQueryDto, ClaimFilterDto) {}
