import pino from 'pino';

/** A batch is written once it holds this many characters (about 25 request lines)... */
export const LOG_BATCH_CHARS = 8 * 1024;
/** ...or this long after its first line, whichever comes first. */
export const LOG_FLUSH_DELAY_MS = 200;

const open = new Set<BatchedLogDestination>();
let exitHookInstalled = false;

/**
 * Where a server's JSON log lines go (standard output by default), written in batches. Writing each
 * request's line on its own (pino's default destination: a write on libuv's thread pool per line) cost,
 * measured at the gateway, about a third of its CPU time per proxied request, more than anything it does
 * to check and forward the request. A batch is one write, made when it holds LOG_BATCH_CHARS or
 * LOG_FLUSH_DELAY_MS after its first line, so a quiet server still shows its lines at once to a person
 * watching. `close()` writes what is held and makes every later line unbuffered (a server's shutdown
 * lines come after its HTTP side closed); a process that exits (an uncaught error included) writes what
 * is held first, so only a SIGKILL loses lines, at most the last LOG_FLUSH_DELAY_MS of them.
 */
export class BatchedLogDestination {
  private readonly out: { write(text: string): unknown };
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private buffered = true;

  /** By default standard output, each batch written synchronously (one system call); tests pass their own. */
  constructor(out?: { write(text: string): unknown }) {
    this.out = out ?? pino.destination({ dest: 1, sync: true });
    open.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const destination of open) destination.flush();
      });
    }
  }

  /** Called by pino with one serialised line (newline included). */
  write(line: string): void {
    if (!this.buffered) {
      this.out.write(line);
      return;
    }
    this.pending += line;
    if (this.pending.length >= LOG_BATCH_CHARS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), LOG_FLUSH_DELAY_MS).unref();
  }

  /** Writes the held lines now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const text = this.pending;
    this.pending = '';
    this.out.write(text);
  }

  /** Writes the held lines; every later line is written at once. */
  close(): void {
    this.flush();
    this.buffered = false;
    open.delete(this);
  }
}
