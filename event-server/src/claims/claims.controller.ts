import { Body, Controller, Get, Header, Headers, HttpCode, Param, Post, Query, StreamableFile } from '@nestjs/common';
import { CurrentUser, Roles } from '@reward/server-kit/auth.guards';
import { ParseObjectIdPipe } from '@reward/server-kit/object-id.pipe';
import type { Page } from '@reward/server-kit/pagination';
import { type AuthenticatedUser, Role } from '@reward/server-kit/roles';
import { toTimeRange } from '../common/time-range.js';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey } from '../idempotency/idempotency.rules.js';
import { ClaimHistoryService } from './claim-history.service.js';
import type { ClaimFilter } from './claim.repository.js';
import { ClaimReviewService } from './claim-review.service.js';
import type { ClaimView } from './claim.view.js';
import { ClaimsService } from './claims.service.js';
import { ClaimFilterDto, ListClaimsQueryDto, MyClaimsQueryDto } from './dto/claim-query.dto.js';
import { requireEmptyBody } from './dto/empty-body.js';
import { ReviewNoteDto } from './dto/review-note.dto.js';

function filterOf(query: ClaimFilterDto): ClaimFilter {
  const { from, to } = toTimeRange(query.from, query.to);
  return {
    ...(query.eventId && { eventId: query.eventId.toLowerCase() }),
    ...(query.userId && { userId: query.userId.toLowerCase() }),
    ...(query.status && { status: query.status }),
    ...(from && { from }),
    ...(to && { to }),
  };
}

@Controller('events')
export class EventClaimsController {
  constructor(private readonly claims: ClaimsService) {}

  /** 201 GRANTED/PENDING; refusals (409/422) carry the recorded claim plus `code`. */
  @Post(':id/claims')
  @HttpCode(201)
  @Roles(Role.USER)
  claim(
    @Param('id', ParseObjectIdPipe) eventId: string,
    @Body() body: unknown,
    @Headers(IDEMPOTENCY_KEY_HEADER) idempotencyKey: string | undefined,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<ClaimView> {
    requireEmptyBody(body);
    return this.claims.claim(eventId, user.id, parseIdempotencyKey(idempotencyKey));
  }
}

@Controller('claims')
export class ClaimsController {
  constructor(
    private readonly history: ClaimHistoryService,
    private readonly review: ClaimReviewService,
  ) {}

  @Get('me')
  mine(@Query() query: MyClaimsQueryDto, @CurrentUser() user: AuthenticatedUser): Promise<Page<ClaimView>> {
    return this.history.list({ ...filterOf(query), userId: user.id }, query);
  }

  @Get('export')
  @Roles(Role.OPERATOR, Role.AUDITOR)
  @Header('content-disposition', 'attachment; filename="claims.csv"')
  export(@Query() query: ClaimFilterDto): StreamableFile {
    return new StreamableFile(this.history.exportCsv(filterOf(query)), { type: 'text/csv; charset=utf-8' });
  }

  @Get()
  @Roles(Role.OPERATOR, Role.AUDITOR)
  list(@Query() query: ListClaimsQueryDto): Promise<Page<ClaimView>> {
    return this.history.list(filterOf(query), query);
  }

  @Get(':id')
  get(@Param('id', ParseObjectIdPipe) id: string, @CurrentUser() user: AuthenticatedUser): Promise<ClaimView> {
    return this.history.get(id, user);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @Roles(Role.OPERATOR)
  approve(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: unknown,
    @CurrentUser() actor: AuthenticatedUser,
  ): Promise<ClaimView> {
    requireEmptyBody(body);
    return this.review.review(id, 'APPROVE', actor);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @Roles(Role.OPERATOR)
  reject(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: ReviewNoteDto,
    @CurrentUser() actor: AuthenticatedUser,
  ): Promise<ClaimView> {
    return this.review.review(id, 'REJECT', actor, body.note);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @Roles(Role.OPERATOR)
  revoke(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: ReviewNoteDto,
    @CurrentUser() actor: AuthenticatedUser,
  ): Promise<ClaimView> {
    return this.review.review(id, 'REVOKE', actor, body.note);
  }
}
