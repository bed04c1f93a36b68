import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import type { Page } from '@reward/server-kit/pagination';
import { skipOf } from '@reward/server-kit/pagination';
import { type AuthenticatedUser, Role, hasRequiredRole } from '@reward/server-kit/roles';
import { ClaimDecisionRepository } from './claim-decision.repository.js';
import { CLAIM_CSV_HEADER, claimCsvRow } from './claim-csv.js';
import { claimError } from './claim.errors.js';
import { type ClaimFilter, type ClaimRecord, settled } from './claim.js';
import { toClaimResponse } from './claim.mapper.js';
import { ClaimRepository } from './claim.repository.js';

/** Rows written to the stream per chunk: fewer, larger writes, still a bounded amount of memory. */
const ROWS_PER_CHUNK = 200;

/** History, single claims and the CSV export. */
@Injectable()
export class ClaimHistoryService {
  constructor(
    private readonly claims: ClaimRepository,
    private readonly decisions: ClaimDecisionRepository,
  ) {}

  async list(filter: ClaimFilter, page: { page: number; limit: number }): Promise<Page<ClaimRecord>> {
    const { items, total } = await this.claims.findPage(filter, skipOf(page), page.limit);
    return { items: await this.settledAll(items), page: page.page, limit: page.limit, total };
  }

  /** The owner and staff see a claim; anyone else gets the same 404 as for a claim that does not exist. */
  async get(id: string, caller: AuthenticatedUser): Promise<ClaimRecord> {
    const claim = await this.claims.findById(id);
    const staff = hasRequiredRole(caller.roles, [Role.OPERATOR, Role.AUDITOR]);
    if (!claim || (claim.userId !== caller.id && !staff)) {
      throw claimError('CLAIM_NOT_FOUND', `Claim ${id} does not exist`);
    }
    const [current] = await this.settledAll([claim]);
    return current!;
  }

  /** The CSV of every matching claim, produced row by row from a database cursor as the client reads. */
  exportCsv(filter: ClaimFilter): Readable {
    const claims = this.claims.stream(filter);
    const current = this.settledEach(claims);
    async function* lines(): AsyncGenerator<string> {
      yield CLAIM_CSV_HEADER;
      let chunk = '';
      let rows = 0;
      for await (const claim of current) {
        chunk += claimCsvRow(toClaimResponse(claim));
        if (++rows === ROWS_PER_CHUNK) {
          yield chunk;
          chunk = '';
          rows = 0;
        }
      }
      if (chunk) yield chunk;
    }
    return Readable.from(lines(), { objectMode: false });
  }

  private async *settledEach(claims: AsyncIterable<ClaimRecord>): AsyncGenerator<ClaimRecord> {
    for await (const claim of claims) {
      yield claim.status === 'PROCESSING' ? (await this.settledAll([claim]))[0]! : claim;
    }
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
