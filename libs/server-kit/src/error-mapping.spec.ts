import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { MongooseError, mongo } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { NOT_JSON_BODY_MESSAGE, mapError } from './error-mapping.js';
import { DomainError, MAX_LISTED_PROBLEMS } from './errors.js';

function fastifyError(code: string, statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { code, statusCode });
}

describe('mapError', () => {
  it('maps a domain error to its status, code and details', () => {
    const mapped = mapError(new DomainError(409, 'EMAIL_TAKEN', 'taken', { id: 'x' }));
    expect(mapped).toEqual({
      status: 409,
      body: { id: 'x', statusCode: 409, error: 'Conflict', message: 'taken', code: 'EMAIL_TAKEN' },
      internal: false,
    });
  });

  it('maps Fastify body errors, bare or wrapped by Nest', () => {
    const badJson = fastifyError('FST_ERR_CTP_INVALID_JSON_BODY', 400, 'Body is not valid JSON');
    expect(mapError(badJson).body.code).toBe('INVALID_JSON');
    expect(mapError(new HttpException('x', 400, { cause: badJson })).body.code).toBe('INVALID_JSON');
    const tooLarge = mapError(fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413, 'Request body is too large'));
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(mapError(fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'nope')).body.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it("says what a 415 body lacks where Fastify's own message does not, and keeps a message that says it", () => {
    const bare = mapError(fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'Unsupported Media Type')).body;
    expect(bare).toMatchObject({ statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: NOT_JSON_BODY_MESSAGE });
    expect(bare.message).toContain('content-type: application/json');
    const charset = 'JSON bodies are UTF-8 only; charset=latin1 is not supported';
    expect(mapError(fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, charset)).body.message).toBe(charset);
  });

  it('gives Nest exceptions a code by status', () => {
    expect(mapError(new NotFoundException('Cannot GET /x')).body).toMatchObject({
      statusCode: 404,
      code: 'NOT_FOUND',
      message: 'Cannot GET /x',
    });
    expect(mapError(new BadRequestException(['a', 'b'])).body).toMatchObject({ code: 'VALIDATION_FAILED', message: ['a', 'b'] });
  });

  it("bounds a Nest exception's list of messages as a domain error's", () => {
    const messages = Array.from({ length: MAX_LISTED_PROBLEMS + 50 }, (_, index) => `field${index} is bad`);
    const { body } = mapError(new BadRequestException(messages));
    expect(body.message).toHaveLength(MAX_LISTED_PROBLEMS + 1);
    expect((body.message as string[]).at(-1)).toBe(`...and 50 more problems (only the first ${MAX_LISTED_PROBLEMS} are listed)`);
  });

  it('hides anything unexpected behind a 500 that is marked for logging', () => {
    const mapped = mapError(new TypeError('secret internals'));
    expect(mapped.status).toBe(500);
    expect(mapped.internal).toBe(true);
    expect(JSON.stringify(mapped.body)).not.toContain('secret');
  });

  it('answers 503 with Retry-After when the database is unavailable, for every way the driver says so (servers with a store)', () => {
    const selection = new mongo.MongoServerSelectionError('Server selection timed out after 5000 ms', {
      type: 'Unknown',
    } as unknown as mongo.TopologyDescription);
    const unavailable: Error[] = [
      new mongo.MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017'),
      new mongo.MongoNetworkTimeoutError('connection 3 to 127.0.0.1:27017 timed out'),
      selection,
      new mongo.MongoNotConnectedError('Client must be connected before running operations'),
      new mongo.MongoServerError({ message: 'not primary', code: 10107 }),
      new MongooseError('Operation `claims.insertOne()` buffering timed out after 10000ms'),
      Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET', syscall: 'write', errno: -104 }),
      // FerretDB whose PostgreSQL is down, restarting or cut the connection (code 1, InternalError).
      new mongo.MongoServerError({
        message:
          '[msg_insert.go:168 handler.(*Handler).MsgInsert] failed to connect to `user=postgres database=ferretdb`:\n\t127.0.0.1:38941 (127.0.0.1): dial error: dial tcp 127.0.0.1:38941: connect: connection refused',
        code: 1,
      }),
      new mongo.MongoServerError({
        message:
          '[msg_find.go:344 handler.handleMaxTimeMSError] [query_iterator.go:92 postgresql.(*queryIterator).Next] unexpected EOF',
        code: 1,
      }),
      // insertMany over a pooled connection cut under it: a bulk write error of no write errors.
      new mongo.MongoBulkWriteError(new mongo.MongoNetworkError('connection 24 to 127.0.0.1:39659 closed'), {} as never),
      // A layer that wrapped the driver's error.
      new Error('could not record the import', { cause: new mongo.MongoNetworkError('connect ECONNREFUSED 127.0.0.1:27017') }),
    ];
    for (const error of unavailable) {
      // Only for a server that owns a store: the gateway's raw socket errors are not its database's.
      expect(mapError(error).status, error.message).toBe(500);
      expect(mapError(error, { storeErrors: true }), error.message).toEqual({
        status: 503,
        body: {
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'The database is unavailable; try again shortly',
          code: 'SERVICE_UNAVAILABLE',
          retryAfterSeconds: 2,
        },
        internal: false,
        storeUnavailable: true,
      });
    }
  });

  it("keeps the database's other errors (and other system errors) a 500 marked for logging", () => {
    for (const error of [
      new mongo.MongoServerError({ message: 'E11000 duplicate key error', code: 11000 }),
      // An internal error of the store that is not its backend going away.
      new mongo.MongoServerError({ message: '[msg_aggregate.go:310] $group by date is not implemented', code: 1 }),
      new MongooseError('Cast to ObjectId failed'),
      Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', syscall: 'open' }),
    ]) {
      expect(mapError(error, { storeErrors: true }), error.message).toMatchObject({ status: 500, internal: true });
    }
  });
});
