import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { BatchedLogDestination, HELD_LINES_MAX, LOG_BATCH_BYTES, type LogOutput } from './log-destination.js';

function recording(): { writes: string[]; out: LogOutput } {
  const writes: string[] = [];
  return { writes, out: { write: (chunk) => void writes.push(Buffer.from(chunk).toString('utf8')) } };
}

describe('BatchedLogDestination', () => {
  it('writes the lines of a burst together, in order, once a batch is full', () => {
    const { writes, out } = recording();
    const destination = new BatchedLogDestination(out);
    const line = `${'x'.repeat(99)}\n`;
    const perBatch = Math.ceil(LOG_BATCH_BYTES / line.length);
    for (let index = 0; index < perBatch - 1; index++) destination.write(line);
    expect(writes).toEqual([]);
    destination.write(line);
    expect(writes).toEqual([line.repeat(perBatch)]);
    destination.close();
  });

  it('writes a lone line soon, without waiting for a full batch', async () => {
    const { writes, out } = recording();
    const logger = pino({ base: undefined }, new BatchedLogDestination(out));
    logger.info('quiet server');
    expect(writes).toEqual([]);
    await vi.waitFor(() => expect(writes).toHaveLength(1), { timeout: 5_000 });
    expect(JSON.parse(writes[0] as string)).toMatchObject({ level: 30, msg: 'quiet server' });
  });

  it('writes what it holds on close, and every later line at once', () => {
    const { writes, out } = recording();
    const destination = new BatchedLogDestination(out);
    destination.write('a\n');
    destination.write('b\n');
    destination.close();
    expect(writes).toEqual(['a\nb\n']);
    destination.write('c\n');
    expect(writes).toEqual(['a\nb\n', 'c\n']);
  });

  it('keeps every byte of every line in order: non-ASCII text, a line larger than a batch, chunks kept by the output', () => {
    const chunks: Uint8Array[] = [];
    const destination = new BatchedLogDestination({ write: (chunk) => void chunks.push(chunk) });
    const lines = ['"café" ☕ 𝄞\n', `${'y'.repeat(40 * 1024)}\n`, 'after\n'];
    for (let round = 0; round < 3; round++) for (const line of lines) destination.write(line);
    destination.close();
    // Chunks are decoded only now: one the destination kept must not have been overwritten since.
    expect(chunks.map((chunk) => Buffer.from(chunk).toString('utf8')).join('')).toBe(lines.join('').repeat(3));
  });

  describe('writeLater', () => {
    const format = (values: { n: number }): string => `held ${values.n}\n`;

    it('makes held lines in order with the lines written as text, when a line comes, the batch is written or enough are held', () => {
      const { writes, out } = recording();
      const destination = new BatchedLogDestination(out);
      const made: number[] = [];
      const counting = (values: { n: number }): string => {
        made.push(values.n);
        return format(values);
      };
      destination.writeLater({ n: 1 }, counting);
      destination.writeLater({ n: 2 }, counting);
      expect(made).toEqual([]);
      destination.write('text\n');
      expect(made).toEqual([1, 2]);
      destination.writeLater({ n: 3 }, counting);
      destination.flush();
      expect(writes).toEqual(['held 1\nheld 2\ntext\nheld 3\n']);
      for (let n = 0; n < HELD_LINES_MAX; n++) destination.writeLater({ n: 10 + n }, counting);
      // Made in one run once HELD_LINES_MAX are held (written with the batch, later).
      expect(made).toHaveLength(3 + HELD_LINES_MAX);
      destination.close();
      expect(writes.join('')).toContain(`held ${10 + HELD_LINES_MAX - 1}\n`);
    });

    it('writes a held line soon on a quiet server, and at once after close', async () => {
      const { writes, out } = recording();
      const destination = new BatchedLogDestination(out);
      destination.writeLater({ n: 1 }, format);
      await vi.waitFor(() => expect(writes).toEqual(['held 1\n']), { timeout: 5_000 });
      destination.close();
      destination.writeLater({ n: 2 }, format);
      expect(writes).toEqual(['held 1\n', 'held 2\n']);
    });

    it('says when a held line could not be made, and still makes the lines after it', () => {
      const { writes, out } = recording();
      const destination = new BatchedLogDestination(out);
      destination.writeLater({ n: 1 }, () => {
        throw new Error('no "text"');
      });
      destination.writeLater({ n: 2 }, format);
      destination.close();
      const [failed, after] = (writes[0] as string).split('\n');
      expect(JSON.parse(failed as string)).toMatchObject({ level: 50, msg: 'a log line could not be made: Error: no "text"' });
      expect(after).toBe('held 2');
    });
  });
});
