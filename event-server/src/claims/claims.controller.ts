import { Readable } from 'node:stream';
import { Body, Controller, Get, Header, Headers, HttpCode, Param, Post, Query, Req, Res, StreamableFile } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiHeader, ApiOkResponse, ApiProduces, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles } from '@reward/server-kit/auth.guards';
import { requireEmptyBody } from '@reward/server-kit/empty-body';
import { CommonErrorCode, DomainError } from '@reward/server-kit/errors';
import { IDEMPOTENCY_KEY_SCHEMA } from '@reward/server-kit/idempotency-key';
import { ApiEndpoint, ApiPageQuery } from '@reward/server-kit/openapi';
import { ParseObjectIdPipe } from '@reward/server-kit/object-id.pipe';
import type { Page } from '@reward/server-kit/pagination';
import { type AuthenticatedUser, Role } from '@reward/server-kit/roles';
import { ANSWER_OWED_HEADER, isAnswerOwed, isResentAfterDrop, wasSentOnAfterDrop } from '@reward/server-kit/resent-after-drop';
import { msLeftToStart } from '@reward/server-kit/start-by';
import { toTimeRange } from '../common/time-range.js';
import { EventErrorCode } from '../events/event.errors.js';
import {
  IDEMPOTENCY_KEY_HEADER,
  IdempotencyErrorCode,
  isIdempotencyInProgress,
  parseIdempotencyKey,
} from '../idempotency/idempotency.rules.js';
import { ClaimErrorCode, claimError, retryAfterOf } from './claim.errors.js';
import { PLAYER_READS } from '../player-reads/player-reads.js';
import { ClaimHistoryService } from './claim-history.service.js';
import type { ClaimFilter, ClaimOutcome, ClaimRecord, ClaimRefusal } from './claim.js';
import { toClaimResponse, toPlayerClaimResponse } from './claim.mapper.js';
import { claimsStaffRole } from '../staff-access/staff-access.rules.js';
import { ClaimReviewService, type ReviewArrival } from './claim-review.service.js';
import { ClaimsService } from './claims.service.js';
import { ClaimFilterDto, ExportClaimsQueryDto, ListClaimsQueryDto, MyClaimsQueryDto } from './dto/claim-query.dto.js';
import { ClaimPageResponseDto, ClaimResponseDto } from './dto/claim-response.dto.js';
import { ReviewNoteDto } from './dto/review-note.dto.js';

function filterOf(query: ClaimFilterDto): ClaimFilter {
  const { from, to } = toTimeRange(query.from, query.to);
  return {
    ...(query.eventId && { eventId: query.eventId.toLowerCase() }),
    ...(query.userId && { userId: query.userId.toLowerCase() }),
    ...(query.status && { status: query.status }),
    ...(query.payoutStatus && { payoutStatus: query.payoutStatus }),
    ...(from && { from }),
    ...(to && { to }),
  };
}

const REFUSAL_MESSAGE: Record<ClaimRefusal, string> = {
  EVENT_NOT_ACTIVE: 'The event is not active now',
  CONDITION_NOT_MET: "The event's conditions are not met",
  OUT_OF_STOCK: 'A reward of this event is out of stock',
  ALREADY_CLAIMED: 'You already have a claim for this event',
  CLAIM_INTERRUPTED: 'The claim was interrupted; try again',
};

/** A claim as the caller may see it: staff see why a payout failed, players only how it stands. */
function viewFor(user: AuthenticatedUser): (claim: ClaimRecord) => ClaimResponseDto {
  return claimsStaffRole(user.roles) ? toClaimResponse : toPlayerClaimResponse;
}

/** A claim the request was refused is answered with its code's status and carries the recorded claim. */
function answerFor(user: AuthenticatedUser): (outcome: ClaimOutcome) => ClaimResponseDto {
  const view = viewFor(user);
  return (outcome) => {
    const claim = view(outcome.claim);
    if (!outcome.refusal) return claim;
    throw claimError(outcome.refusal, REFUSAL_MESSAGE[outcome.refusal], { ...claim });
  };
}

function pageOf(
  page: Page<ClaimRecord>,
  view: (claim: ClaimRecord) => ClaimResponseDto = toClaimResponse,
): Page<ClaimResponseDto> {
  return { ...page, items: page.items.map(view) };
}

/** A body-less route still parses a JSON body when one is sent, and refuses any field in it. */
const EMPTY_BODY_ERRORS = [CommonErrorCode.VALIDATION_FAILED, CommonErrorCode.INVALID_JSON];

@ApiTags('claims')
@Controller('events')
export class EventClaimsController {
  constructor(private readonly claims: ClaimsService) {}

  /** 201 GRANTED/PENDING; refusals (409/422) carry the recorded claim plus `code`. */
  @Post(':id/claims')
  @HttpCode(201)
  @Roles(Role.USER)
  @ApiEndpoint({
    operationId: 'claimReward',
    summary: "Claim an event's rewards",
    description:
      'Every request that is decided is recorded as a claim (one turned away with 429 or 503 records nothing). 201 GRANTED (approval AUTO) or PENDING (approval MANUAL, stock reserved). ' +
      'Refusals are recorded as REJECTED claims and answered with the claim plus `code`: 422 CONDITION_NOT_MET or ' +
      'EVENT_NOT_ACTIVE, 409 OUT_OF_STOCK or ALREADY_CLAIMED. The same `Idempotency-Key` from the same user replays ' +
      'the first answer and records nothing new (409 IDEMPOTENCY_IN_PROGRESS, with `Retry-After`, while that first ' +
      'request has not recorded its outcome yet). 503 CLAIMS_BUSY (with `Retry-After`) when the server sheds load: ' +
      'this request recorded nothing (an earlier one with the same key may have), retry after it with the same `Idempotency-Key`. ' +
      '429 TOO_MANY_REQUESTS (with `Retry-After`) when the player has made more claim requests than the server allows ' +
      '(CLAIM_PLAYER_BURST, then CLAIM_PLAYER_PER_MINUTE): nothing recorded either. ' +
      '403 FORBIDDEN, nothing recorded, for a caller who created or changed the event or its rewards (staff who also play). ' +
      '503 SERVICE_UNAVAILABLE (with `Retry-After`) when the database cannot be reached, fails mid-request or does not let the claim ' +
      'finish before the gateway would stop waiting (a request with an `Idempotency-Key` is then answered 409 IDEMPOTENCY_IN_PROGRESS): ' +
      'this request may have recorded its claim; retry with the same `Idempotency-Key`, which answers with that claim or decides. ' +
      'No body (or `{}`).',
    errors: {
      400: [...EMPTY_BODY_ERRORS, IdempotencyErrorCode.INVALID_IDEMPOTENCY_KEY],
      404: [EventErrorCode.EVENT_NOT_FOUND],
      409: [ClaimErrorCode.ALREADY_CLAIMED, ClaimErrorCode.OUT_OF_STOCK, IdempotencyErrorCode.IDEMPOTENCY_IN_PROGRESS],
      422: [ClaimErrorCode.CONDITION_NOT_MET, ClaimErrorCode.EVENT_NOT_ACTIVE, IdempotencyErrorCode.IDEMPOTENCY_KEY_REUSED],
      429: [CommonErrorCode.TOO_MANY_REQUESTS],
      503: [ClaimErrorCode.CLAIM_INTERRUPTED, ClaimErrorCode.CLAIMS_BUSY, CommonErrorCode.SERVICE_UNAVAILABLE],
    },
    errorExtras: {
      409: { schema: 'ClaimResponseDto', description: 'ALREADY_CLAIMED and OUT_OF_STOCK carry the recorded claim' },
      422: { schema: 'ClaimResponseDto', description: 'CONDITION_NOT_MET and EVENT_NOT_ACTIVE carry the recorded claim' },
    },
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Repeat a request safely: the same key from the same user returns the first answer (kept 24 h at least)',
    schema: { ...IDEMPOTENCY_KEY_SCHEMA },
  })
  @ApiCreatedResponse({ type: ClaimResponseDto, description: 'GRANTED or PENDING' })
  claim(
    @Param('id', ParseObjectIdPipe) eventId: string,
    @Body() body: unknown,
    @Headers(IDEMPOTENCY_KEY_HEADER) idempotencyKey: string | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ClaimResponseDto> {
    requireEmptyBody(body);
    return this.claims
      .claim(eventId, user.id, {
        idempotencyKey: parseIdempotencyKey(idempotencyKey),
        // Time since the request arrived (authentication and a busy event loop included).
        waitedMs: reply.elapsedTime,
        resentAfterDrop: isResentAfterDrop(reply.request.headers),
        startWithinMs: msLeftToStart(reply.request.headers),
        answerOwed: isAnswerOwed(reply.request.headers),
      })
      .then(answerFor(user))
      .catch((error: unknown) => {
        // Nothing was recorded (shed) or the claim was undone (interrupted): the client may retry, after this
        // (1 s for a 503 that does not say; a 429 says, and the exception filter sends it as Retry-After).
        if (error instanceof DomainError && error.status === 503) void reply.header('retry-after', String(retryAfterOf(error)));
        // The key's first request is still running (or died before recording its claim): ask again shortly.
        if (isIdempotencyInProgress(error)) void reply.header('retry-after', '1');
        // The gateway notes that this key is owed its outcome, whichever replica its retry reaches: told so now, or
        // marked so and turned away before its outcome was read (over the player's rate, shed).
        if (owesOutcome(error, reply.request.headers)) void reply.header(ANSWER_OWED_HEADER, '1');
        throw error;
      });
  }
}

/** Whether a claim's error answer leaves its key owed its outcome (ANSWER_OWED_HEADER). */
function owesOutcome(error: unknown, headers: Record<string, string | string[] | undefined>): boolean {
  if (isIdempotencyInProgress(error)) return true;
  return isAnswerOwed(headers) && error instanceof DomainError && (error.status === 429 || error.status === 503);
}

const SAME_REVIEWER_AGAIN =
  " The same reviewer's decision again (a retry after a lost answer, a double click) is answered 200 with the claim as " +
  "that decision left it, nothing recorded again; another reviewer's is 409 INVALID_TRANSITION. 503 REVIEWS_BUSY with " +
  '`Retry-After` when the server is already making as many review decisions as it can (REVIEW_MAX_IN_FLIGHT): nothing ' +
  'was decided; retry then.';

/** The review routes' 503s: shed by the reviews gate, or the server's own (a late start, a store down). */
const REVIEWS_BUSY_ERRORS = { 503: [ClaimErrorCode.REVIEWS_BUSY, CommonErrorCode.SERVICE_UNAVAILABLE] };

/** How a review request reached this process, from the headers only the gateway sets (see ReviewArrival). */
function arrivalOf(request: FastifyRequest): ReviewArrival {
  return {
    startWithinMs: msLeftToStart(request.headers),
    resentAfterDrop: wasSentOnAfterDrop(request.headers),
  };
}

@ApiTags('claims')
@Controller('claims')
export class ClaimsController {
  constructor(
    private readonly history: ClaimHistoryService,
    private readonly review: ClaimReviewService,
  ) {}

  @Get('me')
  @ApiEndpoint({
    operationId: 'listMyClaims',
    summary: "The caller's claims, newest first",
    description: PLAYER_READS,
    errors: { 429: [CommonErrorCode.TOO_MANY_REQUESTS] },
  })
  @ApiPageQuery()
  @ApiOkResponse({ type: ClaimPageResponseDto })
  async mine(@Query() query: MyClaimsQueryDto, @CurrentUser() user: AuthenticatedUser): Promise<Page<ClaimResponseDto>> {
    return pageOf(await this.history.mine(filterOf(query), query, user), viewFor(user));
  }

  @Get('export')
  @Roles(Role.OPERATOR, Role.AUDITOR)
  @Header('content-disposition', 'attachment; filename="claims.csv"')
  @ApiEndpoint({
    operationId: 'exportClaims',
    summary: 'All claims matching the filters as CSV, one row per claim',
    description:
      'Streamed, UTF-8; cells that a spreadsheet would read as a formula are escaped. For Excel add `bom=true`: ' +
      'the file then starts with a byte order mark, without which Excel misreads non-Latin (e.g. Korean) text. ' +
      'Each server streams a bounded number of exports at once (CLAIM_EXPORTS_AT_ONCE, 2 by default); another is ' +
      'answered 503 EXPORTS_BUSY with `Retry-After` before anything is read. An export whose client reads nothing for ' +
      'CLAIM_EXPORT_STALL_MS (60 s by default) while its connection stays open is dropped.',
    errors: { 503: [ClaimErrorCode.EXPORTS_BUSY] },
  })
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'CSV with a header row', content: { 'text/csv': { schema: { type: 'string' } } } })
  export(
    @Query() query: ExportClaimsQueryDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): StreamableFile {
    // HEAD (Fastify answers it with this GET's handler and drains the body): the headers alone. Making the
    // file would read every matching claim, and hold an export's place, for an answer without a body.
    if (request.method === 'HEAD') return new StreamableFile(Readable.from([]), { type: 'text/csv; charset=utf-8' });
    const csv = this.history.exportCsv(filterOf(query), { bom: query.bom === 'true', response: reply.raw });
    return new StreamableFile(csv, { type: 'text/csv; charset=utf-8' });
  }

  @Get()
  @Roles(Role.OPERATOR, Role.AUDITOR)
  @ApiEndpoint({ operationId: 'listClaims', summary: 'All claims, newest first, with filters' })
  @ApiPageQuery()
  @ApiOkResponse({ type: ClaimPageResponseDto })
  async list(@Query() query: ListClaimsQueryDto): Promise<Page<ClaimResponseDto>> {
    return pageOf(await this.history.list(filterOf(query), query));
  }

  @Get(':id')
  @ApiEndpoint({
    operationId: 'getClaim',
    summary: 'A claim',
    description: `The owner, OPERATOR, AUDITOR or ADMIN; another user's claim is a 404. ${PLAYER_READS}`,
    errors: { 404: [ClaimErrorCode.CLAIM_NOT_FOUND], 429: [CommonErrorCode.TOO_MANY_REQUESTS] },
  })
  @ApiOkResponse({ type: ClaimResponseDto })
  async get(@Param('id', ParseObjectIdPipe) id: string, @CurrentUser() user: AuthenticatedUser): Promise<ClaimResponseDto> {
    return viewFor(user)(await this.history.get(id, user));
  }

  @Post(':id/approve')
  @HttpCode(200)
  @Roles(Role.OPERATOR)
  @ApiEndpoint({
    operationId: 'approveClaim',
    summary: 'Approve a PENDING claim (-> GRANTED)',
    description: 'No body (or `{}`). Recorded in the audit log.' + SAME_REVIEWER_AGAIN,
    errors: {
      400: EMPTY_BODY_ERRORS,
      404: [ClaimErrorCode.CLAIM_NOT_FOUND],
      409: [ClaimErrorCode.INVALID_TRANSITION],
      ...REVIEWS_BUSY_ERRORS,
    },
  })
  @ApiOkResponse({ type: ClaimResponseDto })
  async approve(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: unknown,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<ClaimResponseDto> {
    requireEmptyBody(body);
    return toClaimResponse(await this.review.review(id, 'APPROVE', actor, undefined, arrivalOf(request)));
  }

  @Post(':id/reject')
  @HttpCode(200)
  @Roles(Role.OPERATOR)
  @ApiEndpoint({
    operationId: 'rejectClaim',
    summary: 'Reject a PENDING claim (-> REJECTED, reason REVIEW_REJECTED, stock released)',
    description: 'The rejection blocks later claims of the user for this event. Recorded in the audit log.' + SAME_REVIEWER_AGAIN,
    errors: { 404: [ClaimErrorCode.CLAIM_NOT_FOUND], 409: [ClaimErrorCode.INVALID_TRANSITION], ...REVIEWS_BUSY_ERRORS },
  })
  @ApiOkResponse({ type: ClaimResponseDto })
  async reject(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: ReviewNoteDto,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<ClaimResponseDto> {
    return toClaimResponse(await this.review.review(id, 'REJECT', actor, body.note, arrivalOf(request)));
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @Roles(Role.OPERATOR)
  @ApiEndpoint({
    operationId: 'revokeClaim',
    summary: 'Revoke a GRANTED claim (-> REVOKED, its stock returned)',
    description:
      'The revocation blocks later claims of the user for this event. Recorded in the audit log.' + SAME_REVIEWER_AGAIN,
    errors: { 404: [ClaimErrorCode.CLAIM_NOT_FOUND], 409: [ClaimErrorCode.INVALID_TRANSITION], ...REVIEWS_BUSY_ERRORS },
  })
  @ApiOkResponse({ type: ClaimResponseDto })
  async revoke(
    @Param('id', ParseObjectIdPipe) id: string,
    @Body() body: ReviewNoteDto,
    @CurrentUser() actor: AuthenticatedUser,
    @Req() request: FastifyRequest,
  ): Promise<ClaimResponseDto> {
    return toClaimResponse(await this.review.review(id, 'REVOKE', actor, body.note, arrivalOf(request)));
  }
}
