import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { Client, type Dispatcher, Pool } from 'undici';
import { type HostLookup, systemLookup } from '@reward/server-kit/host-lookup';
import { RESENT_AFTER_DROP_HEADER } from '@reward/server-kit/resent-after-drop';
import { RawBody } from './raw-body.js';

/**
 * Errors that mean the connection to a replica was never made, so the request was never written to it:
 * refused, unreachable, unresolvable, or not connected within the connect timeout. Anything else (a
 * reset, a socket closed mid-request, a timeout waiting for the answer) may come after the replica
 * received the request, and is not retried, save a drop (isDroppedWithoutAnswer) of a request that is
 * idempotent by its key (ReplicaPoolOptions.mayResendAfterDrop).
 */
const CONNECT_FAILURE_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Whether an error's `code` is one of `codes`. */
function hasCodeIn(error: unknown, codes: ReadonlySet<string>): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && codes.has(code);
}

export function isConnectFailure(error: unknown): boolean {
  return hasCodeIn(error, CONNECT_FAILURE_CODES);
}

/**
 * The gateway could not open a connection at all: it is out of file descriptors (its own limit or the system's).
 * Nothing was written, and no replica is to blame: none is taken out of rotation for it (upstreamFailure: 503).
 */
export const OUT_OF_FILES_CODES: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE']);

function isOutOfFiles(error: unknown): boolean {
  return hasCodeIn(error, OUT_OF_FILES_CODES);
}

/**
 * Errors that mean the replica's connection went away before any answer came: the other side closed or
 * reset it, or it broke while the request was being written (a replica that crashed). The replica may
 * have received the request and acted on it. A timeout is not one of them: the replica may still be at it.
 */
const DROPPED_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

export function isDroppedWithoutAnswer(error: unknown): boolean {
  return hasCodeIn(error, DROPPED_CODES);
}

/** No answer's headers within the time allowed (undici's headers timeout). */
const ANSWER_TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT']);

function isAnswerTimeout(error: unknown): boolean {
  return hasCodeIn(error, ANSWER_TIMEOUT_CODES);
}

export const DEFAULT_MAX_CONNECTIONS = 2048;

/**
 * What a frozen replica (one that answered nothing for a request's whole time) is asked before it is sent
 * requests again: every server answers `GET /health` (a database ping bounded at a second). Only a 2xx
 * brings it back: a 503 says the process runs but its store does not answer, and a replica whose store
 * hangs holds every request for the whole timeout, as a frozen one does (the gateway's own /health counts
 * it down too).
 */
export const DEFAULT_PROBE_PATH = '/health';
export const DEFAULT_PROBE_TIMEOUT_MS = 2_000;
/** The least time between the starts of two probes of one frozen replica. */
export const DEFAULT_PROBE_INTERVAL_MS = 1_000;

/** The code of the error a request gets when no replica may be sent it: every one is frozen (see ReplicaPool). */
export const NO_REPLICA_CODE = 'GW_NO_REPLICA';

/**
 * A request that had no answer's headers within its whole time (`timeoutMs` from when the gateway sent it on),
 * whatever held it: a connection slow to be made (an upstream too busy to accept: undici's own headers timeout only
 * starts once the request is written, and fires up to a second late) or the wait for the answer. It is that same
 * failure, so it carries undici's code (the client hears 504; a replica that answered nothing meanwhile is frozen);
 * the replica may still be at the request, and its late answer is read and dropped.
 */
export class AnswerDeadlineError extends Error {
  readonly code = 'UND_ERR_HEADERS_TIMEOUT';
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

/** No replica may be sent the request (upstreamFailure: 503, nothing received it). */
export class NoReplicaError extends Error {
  readonly code = NO_REPLICA_CODE;
  constructor() {
    super('no upstream replica answers: every one is out of rotation until it answers a probe');
  }
}

/**
 * The host name of an origin whose addresses are each a replica: an `http:` origin named by a host name
 * other than localhost (one machine: its 127.0.0.1 and ::1 are one server). An `https:` origin keeps its
 * name, which its certificate is checked against. Undefined for every other origin.
 */
function expandableName(origin: string): string | undefined {
  const url = new URL(origin);
  const hostname = url.hostname.toLowerCase();
  if (url.protocol !== 'http:' || hostname === 'localhost' || isIP(hostname.replace(/^\[|\]$/g, '')) !== 0) {
    return undefined;
  }
  return hostname;
}

/** The origin of one address of a named origin: same scheme and port. */
function originAt(origin: string, address: string): string {
  const url = new URL(origin);
  const host = isIP(address) === 6 ? `[${address}]` : address;
  return `${url.protocol}//${host}:${url.port === '' ? '80' : url.port}`;
}

/**
 * The replicas an origin stands for now: one per address its host name resolves to (sorted, none twice),
 * or the origin itself when it is not expanded (expandableName). Rejects when the name does not resolve.
 */
export async function replicaOrigins(origin: string, lookupAll: HostLookup = systemLookup): Promise<string[]> {
  const hostname = expandableName(origin);
  if (hostname === undefined) return [origin];
  const addresses = await lookupAll(hostname);
  // A server on a dual-stack network has an IPv4 and an IPv6 address: one replica, not two. IPv6 is
  // taken only for a name that has no IPv4 address.
  const v4 = addresses.filter((address) => isIP(address) === 4);
  return [...new Set((v4.length > 0 ? v4 : addresses).map((address) => originAt(origin, address)))].sort();
}

export interface ReplicaPoolOptions {
  /**
   * The replicas' origins, in the order the rotation starts with. An `http:` origin named by a host name
   * (not localhost) stands for every address the name resolves to, each a replica (resolveIntervalMs).
   */
  origins: readonly string[];
  /**
   * How often the host names of `origins` are resolved again (ms): a replica whose address appears is
   * added to the rotation, one whose address is gone leaves it (the requests it has finish). Until a name
   * first resolves, or when it no longer does, its origin is one replica as it stands (the last addresses
   * it had are kept when it no longer resolves). 0: names are never expanded (undici resolves each
   * connection's address itself, one address per name).
   */
  resolveIntervalMs?: number;
  /** Resolves a host name into its addresses (default: the system resolver). */
  lookup?: HostLookup;
  /** Told when a named origin's replicas change (for the log), or when resolving it failed (`error`). */
  onResolved?: (origin: string, replicas: readonly string[], error?: Error) => void;
  /** How long a replica that could not be connected to is left out of rotation. */
  cooldownMs: number;
  connectTimeoutMs: number;
  /**
   * Per request: the answer's headers (across every replica it is sent to: a second attempt waits only for
   * what is left).
   */
  timeoutMs: number;
  /**
   * Per request, once its answer's headers came: the longest pause between two chunks of its body (default
   * `timeoutMs`). A streamed answer (the CSV export) may pause for as long as its next page takes to read,
   * which on a busy store is longer than an answer may take to start; past it the body fails, and the
   * client's connection is cut without the chunked encoding's last chunk, so a cut file never looks whole.
   * An answer in one piece (every JSON answer) never pauses, so only streamed answers are given this time.
   */
  bodyIdleTimeoutMs?: number;
  /** Connections per replica (one request each); requests beyond them wait in the gateway. */
  maxConnections?: number;
  now?: () => number;
  /**
   * Told when a replica is taken out of rotation (for the log), with the refusal or the answer timeout;
   * `frozen`: out until it answers again (a probe or a request it held), not for the cooldown.
   */
  onReplicaDown?: (origin: string, error: Error, frozen: boolean) => void;
  /** Told when a frozen replica answered again (a probe or a late answer) and is back in rotation (for the log). */
  onReplicaBack?: (origin: string) => void;
  /** What a frozen replica is asked before it is sent requests again (default DEFAULT_PROBE_PATH). */
  probePath?: string;
  /** How long a probe waits for its answer (default DEFAULT_PROBE_TIMEOUT_MS); then the next is sent. */
  probeTimeoutMs?: number;
  /** The least time between the starts of two probes of one frozen replica (default DEFAULT_PROBE_INTERVAL_MS). */
  probeIntervalMs?: number;
  /**
   * Whether a request that a replica may have received, and dropped without answering, may be sent to
   * another replica: only when sending it twice is the same as sending it once (the upstream honours its
   * Idempotency-Key). Asked only after such a drop. Without it, no such request is sent again.
   */
  mayResendAfterDrop?: (request: { method: string; path: string; headers: unknown }) => boolean;
  /** Told when a request is sent again after a drop (for the log), with the request's x-request-id. */
  onResent?: (origin: string, error: Error, requestId: string | undefined) => void;
  /**
   * Requests that carry REPLICA_KEY_HEADER (the gateway sets it to the caller's id on the routes that honour
   * an Idempotency-Key: a player's claims) go to the replica that key hashes to, and requests idempotent by
   * their Idempotency-Key (`mayResendAfterDrop`) without one to the replica their key hashes to (or, that one
   * out of rotation, the key's next: replicaOrderOfKey), not to the next in turn. A client's retries reach
   * the replica that answered it, which answers a key it said was still running rather than shedding the
   * retry (the event server's OwedAnswers), where with N replicas in turn only one retry in N did; and a
   * player's taps, each with a key of its own, meet in one replica, which answers the second from the first's
   * outcome (one store command) where another replica found the claim by a refused insert and reads (four).
   * Keys and ids spread over the replicas as turns do.
   */
  sameReplicaPerKey?: boolean;
}

/** A request's key, and the rotation's replicas in its order (`of`: the rotation they were ordered from). */
interface KeyedOrder {
  key: string;
  of: readonly Replica[];
  replicas: Replica[];
}

/**
 * The header by which the gateway names what a request's first replica is chosen by (see sameReplicaPerKey).
 * Internal (`x-internal-`): removed from every client request, and read by no server.
 */
export const REPLICA_KEY_HEADER = 'x-internal-replica-key';

/**
 * The order in which a key tries the replicas (see sameReplicaPerKey): by highest random weight, each
 * replica's weight the FNV-1a hash of the key and its origin, mixed. A key keeps its replica while others come and
 * go, and the keys of a replica out of rotation spread over all the others (taking the next in a fixed
 * order, with three replicas and one out, one of the two got two thirds of the claims). Indexes of `origins`.
 */
export function replicaOrderOfKey(key: string, origins: readonly string[]): number[] {
  const keyHash = fnv1a(key, 0x811c9dc5);
  const weights = origins.map((origin) => mixed(fnv1a(origin, keyHash ^ 0x0a)));
  return origins.map((_, index) => index).sort((a, b) => weights[b]! - weights[a]! || a - b);
}

/**
 * MurmurHash3's finaliser: every bit of the input moves about half of the output's (FNV-1a alone barely
 * moves its high bits for the last characters).
 */
function mixed(hash: number): number {
  let value = hash;
  value = Math.imul(value ^ (value >>> 16), 0x85ebca6b);
  value = Math.imul(value ^ (value >>> 13), 0xc2b2ae35);
  return (value ^ (value >>> 16)) >>> 0;
}

/** FNV-1a over the characters of `text`, from `hash` (32 bits, unsigned). */
function fnv1a(text: string, hash: number): number {
  let value = hash;
  for (let index = 0; index < text.length; index++) {
    value ^= text.charCodeAt(index);
    value = Math.imul(value, 0x01000193);
  }
  return value >>> 0;
}

interface Replica {
  origin: string;
  pool: Pool;
  /** Out of rotation until then (ms); 0 when in rotation. */
  downUntil: number;
  /** When it last answered a request (its answer's headers came; ms). */
  answeredAt: number;
  /**
   * Out of rotation because it answered nothing for a request's whole time (stopped or frozen): never sent
   * a request, not even as a last resort, until it answers again, a probe or a request it held.
   */
  frozen: boolean;
  /** The next probe of a frozen replica, while one is due. */
  probeTimer: NodeJS.Timeout | undefined;
  /** Whether a probe is waiting for its answer. */
  probing: boolean;
}

/** One configured origin and the replicas it stands for now. */
interface Source {
  origin: string;
  /** Whether its host name's addresses are the replicas (expandableName), rather than the origin itself. */
  named: boolean;
  /** The replicas' origins: its resolved addresses, or the origin itself until (and unless) it resolves. */
  replicas: string[];
  /** Whether the last attempt to resolve it failed (so a failure is told once, not every interval). */
  failing: boolean;
}

type RequestOptions = Dispatcher.RequestOptions & { origin?: string | URL };
type RequestCallback = (error: Error | null, data?: Dispatcher.ResponseData) => void;

/**
 * One upstream served by several replicas, as reply-from sees a dispatcher (`request(options, callback)`):
 * round robin over the replicas in rotation; a replica that refuses a connection (or cannot be reached)
 * leaves the rotation for `cooldownMs`. One that answered nothing at all (no request of any) while a request
 * sent to it waited its whole time is frozen (a paused process, a blocked event loop): it leaves the rotation
 * until it answers again, a probe (`GET probePath` answered 2xx; one always waiting on it) or a request it held,
 * and is never sent a request meanwhile, so that it costs no further client a whole timeout; with every
 * replica frozen a request is answered at once (NoReplicaError: 503). The request a replica never received is
 * sent to the next replica not tried yet (in rotation, or else the one due back soonest: pick), each replica
 * at most once. A request
 * that may have reached a replica is not sent again, whatever its method: the caller gets that replica's
 * answer or error. The one exception is a request that is idempotent by its key (`mayResendAfterDrop`),
 * when the replica dropped the connection without answering (it crashed): it goes to another replica not
 * tried yet (chosen the same way), which answers for the key (its recorded outcome, 409
 * IDEMPOTENCY_IN_PROGRESS while it has none, or a fresh decision when the key never reached the store),
 * never with a second effect. A request sent again waits for its answer only for what is left of
 * `timeoutMs`, and is not sent again once that is up (the replica that gets it also checks the request's
 * start-by time before deciding anything: START_BY_HEADER).
 */
export class ReplicaPool {
  private replicas: Replica[] = [];
  private readonly sources: Source[];
  private readonly now: () => number;
  private turn = 0;
  private resolveTimer: NodeJS.Timeout | undefined;
  /** Replicas' pools that left the rotation and are finishing their requests (closed with the pool). */
  private readonly retiring = new Set<Pool>();
  private resolving: Promise<void> | undefined;
  /** The probes of frozen replicas waiting for their answer (destroyed with the pool). */
  private readonly probes = new Set<Client>();
  private closed = false;

  constructor(private readonly options: ReplicaPoolOptions) {
    if (options.origins.length === 0) throw new Error('a replica pool needs at least one origin');
    this.now = options.now ?? Date.now;
    const expand = (options.resolveIntervalMs ?? 0) > 0;
    this.sources = options.origins.map((origin) => ({
      origin,
      named: expand && expandableName(origin) !== undefined,
      replicas: [origin],
      failing: false,
    }));
    this.rebuild();
    if (this.sources.some((source) => source.named)) {
      void this.resolveNames();
      this.resolveTimer = setInterval(() => void this.resolveNames(), options.resolveIntervalMs);
      this.resolveTimer.unref();
    }
  }

  /**
   * Resolves the named origins again and updates the rotation (also run every resolveIntervalMs). Settles
   * when done; a call while one is under way waits for that one.
   */
  resolveNames(): Promise<void> {
    this.resolving ??= this.resolveEach().finally(() => {
      this.resolving = undefined;
    });
    return this.resolving;
  }

  private async resolveEach(): Promise<void> {
    const lookupAll = this.options.lookup ?? systemLookup;
    let changed = false;
    await Promise.all(
      this.sources.map(async (source) => {
        if (!source.named) return;
        let replicas: string[];
        try {
          replicas = await replicaOrigins(source.origin, lookupAll);
        } catch (error) {
          if (!source.failing) this.options.onResolved?.(source.origin, source.replicas, error as Error);
          source.failing = true;
          return;
        }
        source.failing = false;
        if (replicas.length === 0 || replicas.join() === source.replicas.join()) return;
        source.replicas = replicas;
        changed = true;
        this.options.onResolved?.(source.origin, replicas);
      }),
    );
    if (changed && !this.closed) this.rebuild();
  }

  /** The rotation from the sources' replicas: a replica that stays keeps its connections and its cooldown. */
  private rebuild(): void {
    const current = new Map(this.replicas.map((replica) => [replica.origin, replica]));
    const origins = [...new Set(this.sources.flatMap((source) => source.replicas))];
    this.replicas = origins.map((origin) => current.get(origin) ?? this.replicaAt(origin));
    this.turn %= this.replicas.length;
    for (const [origin, replica] of current) {
      // Gone: the requests it has under way finish, then its connections close.
      if (origins.includes(origin)) continue;
      clearTimeout(replica.probeTimer);
      this.retire(replica.pool);
    }
  }

  private retire(pool: Pool): void {
    this.retiring.add(pool);
    pool
      .close()
      .catch(() => undefined)
      .finally(() => this.retiring.delete(pool));
  }

  private replicaAt(origin: string): Replica {
    const { options } = this;
    return {
      origin,
      downUntil: 0,
      answeredAt: 0,
      frozen: false,
      probeTimer: undefined,
      probing: false,
      pool: new Pool(origin, {
        // One request per connection. Enough connections that a burst reaches the upstream, which decides
        // what to work on and sheds the rest at once (503 + Retry-After), instead of waiting here unseen
        // until the gateway's timeout answers 504.
        connections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
        pipelining: 1,
        connect: { timeout: options.connectTimeoutMs },
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.bodyIdleTimeoutMs ?? options.timeoutMs,
      }),
    };
  }

  /** The replicas now in rotation (for health reports and tests). */
  inRotation(): string[] {
    const now = this.now();
    return this.replicas.filter((replica) => !replica.frozen && replica.downUntil <= now).map((replica) => replica.origin);
  }

  request(options: RequestOptions, callback: RequestCallback): void {
    // A buffered body is sent as bytes, which can be sent again if the first replica never got them.
    const body = options.body instanceof RawBody ? options.body.bytes : options.body;
    const replayable = !(body instanceof Readable);
    // reply-from builds these options for this one request, so they are changed in place rather than
    // copied per attempt: without an origin, each replica's Pool sends to its own.
    options.origin = undefined;
    options.body = body;
    // The request's whole time: a second attempt gets what is left of it, so the client hears within timeoutMs.
    // (A request may say its own, as undici's option; the gateway's never do.)
    const allowedMs = options.headersTimeout ?? this.options.timeoutMs;
    const deadline = this.now() + allowedMs;
    // The client is answered once: by the first of a replica's answer (or failure) and the deadline's timer.
    // An answer that comes after the deadline was told is read and dropped.
    let settled = false;
    /** The attempt under way: the deadline judges its replica as undici's headers timeout would. */
    let current: { replica: Replica; sentAt: number; whole: boolean } | undefined;
    const settle = (error: Error | null, data?: Dispatcher.ResponseData): void => {
      if (settled) {
        // An answer that came after the deadline was told: read and dropped.
        data?.body.dump().catch(() => undefined);
        return;
      }
      settled = true;
      clearTimeout(expiry);
      if (error) callback(error);
      else callback(null, data as Dispatcher.ResponseData);
    };
    // One timer per request: undici's headers timeout does not count the time to connect (a busy upstream may
    // take seconds to accept) and fires up to a second late, so it alone let clients wait well past timeoutMs.
    const expiry = setTimeout(() => {
      const error = new AnswerDeadlineError(allowedMs);
      // Sent with its whole time and nothing at all answered by that replica since: stopped or frozen (below).
      if (current?.whole && current.replica.answeredAt < current.sentAt) this.freeze(current.replica, error);
      settle(error);
    }, allowedMs);
    const tried = new Set<Replica>();
    // The first drop of a request sent again: if every later replica refuses it, that is the caller's error
    // (the request may have been acted on), not the refusal (which would say it never was); a later
    // replica's own failure after receiving it (a timeout, another drop) is reported as it is.
    let dropped: Error | undefined;
    // Whether a replica out of rotation was tried: one per request at most (see pick).
    let triedOutOfRotation = false;
    // Whether it is idempotent by its key: asked at most once per request (the gateway resolves the route for it).
    let resendable: boolean | undefined;
    const mayResend = (): boolean => (resendable ??= this.mayResend(options));
    // Walked in the key's own order (sameReplicaPerKey) rather than from the next in turn.
    const order = this.options.sameReplicaPerKey && this.replicas.length > 1 ? this.keyedOrder(options, mayResend) : undefined;
    const attempt = (replica: Replica): void => {
      const sentAt = this.now();
      if (replica.downUntil > sentAt) triedOutOfRotation = true;
      // The first attempt has the request's whole time; a later one what is left (never 0: "no limit" to undici).
      const whole = tried.size === 0;
      if (!whole) options.headersTimeout = Math.max(1, deadline - sentAt);
      tried.add(replica);
      current = { replica, sentAt, whole };
      replica.pool.request(options, (error, data) => {
        if (!error) {
          replica.answeredAt = this.now();
          // A frozen replica that answers a request it held runs again.
          if (replica.frozen) this.bringBack(replica);
        }
        if (settled) {
          // Told already by the deadline, which judged this attempt (undici's own headers timeout that follows
          // does not judge it again). A connection the replica refused still takes it out; an answer is read and
          // dropped. The request is not aborted: one still waiting for its connection would be written on it and
          // then abort it (undici closes a socket for each), where sent late it is refused at once for its
          // start-by time (a write) or answered to nobody (a read).
          if (error && isConnectFailure(error)) this.takeOut(replica, error);
          settle(null, error ? undefined : data);
          return;
        }
        // It answered nothing at all for the request's whole time, this request or any other: stopped or
        // frozen (a process paused, a host that keeps its connections but runs nothing), not merely slow.
        // Left in rotation, it would hold every request sent to it for the whole timeout and answer 504;
        // out of it, the others answer. Not sent again: it may have received the request. Only after a
        // whole wait: a request sent on with moments left says nothing of the replica that got it.
        if (error && whole && isAnswerTimeout(error) && replica.answeredAt < sentAt) this.freeze(replica, error);
        if (error && isConnectFailure(error)) {
          this.takeOut(replica, error);
          // Not when the time is up: the client is told of the refusal (nothing received it).
          const next = replayable && deadline > this.now() ? this.pick(tried, !triedOutOfRotation, order) : undefined;
          if (next) return attempt(next);
        } else if (error && replayable && isDroppedWithoutAnswer(error) && mayResend()) {
          dropped ??= error;
          // Not when the time is up: the client is told of the drop (the request may have been acted on).
          const next = deadline > this.now() ? this.pick(tried, !triedOutOfRotation, order) : undefined;
          if (next) {
            const headers = options.headers as Record<string, unknown> | undefined;
            const requestId = headers?.['x-request-id'];
            this.options.onResent?.(replica.origin, error, typeof requestId === 'string' ? requestId : undefined);
            // The next replica must answer for the key, not shed it (503 would say nothing was recorded).
            options.headers = { ...headers, [RESENT_AFTER_DROP_HEADER]: '1' } as RequestOptions['headers'];
            return attempt(next);
          }
        }
        // A later replica's refusal (or no connection to it at all) would say the request was never received; the
        // drop says it may have been.
        if (error) settle(dropped !== undefined && (isConnectFailure(error) || isOutOfFiles(error)) ? dropped : error);
        else settle(null, data);
      });
    };
    const first = this.pick(tried, true, order);
    // Every replica is frozen: answered now (503, nothing received it), never held for a whole timeout.
    if (first === undefined) queueMicrotask(() => settle(new NoReplicaError()));
    else attempt(first);
  }

  /** The replicas a request tries, in order, by its replica key or its Idempotency-Key (see sameReplicaPerKey). */
  private keyedOrder(options: RequestOptions, mayResend: () => boolean): KeyedOrder | undefined {
    const headers = options.headers as Record<string, unknown> | undefined;
    const replicaKey = headers?.[REPLICA_KEY_HEADER];
    const key = typeof replicaKey === 'string' ? replicaKey : headers?.['idempotency-key'];
    if (typeof key !== 'string' || (key !== replicaKey && !mayResend())) return undefined;
    return { key, of: this.replicas, replicas: this.orderOf(key) };
  }

  /** The rotation's replicas in a key's order (replicaOrderOfKey). */
  private orderOf(key: string): Replica[] {
    const { replicas } = this;
    return replicaOrderOfKey(
      key,
      replicas.map((replica) => replica.origin),
    ).map((index) => replicas[index] as Replica);
  }

  private mayResend(options: RequestOptions): boolean {
    const { mayResendAfterDrop } = this.options;
    return (
      mayResendAfterDrop !== undefined &&
      mayResendAfterDrop({ method: options.method, path: options.path, headers: options.headers })
    );
  }

  /**
   * The next replica in rotation that was not tried yet for this request; when every untried one is out
   * of rotation, the one whose time out ends first (it may be back: answering 503, or 502 after a drop,
   * without trying it would keep a recovered replica unused for a whole cooldown, as when one replica
   * restarted a moment before the other died), when `outOfRotation` allows: one such try per request, so that
   * with every replica down a request costs one connect attempt, not one per replica. A frozen replica is
   * never picked: it comes back through a probe. The same for a first attempt and for a request sent on;
   * undefined once every replica was tried or is frozen. Walked from the next in turn, or in `order` (a
   * key's own: see sameReplicaPerKey), which leaves the turn as it is.
   */
  private pick(tried: Set<Replica>, outOfRotation: boolean, keyed?: KeyedOrder): Replica | undefined {
    // The rotation changed since the key's order was made (a name resolved again): made again, so that a
    // request sent on reaches the replicas that came, not those that left (`tried` still holds).
    if (keyed && keyed.of !== this.replicas) {
      keyed.of = this.replicas;
      keyed.replicas = this.orderOf(keyed.key);
    }
    const order = keyed?.replicas;
    const now = this.now();
    const count = this.replicas.length;
    const start = this.turn;
    let soonest: Replica | undefined;
    for (let step = 0; step < count; step++) {
      // A key's order holds every replica of the rotation (made again above when it changed).
      const replica = (order ? order[step] : this.replicas[(start + step) % count]) as Replica;
      if (tried.has(replica) || replica.frozen) continue;
      if (replica.downUntil <= now) {
        if (!order) this.turn = (start + step + 1) % count;
        return replica;
      }
      if (soonest === undefined || replica.downUntil < soonest.downUntil) soonest = replica;
    }
    return outOfRotation ? soonest : undefined;
  }

  private takeOut(replica: Replica, error: Error, frozen = false): void {
    const wasIn = !replica.frozen && replica.downUntil <= this.now();
    replica.downUntil = this.now() + this.options.cooldownMs;
    if (wasIn) this.options.onReplicaDown?.(replica.origin, error, frozen);
  }

  /**
   * Out of rotation until it answers again. Probed at once: a replica that was only slow on one request
   * while nothing else reached it answers the probe and is back in moments.
   */
  private freeze(replica: Replica, error: Error): void {
    this.takeOut(replica, error, true);
    if (replica.frozen) return;
    replica.frozen = true;
    this.probe(replica);
  }

  private bringBack(replica: Replica): void {
    replica.frozen = false;
    replica.downUntil = 0;
    clearTimeout(replica.probeTimer);
    replica.probeTimer = undefined;
    this.options.onReplicaBack?.(replica.origin);
  }

  /** Asks a frozen replica for `probePath` on a connection of its own (its pool may be full of held requests). */
  private probe(replica: Replica): void {
    replica.probeTimer = undefined;
    if (this.closed || !replica.frozen || replica.probing) return;
    replica.probing = true;
    const startedAt = performance.now();
    const timeoutMs = this.options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    const client = new Client(replica.origin, {
      connect: { timeout: timeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    this.probes.add(client);
    void client
      .request({ method: 'GET', path: this.options.probePath ?? DEFAULT_PROBE_PATH })
      .then(
        async (answer) => {
          await answer.body.dump().catch(() => undefined);
          return answer.statusCode >= 200 && answer.statusCode < 300;
        },
        () => false,
      )
      .then((answered) => {
        replica.probing = false;
        this.probes.delete(client);
        void client.destroy().catch(() => undefined);
        // Back already (it answered a request it held), or gone from the rotation, or the pool closed.
        if (!replica.frozen || this.closed || !this.replicas.includes(replica)) return;
        if (answered) return this.bringBack(replica);
        // A probe is always waiting on it, not one per cooldown: a paused process answers the one it holds
        // the moment it runs again, and one restarted on its port the next, so that the only replica (the
        // default deployment) is not left out for a cooldown after it is back. A probe interval apart at
        // least, whatever the cooldown (0 is allowed): probes refused or dropped at once come no faster.
        const intervalMs = this.options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
        replica.probeTimer = setTimeout(() => this.probe(replica), Math.max(0, startedAt + intervalMs - performance.now()));
        replica.probeTimer.unref();
      });
  }

  async close(): Promise<void> {
    this.stopResolving();
    await Promise.all([
      ...[...this.pools()].map((pool) => pool.close().catch(() => undefined)),
      ...[...this.probes].map((client) => client.destroy().catch(() => undefined)),
    ]);
  }

  /** reply-from's `destroyAgent` calls this when the gateway closes. */
  destroy(): Promise<void> {
    this.stopResolving();
    return Promise.all([
      ...[...this.pools()].map((pool) => pool.destroy()),
      ...[...this.probes].map((client) => client.destroy().catch(() => undefined)),
    ]).then(() => undefined);
  }

  /** Every pool with connections: the replicas' and those of replicas that left the rotation. */
  private pools(): Set<Pool> {
    return new Set([...this.replicas.map((replica) => replica.pool), ...this.retiring]);
  }

  private stopResolving(): void {
    this.closed = true;
    clearInterval(this.resolveTimer);
    for (const replica of this.replicas) clearTimeout(replica.probeTimer);
  }
}
