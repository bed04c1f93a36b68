import { type LoggerService, type ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ClientErrorCode, rawAnswers } from './client-error.js';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';
import { boundGracefulClose } from './graceful-close.js';
import { refuseLateStarts } from './start-by.js';
import {
  CONNECTIONS_CHECK_INTERVAL_MS,
  type ConnectionLimits,
  HEADERS_TIMEOUT_MS,
  REFUSED_HELD_MAX,
  REQUEST_TIMEOUT_MS,
  fitToOpenFiles,
  limitConnections,
  openFilesLimit,
} from './connection-limits.js';
import { MAX_JSON_DEPTH, depthCheckedStream, isJsonMediaType } from './json-depth.js';
import { type SecurityHeadersConfig, answerHeadersFor, installSecurityHeaders, setHeaders } from './security-headers.js';
import { type BodyBudget, DEFAULT_BODY_BUDGET, limitBodiesInFlight } from './body-budget.js';
import { FORBIDDEN_JSON_KEY, LONE_SURROGATE_IN_JSON, NOT_UTF8_JSON, mapError } from './error-mapping.js';
import { CommonErrorCode, errorBody } from './errors.js';
import pino, { type Logger, type LoggerOptions } from 'pino';
import { AllExceptionsFilter } from './all-exceptions.filter.js';
import { ConfigError, type LogLevel } from './env.js';
import { BatchedLogDestination, type LogOutput } from './log-destination.js';
import { OneLinePerRequest, lazyRequestLogger } from './request-log.js';
import { createValidationPipe } from './validation.js';
import { QueryWhitelistInterceptor } from './query-whitelist.js';
import { type TrustProxySetting, TrustedProxies } from './trusted-proxies.js';

// Kept in their own module (client-error.ts needs them too); exported here, where the servers import them from.
export { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';
export const BODY_LIMIT_BYTES = 1024 * 1024;

/** The signals that stop a server (Nest's shutdown hooks listen to these too). */
const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * The listen backlog: connections the kernel completes and holds until the process accepts them. Node's
 * default, 511, is the first moment of a launch crowd: past it the kernel drops a new connection's SYN and its
 * client waits for the retransmission (1 s, then 3, 7, 15 s...) before the server even sees it, so a claim the
 * server would shed at once (503 with Retry-After) waits seconds to connect, or times out. As many as the
 * host allows: the kernel caps it at net.core.somaxconn.
 */
export const LISTEN_BACKLOG = 65_535;

/** What a server's `app.listen` takes: its address and the backlog above. */
export function listenOptions(host: string, port: number): { host: string; port: number; backlog: number } {
  return { host, port, backlog: LISTEN_BACKLOG };
}

/**
 * Listens on the server's address, `hostVariable` naming the setting that gave `host`. A host that does not
 * resolve (ENOTFOUND) or is no address of this machine (EADDRNOTAVAIL) is a setting to fix, not a failure a
 * restart can cure: it is refused as a ConfigError naming the variable (exit code 78, so `npm start` stops at
 * once), where Node's own error named neither the variable nor the cause and the supervisor restarted the server
 * five times before giving up. Anything else (EADDRINUSE: a port a restart may find free) fails as before.
 */
export async function listenOn(
  app: { listen(options: { host: string; port: number; backlog: number }): Promise<unknown> },
  hostVariable: string,
  host: string,
  port: number,
): Promise<void> {
  try {
    await app.listen(listenOptions(host, port));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTFOUND' && code !== 'EADDRNOTAVAIL') throw error;
    const why = code === 'ENOTFOUND' ? 'the name does not resolve' : 'no interface here has it';
    throw new ConfigError([
      `${hostVariable} (${host}) must be an address of this machine or a name that resolves to one: ${why} (${code})`,
    ]);
  }
}

export interface HttpAppOptions {
  service: string;
  logLevel: LogLevel;
  /**
   * Proxies whose X-Forwarded-For is believed (the gateway); nobody else can pick their IP. Addresses, CIDR
   * blocks, proxy-addr's range names, and host names (each stands for the addresses it resolves to:
   * TrustedProxies).
   */
  trustedProxies?: string[];
  /**
   * The variable that names the trusted proxies, for a server whose limits are per client address (the auth
   * server's): the first request that carries X-Forwarded-For from a peer not trusted is told in a warning,
   * once per process (warnOfUntrustedForwarding).
   */
  trustedProxiesVariable?: string;
  securityHeaders?: SecurityHeadersConfig;
  /** Messages of lines never written: a library's line that the server says better itself. */
  droppedLogMessages?: readonly string[];
  /** Where the JSON lines go (in batches): standard output unless given (tests read the lines). */
  logDestination?: LogOutput;
  /** The server owns a database: its being unavailable is answered 503 with Retry-After, not 500 (see mapError). */
  storeErrors?: boolean;
  /**
   * Open connections at most, in all and per client address (the public gateway's): see limitConnections.
   * `reservedFiles`: file descriptors the server needs besides its clients' connections (its upstream
   * connections, say); the total is lowered to what the process's open-files limit leaves (fitToOpenFiles).
   */
  connectionLimits?: ConnectionLimits & { reservedFiles?: number };
  /** How long a client may take to send its headers and its whole request (default: connection-limits.ts). */
  requestTimeouts?: { headersMs: number; requestMs: number };
  /** The memory the large request bodies being received at once may take (default: DEFAULT_BODY_BUDGET). */
  bodyBudget?: BodyBudget;
  /**
   * A server behind the gateway: a request that may record something and arrives past its start-by time is
   * answered 503 before anything is read (refuseLateStarts), but on the routes in `except`, which judge it
   * themselves.
   */
  lateStarts?: { except?: readonly string[] };
}

/**
 * A pino `logMethod` hook that drops the lines whose message is one of `messages`, whether the line was
 * written with an object first or not; children of the logger drop them too. Cheaper than wrapping each
 * request's logger: it runs only for lines the level lets through.
 */
export function droppingMessages(messages: readonly string[]): NonNullable<NonNullable<LoggerOptions['hooks']>['logMethod']> {
  const dropped = new Set(messages);
  return function logMethod(args, method) {
    const message = typeof args[0] === 'string' ? args[0] : args[1];
    if (typeof message === 'string' && dropped.has(message)) return;
    method.apply(this, args);
  };
}

/** Nest's start-up chatter (one line per module and route) is debug detail, not news. */
const BOOT_DETAIL_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/** Nest's own log lines go to the same JSON (pino) stream as the request logs. */
class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void {
    this.write(context && BOOT_DETAIL_CONTEXTS.has(context) ? 'debug' : 'info', message, context);
  }
  error(message: unknown, ...rest: unknown[]): void {
    const context = typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined;
    this.write('error', message, context);
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }
  private write(level: 'info' | 'error' | 'warn' | 'debug' | 'trace', message: unknown, context?: string): void {
    if (typeof message === 'object' && message !== null) this.logger[level]({ context, ...message });
    else this.logger[level]({ context }, String(message));
  }
}

/**
 * A Nest application on Fastify with the behaviour every server shares: JSON logs with the request id,
 * a 1 MB body limit, JSON bodies only (415 otherwise) and at most 32 levels deep, security headers,
 * whitelist validation, the one error body, and graceful shutdown on SIGTERM (bounded: graceful-close.ts).
 */
export async function createHttpApp(
  module: NonNullable<ModuleMetadata['imports']>[number],
  options: HttpAppOptions,
): Promise<NestFastifyApplication> {
  // Lines are written in batches (one system call per batch, not per request): see BatchedLogDestination.
  const logs = new BatchedLogDestination(options.logDestination);
  const logger = pino(
    {
      level: options.logLevel,
      base: { service: options.service },
      ...(options.droppedLogMessages && { hooks: { logMethod: droppingMessages(options.droppedLogMessages) } }),
    },
    logs,
  );
  const answerHeaders = answerHeadersFor(options.securityHeaders ?? { hstsMaxAgeSeconds: 0 });
  // The answers to requests no route sees (not HTTP, or an unmet Expect) carry every answer's headers too.
  const unrouted = rawAnswers(answerHeaders.api);
  const proxies = await trustedProxiesFor(options.trustedProxies ?? [], logger);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // One hand-built line per request (request-log.ts), and no pino child per request unless one is used.
    logController: new OneLinePerRequest(logger),
    childLoggerFactory: lazyRequestLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // A client trickling its headers or body holds its connection this long at most (connection-limits.ts).
    requestTimeout: options.requestTimeouts?.requestMs ?? REQUEST_TIMEOUT_MS,
    http: {
      headersTimeout: options.requestTimeouts?.headersMs ?? HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS,
      // Node alone answers an HTTP/1.1 request without Host with an empty 400; configureFastify answers it.
      requireHostHeader: false,
    },
    trustProxy: proxies.setting,
    genReqId: requestIdOf,
    // A request arriving while closing is answered by boundGracefulClose's hook, with the error body.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    clientErrorHandler: unrouted.clientError,
    // A URL Fastify refuses before routing (a path segment over 100 characters, bad percent-encoding): the
    // error body of API.md with every answer's headers, not Fastify's own body echoing the path.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      setHeaders(reply.raw, answerHeaders.api);
      reply.raw.setHeader(REQUEST_ID_HEADER, request.id);
      const { status, body } = mapError(error, { storeErrors: options.storeErrors });
      void reply.code(status).send(body);
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(module as never, adapter, {
    logger: new PinoNestLogger(logger),
    abortOnError: false,
    // Nest would add its own JSON and form parsers; the one JSON parser below is the only one.
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.server.on('checkExpectation', unrouted.unmetExpectation);
  fastify.server.on('connect', unrouted.connectMethod);
  fastify.addHook('onClose', (_instance, done) => {
    proxies.resolver.stop();
    logs.close();
    done();
  });
  if (options.connectionLimits) {
    const { reservedFiles = 0, ...configured } = options.connectionLimits;
    const openFiles = openFilesLimit();
    const { limits, lowered } = fitToOpenFiles(configured, reservedFiles + REFUSED_HELD_MAX, openFiles);
    if (lowered > 0) {
      logger.warn(
        { configured: configured.total, total: limits.total, openFiles, reservedFiles },
        'client connections limited below the configured total: the open-files limit (ulimit -n) leaves no more once the upstream connections are set aside; raise it to allow more',
      );
    }
    // Many clients come through a trusted proxy: its connections are not counted per address.
    const { refused } = limitConnections(
      fastify.server,
      limits,
      (address) => proxies.resolver.trusts(address),
      unrouted.overLimit,
    );
    // One line every 10 s at most while connections are being refused, not one per connection.
    let told = 0;
    const report = setInterval(() => {
      const now = refused();
      if (now > told)
        logger.warn(
          { refused: now - told, ...limits },
          'connections over the limits refused (answered 429/503 and closed, or closed at once)',
        );
      told = now;
    }, 10_000);
    report.unref();
    fastify.addHook('onClose', (_instance, done) => {
      clearInterval(report);
      done();
    });
  }
  installSecurityHeaders(fastify, answerHeaders);
  configureFastify(fastify);
  if (options.trustedProxiesVariable) {
    // A name is resolved once more before the peer is called untrusted: at a Compose start the gateway's name may
    // not have resolved yet when its first request arrives.
    warnOfUntrustedForwarding(fastify, logger, options.trustedProxiesVariable, async (peer) => {
      if (proxies.resolver.hasNames) await proxies.resolver.resolve();
      return !proxies.resolver.trusts(peer);
    });
  }
  const gracefulClose = boundGracefulClose(fastify);
  if (options.lateStarts) refuseLateStarts(fastify, options.lateStarts);
  // After the hooks that set every answer's headers (its 503 carries them), before any body is read.
  limitBodiesInFlight(fastify, options.bodyBudget ?? DEFAULT_BODY_BUDGET, BODY_LIMIT_BYTES);
  acceptJsonBodiesOnly(fastify);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalInterceptors(new QueryWhitelistInterceptor());
  app.useGlobalFilters(new AllExceptionsFilter({ storeErrors: options.storeErrors }));
  // The HTTP side stops taking work at the signal itself, before Nest runs the modules' shutdown hooks.
  const beginClose = (): void => gracefulClose.beginAtSignal();
  for (const signal of STOP_SIGNALS) process.once(signal, beginClose);
  fastify.addHook('onClose', (_instance, done) => {
    for (const signal of STOP_SIGNALS) process.removeListener(signal, beginClose);
    done();
  });
  app.enableShutdownHooks();
  return app;
}

/**
 * Fastify's trustProxy for the entries: their list as it is, unless one is a host name; then a judgement
 * per address by TrustedProxies, whose names are resolved before the server starts and kept up to date.
 */
async function trustedProxiesFor(
  entries: readonly string[],
  logger: Logger,
): Promise<{ setting: TrustProxySetting; resolver: TrustedProxies }> {
  const resolver = new TrustedProxies(entries, {
    onResolved: (name, addresses, error) => {
      const code = (error as { code?: unknown } | undefined)?.code;
      if (!error) logger.info({ name, addresses }, 'trusted proxy resolved: its X-Forwarded-For is believed');
      // A proxy started after this server (Compose starts the gateway last) is not an error yet.
      else if (addresses.length === 0) {
        logger.info({ name, code }, 'trusted proxy name does not resolve yet: its X-Forwarded-For is believed once it does');
      } else
        logger.warn({ name, addresses, code }, 'trusted proxy name does not resolve: the addresses it last had stay trusted');
    },
  });
  if (!resolver.hasNames) return { setting: entries.length > 0 ? [...entries] : false, resolver };
  await resolver.start();
  return { setting: (address) => resolver.trusts(address), resolver };
}

/**
 * Warns once per process of the first request that carries X-Forwarded-For from a peer this server does not
 * trust: a proxy in front of it (the gateway always sets the header) that is not named in `variable`. Its
 * clients then all count as the proxy's one address: on the auth server, five wrong passwords for an account
 * from anyone refuse it to everyone behind that proxy for the throttle's window, and the registrations an
 * address may make are the whole platform's. (Production trusts no proxy unless told; Compose names the gateway.)
 * A header from a peer that is trusted leaves `request.ips` with the peer and at least one forwarded address.
 */
export function warnOfUntrustedForwarding(
  fastify: FastifyInstance,
  logger: Logger,
  variable: string,
  stillUntrusted: (peer: string) => Promise<boolean>,
): void {
  // watching -> checking (one peer at a time, the request not held) -> told, or back to watching.
  let state: 'watching' | 'checking' | 'told' = 'watching';
  fastify.addHook('onRequest', (request, _reply, done) => {
    const peer = request.raw.socket.remoteAddress;
    if (
      state === 'watching' &&
      peer !== undefined &&
      request.headers['x-forwarded-for'] !== undefined &&
      (request.ips?.length ?? 0) < 2
    ) {
      state = 'checking';
      stillUntrusted(peer).then(
        (untrusted) => {
          if (!untrusted) return void (state = 'watching');
          state = 'told';
          logger.warn(
            { peer, variable },
            `a request came through a proxy this server does not trust (X-Forwarded-For from an address not in ${variable}): every client behind it counts as that one address for the per-address limits; name the proxy in ${variable}`,
          );
        },
        () => void (state = 'watching'),
      );
    }
    done();
  });
}

/**
 * Every reply names its request id, so a client can quote it and an operator can grep the logs for it. A
 * URL that spells the NUL character (`%00`, in the path or the query) is refused (400 VALIDATION_FAILED):
 * no id, filter or parameter of the API holds it, and a store on PostgreSQL (FerretDB) fails on it (a 500).
 */
export function configureFastify(fastify: FastifyInstance): void {
  // A plain callback, not an async function: it runs on every request, and a promise per hook costs. Set on
  // the raw response, as the security headers are (see installSecurityHeaders): no copy at send time.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.raw.setHeader(REQUEST_ID_HEADER, request.id);
    // RFC 9112 3.2: an HTTP/1.1 request without Host is refused (Node's own refusal had no error body; see
    // createHttpApp's requireHostHeader). First, so no route and no proxy works on it; the connection ends as
    // Node ended it.
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      reply.raw.setHeader('connection', 'close');
      void reply.code(400).send(errorBody(400, ClientErrorCode.MALFORMED_REQUEST, 'An HTTP/1.1 request must have a Host header'));
      return;
    }
    // The same rule refuses two Host lines: Node keeps the first, a proxy in front may have routed by the last.
    if (hostLines(request.raw.rawHeaders) > 1) {
      reply.raw.setHeader('connection', 'close');
      void reply
        .code(400)
        .send(errorBody(400, ClientErrorCode.MALFORMED_REQUEST, 'A request must have one Host header, not several'));
      return;
    }
    if (request.url.includes('%00')) {
      void reply
        .code(400)
        .send(errorBody(400, CommonErrorCode.VALIDATION_FAILED, 'The URL must not contain the NUL character (%00)'));
      return;
    }
    done();
  });
}

/**
 * Every JSON body's depth is checked while its bytes arrive (linear, before JSON.parse, validation or
 * transformation see it): deeper than MAX_JSON_DEPTH is 400 JSON_TOO_DEEP. A hook rather than a parser, so
 * that the gateway, which forwards bodies as raw bytes, refuses the same bodies before proxying them.
 */
export function guardJsonDepth(fastify: FastifyInstance, maxDepth = MAX_JSON_DEPTH): void {
  // A plain callback: Fastify's body reader then listens on the checked stream before this tick ends. (As
  // an async hook, a body already received could fail the check before anyone listened for its error.)
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    if (!isJsonMediaType(request.headers['content-type'])) return done(null, payload);
    const checked = depthCheckedStream(maxDepth);
    // pipe() does not forward a source error (a client that hangs up); the reader must still hear of it.
    payload.on('error', (error) => checked.destroy(error));
    // Fastify's body reader hears the check's error when it reads; a body refused unread (413 by its
    // Content-Length) still flows through the check, and an error nobody listens for would end the process.
    checked.on('error', () => undefined);
    done(null, payload.pipe(checked));
  });
}

/** Decodes UTF-8 and throws on bytes that are not (rather than writing U+FFFD for them). */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The charset a Content-Type names, lower-cased, without quotes; undefined when it names none. JSON has no
 * charset parameter (RFC 8259: it is UTF-8), but clients send `charset=utf-8`, and some another one.
 */
export function declaredCharset(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*("?)([^";\s]*)\1/i.exec(contentType ?? '');
  return match?.[2]?.toLowerCase();
}

/**
 * `application/json` is the only body type (anything else, form-encoded and text/plain included, is 415),
 * in UTF-8 only: a body declared in another charset is 415, one whose bytes are not UTF-8 is 400 INVALID_JSON
 * (decoded anyway, each bad byte would be stored as U+FFFD); `__proto__` and `constructor.prototype` keys are
 * refused as Fastify does by default. An empty body sent
 * as JSON is no body, as without the header (many clients send the header on every POST): a route that
 * takes no body (a claim, an approval, a rotation) accepts it, one that needs a body says what it lacks.
 */
function acceptJsonBodiesOnly(fastify: FastifyInstance): void {
  guardJsonDepth(fastify);
  fastify.removeAllContentTypeParsers();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (request, bytes, done) => {
    const charset = declaredCharset(request.headers['content-type']);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      return done(unsupportedCharset(charset), undefined);
    }
    // A compressed body is not read as it came (its bytes would be taken for the JSON itself): 415 (RFC 9110 8.4).
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && !isIdentityEncoding(encoding)) return done(unsupportedEncoding(encoding), undefined);
    let body: string;
    try {
      body = strictUtf8.decode(bytes as Buffer);
    } catch {
      return done(refusedJson(NOT_UTF8_JSON), undefined);
    }
    if (body === '') {
      done(null, undefined);
      return;
    }
    void parseJson(request, body, (error, parsed) => {
      if (!error) {
        // Only an escape can spell a lone surrogate (bytes that are not UTF-8 were refused above).
        if (body.includes('\\u') && holdsLoneSurrogate(parsed)) {
          return done(refusedJson(LONE_SURROGATE_IN_JSON), undefined);
        }
        return done(null, parsed);
      }
      // Fastify says "not valid JSON" for a prototype key too: say which, when the JSON itself is valid.
      if (isValidJson(body)) return done(refusedJson(FORBIDDEN_JSON_KEY), undefined);
      done(error, undefined);
    });
  });
}

/** Whether a Content-Encoding header names no coding but `identity` (each listed coding; empty ones skipped). */
export function isIdentityEncoding(header: string | string[]): boolean {
  const codings = (Array.isArray(header) ? header.join(',') : header).split(',').map((coding) => coding.trim().toLowerCase());
  return codings.every((coding) => coding === '' || coding === 'identity');
}

/** 415 for a body in a content coding (gzip, br...): bodies are taken as they are. */
function unsupportedEncoding(header: string | string[]): Error {
  const named = (Array.isArray(header) ? header.join(', ') : header).slice(0, 40).replace(/[^\x20-\x7e]/g, '?');
  return unsupportedMediaType(`Bodies are taken uncompressed; Content-Encoding: ${named} is not supported`);
}

/** 415 for a JSON body declared in a charset other than UTF-8. */
function unsupportedCharset(charset: string): Error {
  return unsupportedMediaType(
    `JSON bodies are UTF-8 only; charset=${charset.slice(0, 40).replace(/[^\x21-\x7e]/g, '?')} is not supported`,
  );
}

/** A body refused 415, as the parser's error (mapError keeps the message). */
function unsupportedMediaType(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' });
}

/** Valid JSON refused on purpose, as the parser's error (mapError names `message`: jsonProblem). */
function refusedJson(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' });
}

/** Whether a parsed JSON value has a string or a key that is not well-formed UTF-16 (its depth is bounded by guardJsonDepth). */
export function holdsLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return !(value as string & { isWellFormed(): boolean }).isWellFormed();
  if (Array.isArray(value)) return value.some(holdsLoneSurrogate);
  if (typeof value === 'object' && value !== null) {
    for (const [key, inner] of Object.entries(value)) if (holdsLoneSurrogate(key) || holdsLoneSurrogate(inner)) return true;
  }
  return false;
}

function isValidJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** How many Host header lines a request has (its raw headers: names and values in turn). */
function hostLines(rawHeaders: readonly string[]): number {
  let lines = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') lines += 1;
  }
  return lines;
}
