import type { IncomingHttpHeaders } from 'node:http';
import httpProxy from '@fastify/http-proxy';
import { CommonErrorCode, errorBody } from '@reward/server-kit/errors';
import { PUBLIC_BODY_BUDGET } from '@reward/server-kit/body-budget';
import { mapError } from '@reward/server-kit/error-mapping';
import { BODY_LIMIT_BYTES } from '@reward/server-kit/http-app';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from '@reward/server-kit/idempotency-key';
import { addRequestLineFields } from '@reward/server-kit/request-log';
import { ANSWER_OWED_HEADER, RESENT_AFTER_DROP_HEADER } from '@reward/server-kit/resent-after-drop';
import { startByValue } from '@reward/server-kit/start-by';
import type { AuthenticatedUser } from '@reward/server-kit/roles';
import type { VerifiedTokenCache } from '@reward/server-kit/verified-token-cache';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AccessDecision, authorize, decideRoute, routeNotFound } from '../policy/access-decision.js';
import { type Upstream, takesLargeBodies } from '../policy/route-policy.js';
import type { RouteTable } from '../policy/route-table.js';
import { carriesHonouredKey, mayResendAfterDrop } from '../policy/idempotent-resend.js';
import { downstreamHeaders, upstreamHeaders, vouchedClientIp } from './forwarded-headers.js';
import { RawBody } from './raw-body.js';
import { ReplicaPool } from './replica-pool.js';
import { rootCodeOf, upstreamFailure } from './upstream-failure.js';

export interface GatewayProxyOptions {
  table: RouteTable;
  /** Base URLs (origins) of each upstream's replicas. */
  upstreams: Record<Upstream, readonly string[]>;
  /** How long an upstream may take to send its answer's headers (then the client gets 504). */
  timeoutMs: number;
  /** How long an answer's body may pause between two chunks once its headers came (ReplicaPool). */
  bodyIdleTimeoutMs?: number;
  connectTimeoutMs: number;
  /**
   * How long a replica that refused a connection stays out of rotation; also, in whole seconds, the
   * Retry-After of the 503 answered when no replica can be reached (upstreamFailure).
   */
  replicaCooldownMs: number;
  /** How often upstream host names are resolved again, each address a replica (0 or absent: never). */
  resolveIntervalMs?: number;
  /** Connections per upstream replica. */
  maxConnectionsPerReplica?: number;
  /** The tokens verified so far: the app's own (JwtAuthModule's), so one verification serves both. */
  tokens: VerifiedTokenCache;
}

const UPSTREAMS: readonly Upstream[] = ['auth', 'event'];

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The policy's whole decision for this request (the route, then its token and roles), made once before its
     * body is read (onRequest) and read again by the proxy's preHandler.
     */
    gatewayRoute: AccessDecision | null;
    /** The caller of a proxied request whose token was verified (its id goes on the request's log line). */
    user: AuthenticatedUser | undefined;
  }
}

function refuse(reply: FastifyReply, decision: Extract<AccessDecision, { allowed: false }>): FastifyReply {
  return reply.code(decision.status).headers(decision.headers).send(decision.body);
}

/**
 * What a request's first replica is chosen by (ReplicaPool's sameReplicaPerKey): the caller's id on a route
 * that honours an Idempotency-Key, with a key or without (a player's claims), so that all of a player's taps
 * and retries meet in one replica; nothing on any other request (in turn, or by its Idempotency-Key: a
 * refresh, which has no verified caller).
 */
function replicaKeyOf(request: Pick<FastifyRequest, 'gatewayRoute' | 'user'>): string | undefined {
  const decided = request.gatewayRoute;
  return decided?.allowed && decided.policy.idempotencyKey && request.user ? request.user.id : undefined;
}

/** Keyed claims remembered as answered 409 IDEMPOTENCY_IN_PROGRESS by the gateway itself, and for how long (ms). */
const UNANSWERED_KEYS_KEPT = 10_000;
const UNANSWERED_KEY_TTL_MS = 5 * 60 * 1000;

/** What UnansweredKeys reads of a request: its key and its caller. */
type KeyedRequest = Pick<FastifyRequest, 'headers' | 'user'>;

/**
 * Keyed claims the gateway marks on their next send (one instance per kind of mark: see installGatewayProxy). As
 * written for the first kind: keyed claims the gateway told IDEMPOTENCY_IN_PROGRESS itself (no event server said so, so none owes the
 * client its outcome: the event server's OwedAnswers). The next send of such a key is marked as a resend
 * (RESENT_AFTER_DROP_HEADER): the event server answers it for its key (the recorded outcome,
 * IDEMPOTENCY_IN_PROGRESS, which it then owes, or a decision if the key was never stored) instead of shedding
 * it 503 CLAIMS_BUSY "nothing was recorded", which the 409 said may not be so. Once per such answer (a marked
 * send that no replica received is noted again); at most UNANSWERED_KEYS_KEPT, oldest first, each for
 * UNANSWERED_KEY_TTL_MS. Kept by this gateway process: behind several gateways, a retry that reaches another
 * one is not marked (it may then be shed, and its next retry answered).
 */
class UnansweredKeys {
  private readonly until = new Map<string, number>();
  /** The requests whose send was marked (see take): one that no replica received is noted again. */
  private readonly marked = new WeakSet<KeyedRequest>();

  /** Notes the request's key, if it has one: its next send is marked. */
  note(request: KeyedRequest): void {
    const id = UnansweredKeys.idOf(request);
    if (id === undefined) return;
    const now = performance.now();
    this.until.delete(id);
    // Oldest first (all are kept alike): the expired ones, then any over the bound.
    for (const [oldest, until] of this.until) {
      if (until > now && this.until.size < UNANSWERED_KEYS_KEPT) break;
      this.until.delete(oldest);
    }
    this.until.set(id, now + UNANSWERED_KEY_TTL_MS);
  }

  /** Whether this send of a keyed claim is to be marked (its key noted and not expired); forgets the note. */
  take(request: KeyedRequest): boolean {
    if (this.until.size === 0) return false;
    const id = UnansweredKeys.idOf(request);
    const until = id === undefined ? undefined : this.until.get(id);
    if (until === undefined) return false;
    this.until.delete(id!);
    if (until <= performance.now()) return false;
    this.marked.add(request);
    return true;
  }

  /** Whether this request's send was marked. */
  wasMarked(request: KeyedRequest): boolean {
    return this.marked.has(request);
  }

  private static idOf(request: KeyedRequest): string | undefined {
    const key = request.headers['idempotency-key'];
    const userId = request.user?.id;
    // A key the event server refuses (400, nothing recorded) needs no mark, and is not kept at any length.
    return typeof key === 'string' && key.length <= MAX_IDEMPOTENCY_KEY_LENGTH && userId !== undefined
      ? `${userId}\n${key}`
      : undefined;
  }
}

/** Keeps the request's access decision for the proxy's preHandler, and refuses it or lets it on. */
function settleAccess(request: FastifyRequest, reply: FastifyReply, done: () => void, decision: AccessDecision): void {
  request.gatewayRoute = decision;
  if (!decision.allowed) return void refuse(reply, decision);
  done();
}

/**
 * Errors raised on the proxy routes (the body limit, a malformed body, anything unexpected): these are
 * plain Fastify routes where Nest's exception filter does not run, so they get the error body here.
 */
function proxyErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const mapped = mapError(error);
  if (!mapped.internal) return reply.code(mapped.status).send(mapped.body);
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return reply
      .code(status)
      .send(errorBody(status, status === 400 ? CommonErrorCode.VALIDATION_FAILED : 'HTTP_ERROR', error.message));
  }
  // A client that hung up before its answer is not the platform's failure (the upstream's answer stream is
  // aborted then): an error line for each would let anyone write error lines at will.
  if (reply.raw.destroyed && !reply.raw.writableFinished) request.log.info('the client closed the connection before its answer');
  else request.log.error({ err: error }, 'proxy request failed');
  return reply.code(mapped.status).send(mapped.body);
}

/**
 * reply-from logs every failed upstream call as a warn line with the error's stack; the gateway says it
 * once instead, on the request's own line (status, upstream and error code, no stack): see onError below.
 * The gateway's logger drops this message (createHttpApp's droppedLogMessages).
 */
export const REPLY_FROM_FAILURE_MESSAGE = 'response errored';

/**
 * The gateway's public surface for the upstreams: every request is first checked against the route
 * policy table (unknown route -> 404, other method -> 405, before its body is read), and each upstream's
 * table routes (and only those) are proxied, with the access policy enforced in the proxy's preHandler.
 */
export function installGatewayProxy(fastify: FastifyInstance, options: GatewayProxyOptions): void {
  const { table, tokens } = options;
  const unanswered = new UnansweredKeys();
  // Keyed claims an event server answered IDEMPOTENCY_IN_PROGRESS (ANSWER_OWED_HEADER): the next send of one is
  // marked so, and whichever replica it reaches answers it for its key, as the one that answered would have.
  const owed = new UnansweredKeys();

  // Runs for every request, Nest's own routes and unmatched ones included: deny by default. The hooks on
  // this path are plain callbacks (a promise per hook per request costs), and the table is matched once.
  fastify.decorateRequest('gatewayRoute', null);
  fastify.decorateRequest('user', undefined);
  fastify.addHook('onRequest', (request, reply, done) => {
    const route = decideRoute(table, request.method, request.url);
    request.gatewayRoute = route;
    if (!route.allowed) return void refuse(reply, route);
    // The token and the roles too, before the body is read: a request without a valid token is refused
    // before it can hold any of the memory set aside for large bodies (limitBodiesInFlight, at preParsing).
    // A remembered token is judged at once (no closure, no promise: this runs on every request).
    const access = authorize(route, request.raw, tokens);
    if (access instanceof Promise) access.then((decision) => settleAccess(request, reply, done, decision), done);
    else settleAccess(request, reply, done, access);
  });

  void fastify.register(async (scope) => {
    // Bodies are read as bytes (bounded by the limit) and forwarded as they came, whatever their type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => {
      done(null, new RawBody(body as Buffer));
    });
    scope.setErrorHandler(proxyErrorHandler);
    // Only staff write routes take large bodies; every other route small ones, chunked ones too (see
    // takesLargeBodies; limitBodiesInFlight counts a body by its route's limit at most).
    scope.addHook('onRoute', (route) => {
      if (!takesLargeBodies(route.url, table.policies)) route.bodyLimit = PUBLIC_BODY_BUDGET.smallBodyBytes;
    });

    for (const upstream of UPSTREAMS) {
      const { paths, methods } = table.routesOf(upstream);
      if (paths.length === 0) continue;
      const origins = options.upstreams[upstream];
      const replicas = new ReplicaPool({
        origins,
        cooldownMs: options.replicaCooldownMs,
        resolveIntervalMs: options.resolveIntervalMs ?? 0,
        onResolved: (origin, resolved, error) => {
          if (error) {
            fastify.log.warn(
              { upstream, origin, code: (error as { code?: unknown }).code, replicas: resolved },
              'upstream host name did not resolve: its replicas stay as they were',
            );
          } else fastify.log.info({ upstream, origin, replicas: resolved }, 'upstream replicas resolved');
        },
        connectTimeoutMs: options.connectTimeoutMs,
        timeoutMs: options.timeoutMs,
        ...(options.bodyIdleTimeoutMs !== undefined && { bodyIdleTimeoutMs: options.bodyIdleTimeoutMs }),
        ...(options.maxConnectionsPerReplica !== undefined && { maxConnections: options.maxConnectionsPerReplica }),
        onReplicaDown: (origin, error, frozen) => {
          const code = (error as { code?: unknown }).code;
          if (frozen) {
            // `code`: UND_ERR_HEADERS_TIMEOUT (it answered nothing for the whole timeout).
            fastify.log.warn(
              { upstream, replica: origin, code },
              'upstream replica out of rotation: it answered nothing (frozen), until it answers a /health probe',
            );
          } else {
            fastify.log.warn(
              { upstream, replica: origin, code, cooldownMs: options.replicaCooldownMs },
              'upstream replica out of rotation: it could not be connected to',
            );
          }
        },
        onReplicaBack: (origin) =>
          fastify.log.info({ upstream, replica: origin }, 'upstream replica answers again: back in rotation'),
        mayResendAfterDrop: (request) => mayResendAfterDrop(table, request),
        // A client's retries with a key reach the replica that answered it (see ReplicaPool).
        sameReplicaPerKey: true,
        onResent: (origin, error, requestId) =>
          fastify.log.warn(
            { upstream, replica: origin, code: (error as { code?: unknown }).code, reqId: requestId },
            'upstream replica dropped a request unanswered that is the same sent twice (its Idempotency-Key, or a review): sent to another replica',
          ),
      });
      await scope.register(httpProxy, {
        // reply-from needs a base URL; the replica pool decides which replica each request goes to.
        upstream: origins[0] as string,
        routes: paths,
        httpMethods: methods.includes('GET') ? [...methods, 'HEAD'] : methods,
        proxyPayloads: false,
        disableRequestLogging: true,
        // Destroys the replica pool's connections when the gateway closes.
        destroyAgent: true,
        // reply-from only calls request(options, callback) on it (lib/request.js); its type asks for the
        // whole overloaded Dispatcher.request of its own undici major.
        undici: replicas as never,
        preHandler(request, reply, done) {
          const proceed = (decision: AccessDecision): void => {
            if (!decision.allowed) return void refuse(reply, decision);
            // The table gives each path one owner; never send a request to another one's server.
            if (decision.policy.upstream !== upstream) return void refuse(reply, routeNotFound(request.method, request.url));
            request.user = decision.user;
            done();
          };
          // Decided at onRequest; a request that somehow was not is decided now.
          const decided = request.gatewayRoute;
          if (decided) return proceed(decided);
          const decision = authorize(decideRoute(table, request.method, request.url), request.raw, tokens);
          if (decision instanceof Promise) decision.then(proceed, done);
          else proceed(decision);
        },
        replyOptions: {
          rewriteRequestHeaders: (request, headers) => {
            const replicaKey = replicaKeyOf(request);
            const forwarded = upstreamHeaders(headers as Record<string, string | string[] | undefined>, {
              requestId: request.id,
              clientIp: vouchedClientIp(request.ip, request.raw.socket.remoteAddress),
              bodyLength: request.body instanceof RawBody ? request.body.bytes.length : undefined,
              // For a request that may record something (a read records nothing): sent now, waited for
              // timeoutMs (a resend to another replica keeps it: ReplicaPool).
              startBy:
                request.method === 'GET' || request.method === 'HEAD' ? undefined : startByValue(Date.now(), options.timeoutMs),
              replicaKey,
            });
            // A keyed claim (replicaKey: its route honours the key) that this gateway answered itself last time.
            if (upstream === 'event' && replicaKey !== undefined) {
              if (unanswered.take(request)) forwarded[RESENT_AFTER_DROP_HEADER] = '1';
              else if (owed.take(request)) forwarded[ANSWER_OWED_HEADER] = '1';
            }
            return forwarded;
          },
          rewriteHeaders: (headers, request) => {
            // An event server told this keyed claim IDEMPOTENCY_IN_PROGRESS: its next send is marked so.
            if (
              upstream === 'event' &&
              request !== undefined &&
              headers[ANSWER_OWED_HEADER] === '1' &&
              replicaKeyOf(request) !== undefined
            ) {
              owed.note(request);
            }
            return downstreamHeaders(headers as IncomingHttpHeaders);
          },
          onError: (reply, { error }) => {
            // A claim with its key (the event server's keyed route) is told to ask again with it (upstreamFailure);
            // a keyed refresh keeps its 502/504, which the auth server's key and the SDK retry as they are.
            const { request } = reply;
            const keyed =
              upstream === 'event' &&
              carriesHonouredKey(table, { method: request.method, path: request.url, headers: request.headers });
            const failure = upstreamFailure(error, upstream, options.timeoutMs, options.replicaCooldownMs, keyed);
            // Told to come back with the key, or marked but received by no replica (503): its next send is marked.
            if (keyed && (failure.status === 409 || unanswered.wasMarked(request))) unanswered.note(request);
            // Marked owed but received by no replica: its next send is marked owed again.
            else if (keyed && owed.wasMarked(request)) owed.note(request);
            // The request's one line (a warn: an upstream failure, the keyed 409 too) names the upstream and what
            // the client was told.
            const cause = rootCodeOf(error);
            addRequestLineFields(reply.request, { upstream, code: failure.body.code, ...(cause !== undefined && { cause }) });
            void reply.code(failure.status).headers(failure.headers).send(failure.body);
          },
          // An upstream's answer (a 503 included) is the client's answer: never replay a request.
          retryDelay: () => null,
        },
      });
    }
  });
}
