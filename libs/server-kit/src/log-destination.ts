import pino from 'pino';

/** A batch is written once it holds this many bytes (about 25 request lines)... */
export const LOG_BATCH_BYTES = 8 * 1024;
/** ...or this long after its first line, whichever comes first. */
export const LOG_FLUSH_DELAY_MS = 200;

/** Lines held as their values (writeLater) are made into text once this many are held, or with the batch. */
export const HELD_LINES_MAX = 32;

/** Room for a full batch and a line of up to 8 K characters after it (3 bytes each at most in UTF-8). */
const BATCH_CAPACITY = LOG_BATCH_BYTES + 3 * 8 * 1024;

/** Where the batches go: each is a chunk of whole lines the destination may keep. */
export interface LogOutput {
  write(chunk: Uint8Array): unknown;
}

const open = new Set<BatchedLogDestination>();
let exitHookInstalled = false;

/**
 * Where a server's JSON log lines go (standard output by default), written in batches. Writing each
 * request's line on its own (pino's default destination: a write on libuv's thread pool per line) cost,
 * measured at the gateway, about a third of its CPU time per proxied request, more than anything it does
 * to check and forward the request. A batch is one write, made when it holds LOG_BATCH_BYTES or
 * LOG_FLUSH_DELAY_MS after its first line, so a quiet server still shows its lines at once to a person
 * watching. Each line is encoded into one reused buffer as it comes (a batch held as a string, a chain of
 * 25 lines of about 20 pieces each, cost more to flatten and encode at write time than making the lines).
 * `close()` writes what is held and makes every later line unbuffered (a server's shutdown lines come
 * after its HTTP side closed); a process that exits (an uncaught error included) writes what is held
 * first, so only a SIGKILL loses lines, at most the last LOG_FLUSH_DELAY_MS of them.
 */
export class BatchedLogDestination {
  private readonly out: LogOutput;
  private readonly batch = Buffer.allocUnsafe(BATCH_CAPACITY);
  private used = 0;
  private timer: NodeJS.Timeout | undefined;
  private buffered = true;
  /** Lines held as their values (writeLater), in order, and what makes each one's text. */
  private held: unknown[] = [];
  private heldFormats: Array<(values: never) => string> = [];

  /** By default standard output, each batch written synchronously (one system call); tests pass their own. */
  constructor(out?: LogOutput) {
    // In buffer mode SonicBoom's write takes bytes; its type names only the string form.
    this.out = out ?? (pino.destination({ dest: 1, sync: true, contentMode: 'buffer' }) as unknown as LogOutput);
    open.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const destination of open) destination.flush();
      });
    }
  }

  /** Called by pino with one serialised line, newline included. */
  write(line: string): void {
    // After the lines held before it.
    if (this.held.length > 0) this.makeHeld();
    this.append(line);
  }

  /**
   * Holds a line as the values it is made of; `format` makes its text (newline included) when its batch
   * is written, in order with the lines written as text. A busy server so makes its request lines in runs
   * of HELD_LINES_MAX: measured at the gateway, about 2.5 µs less CPU per proxied request (of ~80) on
   * average over four runs than making each line as its request ends (docs/benchmarks.md). The values must
   * not change once handed over.
   */
  writeLater<T>(values: T, format: (values: T) => string): void {
    if (!this.buffered) {
      this.append(format(values));
      return;
    }
    this.held.push(values);
    this.heldFormats.push(format as (values: never) => string);
    if (this.held.length >= HELD_LINES_MAX) this.makeHeld();
    else this.flushSoon();
  }

  /** The held lines made into text, into the batch (which is written whenever it fills). */
  private makeHeld(): void {
    const values = this.held;
    const formats = this.heldFormats;
    this.held = [];
    this.heldFormats = [];
    for (let index = 0; index < values.length; index++) {
      let line: string;
      try {
        line = (formats[index] as (values: unknown) => string)(values[index]);
      } catch (error) {
        // A line that cannot be made is said, not lost silently, and the lines after it are still made.
        line = `${JSON.stringify({ level: 50, time: Date.now(), msg: `a log line could not be made: ${String(error)}` })}\n`;
      }
      this.append(line);
    }
  }

  private append(line: string): void {
    // At most 3 bytes per UTF-16 unit: a line that might not fit is written after what is held.
    if (this.used + 3 * line.length > BATCH_CAPACITY) this.flush();
    if (!this.buffered || 3 * line.length > BATCH_CAPACITY) {
      this.out.write(Buffer.from(line, 'utf8'));
      return;
    }
    this.used += this.batch.write(line, this.used, 'utf8');
    if (this.used >= LOG_BATCH_BYTES) this.flush();
    else this.flushSoon();
  }

  /** Writes what is held LOG_FLUSH_DELAY_MS after the first line that is not written yet. */
  private flushSoon(): void {
    this.timer ??= setTimeout(() => this.flush(), LOG_FLUSH_DELAY_MS).unref();
  }

  /** Writes the held lines now. */
  flush(): void {
    if (this.held.length > 0) this.makeHeld();
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.used === 0) return;
    // A copy: the destination may keep the chunk (a pipe that is full), and the batch buffer is reused.
    const chunk = Buffer.from(this.batch.subarray(0, this.used));
    this.used = 0;
    this.out.write(chunk);
  }

  /** Writes the held lines; every later line is written at once. */
  close(): void {
    this.flush();
    this.buffered = false;
    open.delete(this);
  }
}
