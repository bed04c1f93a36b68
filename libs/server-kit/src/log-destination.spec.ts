import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { BatchedLogDestination, LOG_BATCH_BYTES, type LogOutput } from './log-destination.js';

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
});
