import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import { LogController } from 'fastify';
import pino, { type Bindings, type ChildLoggerOptions, type Logger } from 'pino';
import { BatchedLogDestination } from './log-destination.js';

/** Where the extra fields of a request's line are kept (set only on the few requests that have any). */
const LINE_FIELDS = Symbol('request line fields');

type LineFieldValue = string | number | boolean;

interface WithLineFields {
  [LINE_FIELDS]?: Record<string, LineFieldValue>;
}

/**
 * Adds fields to the line written when the request is answered (the gateway: which upstream failed and
 * the error code the client was told; a line with an `upstream` field is a warn line, whatever its status).
 * Their names must not be the line's own (level, time, reqId, req, res, responseTime, userId, msg).
 */
export function addRequestLineFields(request: object, fields: Record<string, LineFieldValue>): void {
  const holder = request as WithLineFields;
  holder[LINE_FIELDS] = { ...holder[LINE_FIELDS], ...fields };
}

/** The authenticated caller's id: Passport's `request.user` on the servers, the gateway's verified token. */
function userIdOf(request: FastifyRequest): unknown {
  return (request as FastifyRequest & { user?: { id?: unknown } }).user?.id;
}

/** What a request's line is made of: level, time, request id, method, url, client address, status, ms, user id, extra fields. */
type RequestLineValues = [
  level: number,
  time: number,
  reqId: string,
  method: string,
  url: string,
  remoteAddress: string,
  statusCode: number,
  elapsedMs: number,
  userId: unknown,
  extra: Record<string, LineFieldValue> | undefined,
];

/** Makes a request's line, as pino would write it, after the logger's serialised base bindings. */
function requestLineFormat(bindings: string): (values: RequestLineValues) => string {
  return ([level, time, reqId, method, url, remoteAddress, statusCode, elapsedMs, userId, extra]) => {
    let line =
      `{"level":${level},"time":${time}${bindings},"reqId":${JSON.stringify(reqId)}` +
      `,"req":{"method":${JSON.stringify(method)},"url":${JSON.stringify(url)}` +
      `,"remoteAddress":${JSON.stringify(remoteAddress)}},"res":{"statusCode":${statusCode}}` +
      `,"responseTime":${roundedMs(elapsedMs)}`;
    if (userId !== undefined) line += `,"userId":${JSON.stringify(userId)}`;
    if (extra) for (const [name, value] of Object.entries(extra)) line += `,${JSON.stringify(name)}:${JSON.stringify(value)}`;
    return `${line},"msg":"request completed"}\n`;
  };
}

/** Milliseconds with three decimals (a microsecond): enough, and a short number to print. */
function roundedMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * One line per request, written when it is answered, as pino would write it (same level numbers, `time`,
 * the logger's base bindings, `msg` last):
 *
 *   {"level":30,"time":…,"service":"gateway","reqId":"…","req":{"method":"GET","url":"/events/…",
 *    "remoteAddress":"…"},"res":{"statusCode":200},"responseTime":1.234,"userId":"…","msg":"request completed"}
 *
 * `userId` only when the caller was authenticated, then any fields added by `addRequestLineFields`. No
 * header is written (the Authorization header and cookies never are). A 5xx answer is a warn line, and so is
 * any answer to a request whose upstream failed (an `upstream` field: the gateway's keyed 409 too) (the
 * exception filter logs an unexpected error itself, with its stack); a request that failed with an error
 * is an error line through pino, with the error serialised. Fastify's own two lines ("incoming request",
 * "request completed") are not written.
 *
 * Built by hand and handed to the logger's destination, not through pino: on the gateway's proxied path
 * the request line through pino (request and reply serialisers, the per-request child logger, the object
 * walk) cost more CPU per request than checking the token and rewriting the headers (see docs/benchmarks.md).
 * Its values are taken when the request is answered, and the text made later, with the lines of other
 * requests, by the destination (BatchedLogDestination.writeLater; at once on any other destination).
 * The strings that come from the client (url, user id, request id) are escaped by JSON.stringify.
 */
export class OneLinePerRequest extends LogController {
  private readonly logger: Logger;
  /** Hands a request line's values to the destination: made into text there, in runs, if it can hold them. */
  private readonly writeLine: (values: RequestLineValues) => void;

  constructor(logger: Logger) {
    super();
    this.logger = logger;
    // pino's own destination and its serialised base bindings: the line goes where pino's lines go.
    const internals = logger as unknown as Record<symbol, unknown>;
    const stream = internals[pino.symbols.streamSym] as { write(line: string): unknown };
    const format = requestLineFormat((internals[pino.symbols.chindingsSym] as string | undefined) ?? '');
    this.writeLine =
      stream instanceof BatchedLogDestination
        ? (values) => stream.writeLater(values, format)
        : (values) => void stream.write(format(values));
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) {
      reply.log.error({ ...this.fields(request, reply), err: error }, 'request errored');
      return;
    }
    const fields = (request as FastifyRequest & WithLineFields)[LINE_FIELDS];
    // An upstream that failed to answer is a warn whatever the client was told (a keyed claim's 409 too).
    const level = reply.statusCode >= 500 || fields?.upstream !== undefined ? 'warn' : 'info';
    if (!this.logger.isLevelEnabled(level)) return;
    // Values only (no request or reply kept): the line is made from them later, with others (BatchedLogDestination).
    this.writeLine([
      level === 'warn' ? 40 : 30,
      Date.now(),
      request.id,
      request.method,
      request.url,
      request.ip,
      reply.statusCode,
      reply.elapsedTime,
      userIdOf(request),
      fields,
    ]);
  }

  /** The line's fields as an object (for the rare line that goes through pino). */
  private fields(request: FastifyRequest, reply: FastifyReply): Record<string, unknown> {
    const userId = userIdOf(request);
    return {
      req: { method: request.method, url: request.url, remoteAddress: request.ip },
      res: { statusCode: reply.statusCode },
      responseTime: roundedMs(reply.elapsedTime),
      ...(userId !== undefined && { userId }),
      ...(request as FastifyRequest & WithLineFields)[LINE_FIELDS],
    };
  }
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A request's logger that becomes a pino child (with the request id bound) only when a line is written
 * through it at a level the logger lets through. Fastify asks for one per request; most requests never
 * write through it (their one line is OneLinePerRequest's), so most never pay for a child.
 */
class RequestLogger {
  private bound: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
  ) {}

  get level(): string {
    return (this.bound ?? this.parent).level;
  }

  fatal(...line: unknown[]): void {
    this.log('fatal', line);
  }
  error(...line: unknown[]): void {
    this.log('error', line);
  }
  warn(...line: unknown[]): void {
    this.log('warn', line);
  }
  info(...line: unknown[]): void {
    this.log('info', line);
  }
  debug(...line: unknown[]): void {
    this.log('debug', line);
  }
  trace(...line: unknown[]): void {
    this.log('trace', line);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.real().child(bindings, options);
  }

  private log(level: Level, line: unknown[]): void {
    if (!(this.bound ?? this.parent).isLevelEnabled(level)) return;
    (this.real()[level] as (...args: unknown[]) => void)(...line);
  }

  private real(): Logger {
    return (this.bound ??= this.parent.child(this.bindings));
  }
}

/**
 * Fastify's `childLoggerFactory`: a RequestLogger, or a plain pino child when the route asks for its own
 * level or serialisers (none of ours do).
 */
export function lazyRequestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  if (options.level !== undefined || options.serializers !== undefined) return logger.child(bindings, options);
  return new RequestLogger(logger as Logger, bindings) as unknown as FastifyBaseLogger;
}
