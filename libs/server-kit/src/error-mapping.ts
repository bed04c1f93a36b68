import { HttpException, HttpStatus } from '@nestjs/common';
import { CommonErrorCode, DomainError, type ErrorBody, errorBody, listedProblems } from './errors.js';
import { STORE_RETRY_AFTER_SECONDS, isStoreUnavailable } from './store-unavailable.js';

const CODE_BY_STATUS: Record<number, string> = {
  400: CommonErrorCode.VALIDATION_FAILED,
  401: CommonErrorCode.UNAUTHORIZED,
  403: CommonErrorCode.FORBIDDEN,
  404: CommonErrorCode.NOT_FOUND,
  405: CommonErrorCode.METHOD_NOT_ALLOWED,
  409: CommonErrorCode.CONFLICT,
  413: CommonErrorCode.PAYLOAD_TOO_LARGE,
  415: CommonErrorCode.UNSUPPORTED_MEDIA_TYPE,
  429: CommonErrorCode.TOO_MANY_REQUESTS,
  503: CommonErrorCode.SERVICE_UNAVAILABLE,
};

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

function isFastifyError(error: unknown): error is FastifyLikeError & { code: string } {
  const candidate = error as FastifyLikeError | null | undefined;
  return typeof candidate?.code === 'string' && candidate.code.startsWith('FST_');
}

/**
 * A failure mapped to its status and the error body of API.md; `internal` marks what must be logged (with
 * its stack), `storeUnavailable` a request the database could not serve (logged in summary: see
 * AllExceptionsFilter).
 */
export interface MappedError {
  status: number;
  body: ErrorBody;
  internal: boolean;
  storeUnavailable?: boolean;
}

/** The message of a request the database could not serve. */
export const STORE_UNAVAILABLE_MESSAGE = 'The database is unavailable; try again shortly';

/**
 * The message of a body that is not declared as JSON. Fastify's own says only "Unsupported Media Type", which
 * leaves the usual cause unsaid: a body sent without its header (`curl -d` sends it form-encoded).
 */
export const NOT_JSON_BODY_MESSAGE =
  'Bodies are JSON: send this one with content-type: application/json (form-encoded, text/plain and other types are refused)';
/** What Fastify says when no parser takes the body's content type (our own 415s say what is wrong instead). */
const FASTIFY_UNSUPPORTED_MEDIA_TYPE = 'Unsupported Media Type';

/**
 * The one mapping from anything thrown to the error body, used by the Nest exception filter and by
 * Fastify's own error handler (body parsing fails before Nest sees the request).
 */
export function mapError(error: unknown, { storeErrors = false }: { storeErrors?: boolean } = {}): MappedError {
  // Nest wraps Fastify's own 4xx errors (bad JSON, body too large) in an HttpException; map the original.
  if (error instanceof HttpException && isFastifyError(error.cause)) return mapError(error.cause, { storeErrors });
  if (error instanceof DomainError) {
    return { status: error.status, body: errorBody(error.status, error.code, error.messages, error.details), internal: false };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    let message: string | string[] = error.message;
    let code = CODE_BY_STATUS[status] ?? (status >= 500 ? CommonErrorCode.INTERNAL_ERROR : 'HTTP_ERROR');
    let details: Record<string, unknown> | undefined;
    if (typeof response === 'object' && response !== null) {
      const {
        message: responseMessage,
        code: responseCode,
        statusCode: _s,
        error: _e,
        ...rest
      } = response as Record<string, unknown>;
      if (typeof responseMessage === 'string') message = responseMessage;
      // A list is bounded as a DomainError's is.
      else if (Array.isArray(responseMessage)) message = listedProblems(responseMessage.map(String));
      if (typeof responseCode === 'string') code = responseCode;
      details = rest;
    }
    return { status, body: errorBody(status, code, message, details), internal: status >= 500 };
  }
  if (isFastifyError(error)) {
    const fastifyError = error;
    const status = fastifyError.statusCode ?? 500;
    if (status === HttpStatus.PAYLOAD_TOO_LARGE) {
      return {
        status,
        body: errorBody(status, CommonErrorCode.PAYLOAD_TOO_LARGE, 'Request body is larger than the limit'),
        internal: false,
      };
    }
    if (status === HttpStatus.UNSUPPORTED_MEDIA_TYPE) {
      return {
        status,
        body: errorBody(
          status,
          CommonErrorCode.UNSUPPORTED_MEDIA_TYPE,
          fastifyError.message === undefined || fastifyError.message === FASTIFY_UNSUPPORTED_MEDIA_TYPE
            ? NOT_JSON_BODY_MESSAGE
            : fastifyError.message,
        ),
        internal: false,
      };
    }
    if (status === HttpStatus.BAD_REQUEST) {
      const isJson = fastifyError.code.includes('JSON');
      return {
        status,
        body: errorBody(
          status,
          isJson ? CommonErrorCode.INVALID_JSON : CommonErrorCode.VALIDATION_FAILED,
          isJson ? jsonProblem(fastifyError.message) : (fastifyError.message ?? 'Bad request'),
        ),
        internal: false,
      };
    }
    if (status === HttpStatus.URI_TOO_LONG) {
      return { status, body: errorBody(status, CommonErrorCode.URI_TOO_LONG, 'A part of the path is too long'), internal: false };
    }
    if (status >= 400 && status < 500) {
      return {
        status,
        body: errorBody(status, CODE_BY_STATUS[status] ?? 'HTTP_ERROR', fastifyError.message ?? 'Bad request'),
        internal: false,
      };
    }
  }
  // A server with a store (`storeErrors`): the store restarting, failing over or unreachable is not a fault
  // of the request or of the code; the client is told to come back (a 500 would say neither), and the log
  // says it in summary, not per request.
  if (storeErrors && isStoreUnavailable(error)) {
    return {
      status: HttpStatus.SERVICE_UNAVAILABLE,
      body: errorBody(HttpStatus.SERVICE_UNAVAILABLE, CommonErrorCode.SERVICE_UNAVAILABLE, STORE_UNAVAILABLE_MESSAGE, {
        retryAfterSeconds: STORE_RETRY_AFTER_SECONDS,
      }),
      internal: false,
      storeUnavailable: true,
    };
  }
  return {
    status: HttpStatus.INTERNAL_SERVER_ERROR,
    body: errorBody(HttpStatus.INTERNAL_SERVER_ERROR, CommonErrorCode.INTERNAL_ERROR, 'Internal server error'),
    internal: true,
  };
}

/** The parser's message for valid JSON with a `__proto__` or `constructor.prototype` key (see http-app). */
export const FORBIDDEN_JSON_KEY = 'Request body has a forbidden key (__proto__ or constructor.prototype)';

/**
 * The parser's message for valid JSON with a string (or key) holding half of a UTF-16 surrogate pair (`"\\ud800"`):
 * not Unicode text, and stored it would not read back the same (the store writes UTF-8, which has no such
 * character, and puts U+FFFD in its place). See http-app.
 */
export const LONE_SURROGATE_IN_JSON =
  'Request body has a string with a lone surrogate escape (\\ud800-\\udfff not in a pair): not valid Unicode text';

/**
 * The parser's message for a body whose bytes are not UTF-8 (JSON is UTF-8, RFC 8259): decoded anyway, each bad
 * byte would become U+FFFD, and a title sent in Latin-1 ("Café") would be stored as something else ("Caf\ufffd").
 */
export const NOT_UTF8_JSON = 'Request body is not valid UTF-8 text (JSON must be sent as UTF-8)';

/** What is wrong with a body the JSON parser refused: these are refused on purpose, with their own message. */
const OWN_JSON_PROBLEMS = new Set([FORBIDDEN_JSON_KEY, LONE_SURROGATE_IN_JSON, NOT_UTF8_JSON]);

function jsonProblem(message: string | undefined): string {
  return message !== undefined && OWN_JSON_PROBLEMS.has(message) ? message : 'Request body is not valid JSON';
}
