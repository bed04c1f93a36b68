import { IntersectionType } from '@nestjs/swagger';
import { PaginationQueryDto } from '@reward/server-kit/pagination';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { TimeRangeQueryDto } from '../../common/time-range.js';
import { PUBLIC_CLAIM_STATUSES, type PublicClaimStatus } from '../claim.state-machine.js';

const OBJECT_ID = /^[0-9a-f]{24}$/i;

/** Filters of GET /claims/me. */
export class MyClaimFilterDto {
  @IsOptional()
  @Matches(OBJECT_ID, { message: 'eventId must be a valid id' })
  eventId?: string;

  @IsOptional()
  @IsIn(PUBLIC_CLAIM_STATUSES)
  status?: PublicClaimStatus;
}

/** Filters of GET /claims and GET /claims/export; `from`/`to` bound the claim's creation time. */
export class ClaimFilterDto extends IntersectionType(MyClaimFilterDto, TimeRangeQueryDto) {
  @IsOptional()
  @Matches(OBJECT_ID, { message: 'userId must be a valid user id' })
  userId?: string;
}

export class MyClaimsQueryDto extends IntersectionType(PaginationQueryDto, MyClaimFilterDto) {}

export class ListClaimsQueryDto extends IntersectionType(PaginationQueryDto, ClaimFilterDto) {}
