import { Readable, type Writable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import type { Page } from '@reward/server-kit/pagination';
import { skipOf } from '@reward/server-kit/pagination';
import { type AuthenticatedUser, Role, hasRequiredRole } from '@reward/server-kit/roles';
import { PlayerReads } from '../player-reads/player-reads.js';
import { EVENT_CONFIG } from '../config/config.module.js';
import type { EventConfig } from '../config/event-config.js';
import { ClaimDecisionRepository } from './claim-decision.repository.js';
import { CLAIM_CSV_HEADER, claimCsvRow, withUtf8Bom } from './claim-csv.js';
import { claimError } from './claim.errors.js';
import { type ClaimFilter, type ClaimRecord, settled } from './claim.js';
import { toClaimResponse } from './claim.mapper.js';
import { ClaimRepository } from './claim.repository.js';
import { dropWhenStalled } from './stalled-reader.js';

/** Rows written to the stream per chunk: fewer, larger writes, still a bounded amount of memory. */
const ROWS_PER_CHUNK = 200;

/** Retry-After (s) of an export turned away because as many as the server streams at once are running. */
const EXPORT_RETRY_AFTER_SECONDS = 5;

/** History, single claims and the CSV export. */
@Injectable()
export class ClaimHistoryService {
  constructor(
    private readonly claims: ClaimRepository,
    private readonly decisions: ClaimDecisionRepository,
    private readonly playerReads: PlayerReads,
    @Inject(EVENT_CONFIG) config: EventConfig,
  ) {
    this.exportsAtOnce = config.claims.exportsAtOnce;
    this.exportStallMs = config.claims.exportStallMs;
  }

  private readonly exportsAtOnce: number;
  private readonly exportStallMs: number;
  /** CSV exports being streamed by this process now. */
  private exportsRunning = 0;

  /** The caller's own claims (GET /claims/me): a player's count among their reads (PlayerReads). */
  mine(
    filter: Omit<ClaimFilter, 'userId'>,
    page: { page: number; limit: number },
    caller: AuthenticatedUser,
  ): Promise<Page<ClaimRecord>> {
    return this.playerReads.run(caller, () => this.list({ ...filter, userId: caller.id }, page));
  }

  async list(filter: ClaimFilter, page: { page: number; limit: number }): Promise<Page<ClaimRecord>> {
    const { items, total } = await this.claims.findPage(filter, skipOf(page), page.limit);
    return { items: await this.settledAll(items), page: page.page, limit: page.limit, total };
  }

  /**
   * The owner and staff see a claim; anyone else gets the same 404 as for a claim that does not exist. A player's
   * read counts among their reads (PlayerReads).
   */
  async get(id: string, caller: AuthenticatedUser): Promise<ClaimRecord> {
    return this.playerReads.run(caller, () => this.read(id, caller));
  }

  private async read(id: string, caller: AuthenticatedUser): Promise<ClaimRecord> {
    const claim = await this.claims.findById(id);
    const staff = hasRequiredRole(caller.roles, [Role.OPERATOR, Role.AUDITOR]);
    if (!claim || (claim.userId !== caller.id && !staff)) {
      throw claimError('CLAIM_NOT_FOUND', `Claim ${id} does not exist`);
    }
    const [current] = await this.settledAll([claim]);
    return current!;
  }

  /**
   * The CSV of every matching claim, produced page by page from a database cursor as the client reads. The
   * header row goes out at once, so that the answer has started before the first page is read (on FerretDB
   * that page is the whole sorted result, which a saturated store took over 10 s to read: the gateway's
   * headers timeout would answer 504 where its longer idle limit between chunks lets the file complete).
   * Each chunk of rows settles its PROCESSING claims with one read, not one per claim, so that no chunk
   * waits on a store round trip per row.
   */
  exportCsv(filter: ClaimFilter, { bom = false, response }: { bom?: boolean; response?: Writable } = {}): Readable {
    // Each export reads every matching claim, so their number at once is bounded (CLAIM_EXPORTS_AT_ONCE). A
    // slot is held until the stream sent is read to its end, fails, or is destroyed when the client went away
    // (Fastify destroys a stream whose response closed first).
    if (this.exportsRunning >= this.exportsAtOnce) {
      throw claimError('EXPORTS_BUSY', `${this.exportsRunning} claim exports are running; nothing was read, retry later`, {
        retryAfterSeconds: EXPORT_RETRY_AFTER_SECONDS,
      });
    }
    const csv = Readable.from(this.csvChunks(filter), { objectMode: false });
    const sent = bom ? withUtf8Bom(csv) : csv;
    this.exportsRunning++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.exportsRunning--;
      // With a byte order mark in front, the CSV stream may not have been read at all yet.
      csv.destroy();
    };
    // 'end' as soon as the last bytes are handed on (before the response ends, so a client that asks again at
    // once finds the slot free); 'close' for a stream destroyed or failed before its end.
    sent.once('end', release).once('close', release);
    // A client that stops reading with its connection open would hold the slot, and a cursor, for good.
    if (response) dropWhenStalled(sent, response, this.exportStallMs);
    return sent;
  }

  private async *csvChunks(filter: ClaimFilter): AsyncGenerator<string> {
    yield CLAIM_CSV_HEADER;
    let batch: ClaimRecord[] = [];
    for await (const claim of this.claims.stream(filter)) {
      batch.push(claim);
      if (batch.length === ROWS_PER_CHUNK) {
        yield await this.csvRows(batch);
        batch = [];
      }
    }
    if (batch.length > 0) yield await this.csvRows(batch);
  }

  private async csvRows(claims: ClaimRecord[]): Promise<string> {
    return (await this.settledAll(claims)).map((claim) => claimCsvRow(toClaimResponse(claim))).join('');
  }

  /** Claims still in PROCESSING show what their decision (if any) made of them. */
  private async settledAll(claims: ClaimRecord[]): Promise<ClaimRecord[]> {
    const processing = claims.filter((claim) => claim.status === 'PROCESSING').map((claim) => claim.id);
    const decided = new Map(
      (await this.decisions.findManyFrom(processing, 'PROCESSING')).map((decision) => [decision.claimId, decision]),
    );
    return claims.map((claim) => settled(claim, decided.get(claim.id)));
  }
}
