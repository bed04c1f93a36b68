import { Readable } from 'node:stream';
import type { ClaimResponseDto } from './dto/claim-response.dto.js';

export const CLAIM_CSV_COLUMNS = [
  'id',
  'eventId',
  'userId',
  'status',
  'reason',
  'note',
  'rewards',
  'createdAt',
  'decidedAt',
  'decidedBy',
  'payoutStatus',
] as const;

/**
 * A spreadsheet reads a cell starting with one of these as a formula (CSV injection), also after leading
 * spaces or line breaks, which some of them trim first.
 */
const FORMULA_START = /^[\s]*[=+\-@]|^[\t\r\n]/;
const NEEDS_QUOTES = /[",\t\r\n]/;
/**
 * Excel where the list separator is `;` (German, French, Spanish... locales) opens a comma-separated file
 * split at every `;` and line break, quotes or not (a quote opens a quoted cell there only at a cell's start):
 * what follows one starts a cell, and is a formula if it looks like one. A tab too: Excel's text import and
 * LibreOffice split at tabs when asked to (Tab is the import wizard's default).
 */
const FORMULA_AFTER_BREAK = /([;\t\r\n])([\s"]*)(?=[=+\-@])/g;

/**
 * One CSV cell: formula-like text is prefixed with `'` so spreadsheets show it as text, at the start and after
 * every `;`, tab and line break, then RFC 4180 quoting (quotes doubled, the cell quoted when it holds a quote,
 * comma, tab or line break).
 */
export function csvCell(value: string | undefined): string {
  if (value === undefined || value === '') return '';
  const led = FORMULA_START.test(value) ? `'${value}` : value;
  const safe = /[;\t\r\n]/.test(led) ? led.replace(FORMULA_AFTER_BREAK, "$1$2'") : led;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function csvRow(values: ReadonlyArray<string | undefined>): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

export function claimCsvRow(claim: ClaimResponseDto): string {
  return csvRow([
    claim.id,
    claim.eventId,
    claim.userId,
    claim.status,
    claim.reason,
    claim.note,
    JSON.stringify(claim.rewards),
    claim.createdAt,
    claim.decidedAt,
    claim.decidedBy,
    claim.payout.status,
  ]);
}

export const CLAIM_CSV_HEADER = csvRow(CLAIM_CSV_COLUMNS);

/** The UTF-8 byte order mark: Excel reads a CSV as UTF-8 only when the file starts with it. */
export const UTF8_BOM = '\uFEFF';

/** The CSV with a byte order mark in front (GET /claims/export?bom=true), for Excel. */
export function withUtf8Bom(csv: Readable): Readable {
  async function* chunks(): AsyncGenerator<string | Buffer> {
    yield Buffer.from(UTF8_BOM, 'utf8');
    yield* csv as AsyncIterable<string | Buffer>;
  }
  return Readable.from(chunks(), { objectMode: false });
}
