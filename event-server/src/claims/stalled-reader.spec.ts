import { Readable, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StalledReaderError, dropWhenStalled } from './stalled-reader.js';

/** A response whose client reads only when the test says so: each write waits for `read()` (all) or `readOne()`. */
function slowClient(highWaterMark = 4): Writable & { read(): void; readOne(): void } {
  const waiting: Array<() => void> = [];
  const client = new Writable({
    highWaterMark,
    write(_chunk, _encoding, done) {
      waiting.push(() => done());
    },
  });
  return Object.assign(client, {
    read: () => waiting.splice(0).forEach((done) => done()),
    readOne: () => waiting.shift()?.(),
  });
}

/** Lets the streams move (their own ticks and immediates run for real; only the clock is the test's). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('dropWhenStalled', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] }));
  afterEach(() => vi.useRealTimers());

  it('drops the source and the response once the client has read nothing for the whole time', async () => {
    const source = Readable.from(['x'.repeat(100), 'y'.repeat(100)], { objectMode: false });
    const client = slowClient();
    const errors: unknown[] = [];
    source.on('error', (error) => errors.push(error));
    source.pipe(client);
    dropWhenStalled(source, client, 1_000);
    await settle();
    expect(client.writableNeedDrain).toBe(true);
    await vi.advanceTimersByTimeAsync(900);
    expect(source.destroyed).toBe(false);
    await vi.advanceTimersByTimeAsync(400);
    await settle();
    expect(source.destroyed).toBe(true);
    expect(errors).toEqual([expect.any(StalledReaderError)]);
    expect(client.destroyed).toBe(true);
  });

  it('never drops a client that reads on, however long the whole answer takes', async () => {
    const source = Readable.from(
      Array.from({ length: 40 }, (_, index) => `${index}`.repeat(50)),
      { objectMode: false },
    );
    const client = slowClient();
    source.pipe(client);
    dropWhenStalled(source, client, 1_000);
    let steps = 0;
    for (; steps < 60 && !source.readableEnded; steps++) {
      await settle();
      await vi.advanceTimersByTimeAsync(700);
      client.read();
      await settle();
    }
    // All of it read, 700 ms of the clock per chunk, each step shorter than the limit, the whole far longer.
    expect(source.readableEnded).toBe(true);
    expect(steps).toBeGreaterThan(20);
    expect(source.errored).toBeFalsy();
    expect(client.destroyed).toBe(false);
  });

  it('never drops a client that reads slowly, part of what is buffered at a time, never all of it', async () => {
    // Chunks of 100 bytes, 1,000 buffered before the response asks to be waited for: each read takes one chunk,
    // and the buffer, refilled at once, is never drained ('drain' never comes) while the source lasts.
    const source = Readable.from(
      Array.from({ length: 40 }, (_, index) => `${index % 10}`.repeat(100)),
      { objectMode: false },
    );
    const client = slowClient(1_000);
    source.pipe(client);
    dropWhenStalled(source, client, 1_000);
    await settle();
    expect(client.writableNeedDrain).toBe(true);
    for (let step = 0; step < 30; step++) {
      await vi.advanceTimersByTimeAsync(700);
      client.readOne();
      await settle();
    }
    expect(source.errored).toBeFalsy();
    expect(client.destroyed).toBe(false);
  });

  it('does not count the time the source takes to produce', async () => {
    let produce: (chunk: string | null) => void = () => undefined;
    const source = new Readable({ read() {} });
    produce = (chunk) => source.push(chunk);
    const client = slowClient();
    source.pipe(client);
    dropWhenStalled(source, client, 1_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(source.destroyed).toBe(false);
    produce('late but there');
    produce(null);
    for (let step = 0; step < 10 && !source.readableEnded; step++) {
      await settle();
      client.read();
    }
    expect(source.readableEnded).toBe(true);
    expect(source.errored).toBeFalsy();
  });
});
