/** How long a client is told to wait before it retries a request the database could not serve (Retry-After, s). */
export const STORE_RETRY_AFTER_SECONDS = 2;

/**
 * Driver errors that say the database could not be reached or did not answer, by name (each class's own
 * `name`, so that the check holds whichever copy of the driver threw it, and needs neither loaded): a
 * connection refused, reset or timed out, no server selectable (a store restarting, a replica set
 * electing), a pool cleared or closed under the request, a client closed while stopping, an operation's
 * time limit.
 */
const UNAVAILABLE_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoPoolClearedError',
  'MongoPoolClosedError',
  'MongoWaitQueueTimeoutError',
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoClientClosedError',
  'MongoServerClosedError',
  'MongoOperationTimeoutError',
]);

/**
 * Server error codes of a replica set between primaries or a server shutting down (the driver retries a
 * retryable read or write once; these reach us when that retry failed too).
 */
const TRANSIENT_SERVER_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
  64, // WriteConcernTimeout (the write may or may not stand, as after any of these)
  262, // ExceededTimeLimit
]);

/**
 * A socket's own error, which the driver lets through at times unwrapped (a command written to a pooled
 * connection that the store has reset fails with `write ECONNRESET`). The auth and event servers make no
 * other network calls while they answer a request (a webhook URL's lookup handles its own failure), so on
 * their requests' path such an error is the store's; the gateway, which has no store, does not use this
 * check (see mapError's `storeErrors`).
 */
const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const SOCKET_CALLS = new Set(['read', 'write', 'connect']);

function isSocketError(error: Error): boolean {
  const { code, syscall } = error as NodeJS.ErrnoException;
  return typeof code === 'string' && SOCKET_CODES.has(code) && typeof syscall === 'string' && SOCKET_CALLS.has(syscall);
}

/**
 * A MongoDB-wire server in front of another database (FerretDB on PostgreSQL) that lost its own connection
 * reports it as a plain server error (code 1, InternalError) naming the cause: its backend refused, reset or cut
 * the connection. A PostgreSQL restart made every request a 500 with a stack trace before; it is the store being
 * unavailable as much as a refused connection to it is.
 */
const BACKEND_CONNECTION_LOST =
  /failed to connect to `|unexpected EOF|connection reset by peer|broken pipe|connect: connection refused|conn closed|the database system is (starting up|shutting down)/;

/**
 * The driver's own message for a pooled connection cut under a command, which a bulk write (insertMany)
 * rethrows as a MongoBulkWriteError of no write errors instead of the network error it was.
 */
const CONNECTION_CLOSED = /^connection \d+ to \S+ (closed|timed out)/;

/** Mongoose's own: a command waited for a connection longer than `bufferTimeoutMS`. */
const BUFFERING_TIMED_OUT = /buffering timed out after/;

/**
 * Whether `error` says that the database is unavailable right now (a store restarting, failing over or
 * unreachable), rather than that the request or the code is wrong: such a request is answered 503 with
 * Retry-After, not 500. What the request did before the failure stands as it would after any failure.
 */
export function isStoreUnavailable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error)) return false;
  if (UNAVAILABLE_NAMES.has(error.name) || isSocketError(error)) return true;
  if (error.name === 'MongoBulkWriteError') {
    const { writeErrors } = error as Error & { writeErrors?: unknown };
    const none = writeErrors === undefined || (Array.isArray(writeErrors) && writeErrors.length === 0);
    if (none && CONNECTION_CLOSED.test(error.message)) return true;
  }
  if (error.name === 'MongoServerError' || error.name === 'MongoBulkWriteError') {
    const { code, errorLabels } = error as Error & { code?: unknown; errorLabels?: unknown };
    if (
      (typeof code === 'number' && TRANSIENT_SERVER_CODES.has(code)) ||
      (Array.isArray(errorLabels) && errorLabels.includes('RetryableWriteError')) ||
      (code === 1 && BACKEND_CONNECTION_LOST.test(error.message))
    ) {
      return true;
    }
  }
  // What the error was caused by, when a layer wrapped it (a few levels at most).
  if (depth < 3 && error.cause !== undefined && isStoreUnavailable(error.cause, depth + 1)) return true;
  return error.name === 'MongooseError' && BUFFERING_TIMED_OUT.test(error.message);
}
