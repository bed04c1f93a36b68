import type { Readable, Writable } from 'node:stream';

/** Why a stream was dropped by dropWhenStalled. */
export class StalledReaderError extends Error {
  constructor(stallMs: number) {
    super(`the client read nothing for ${stallMs} ms: the answer was dropped`);
    this.name = 'StalledReaderError';
  }
}

/**
 * Drops `source`, and `destination` with it, once `destination` (a response) has been full, its client
 * reading nothing, for `stallMs`. No timeout runs while a stream waits on a reader whose connection stays
 * open with its window shut, so without this such a client holds what the stream holds (a place among a
 * bounded number, a database cursor) for as long as it likes. Time the source takes to produce does not
 * count, nor a client that reads slowly: only a destination that asked to be waited for ('drain') and of
 * whose buffered bytes none went out (its `writableLength`, the socket's included, did not go down) all that time.
 */
export function dropWhenStalled(source: Readable, destination: Writable, stallMs: number): void {
  let fullSince: number | undefined;
  let buffered = destination.writableLength;
  const drained = (): void => {
    fullSince = undefined;
  };
  const check = setInterval(
    () => {
      const length = destination.writableLength;
      const moved = length < buffered;
      buffered = length;
      if (!destination.writableNeedDrain || moved) return drained();
      const now = Date.now();
      fullSince ??= now;
      if (now - fullSince < stallMs) return;
      stop();
      source.destroy(new StalledReaderError(stallMs));
      destination.destroy();
    },
    Math.max(10, Math.floor(stallMs / 4)),
  ).unref();
  const stop = (): void => {
    clearInterval(check);
    destination.off('drain', drained);
  };
  destination.on('drain', drained);
  source.once('close', stop);
  destination.once('close', stop);
}
