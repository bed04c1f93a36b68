import { Transform, type TransformCallback } from 'node:stream';
import { CommonErrorCode, DomainError } from './errors.js';

/** The deepest nesting of objects and arrays any server accepts in a JSON body. */
export const MAX_JSON_DEPTH = 32;
/**
 * The most separators (`,` and `:` outside strings, about one per value) a JSON body may hold: validation
 * and transformation cost grows with the number of values, and a 1 MB body of `0,0,0,…` has half a million.
 * A 1,000-activity import needs about 8,000 plus two per attribute field: room for about 45 fields per item
 * (docs/api-rules.md tells importers so; the attributes' 4,096 bytes would allow several hundred).
 */
export const MAX_JSON_SEPARATORS = 100_000;
/**
 * The most fields one JSON object may hold. class-transformer (run on every body validated against a DTO,
 * public ones such as the login included) removes duplicate keys with an `indexOf` per key, so its cost grows
 * with the square of an object's keys: 30,000 keys in one object cost 0.6 s of CPU, 100,000 (within the
 * separator bound) several seconds. No object of the API comes near this: an activity's attributes fit in
 * 4,096 bytes, a condition or an audit entry's changes hold a few fields.
 */
export const MAX_JSON_OBJECT_KEYS = 256;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const LETTER_U = 0x75;
const DIGIT_ZERO = 0x30;

export type JsonShapeVerdict = 'ok' | 'too-deep' | 'too-many-values' | 'too-many-keys' | 'nul-character';

/**
 * Counts the nesting of a JSON text as its bytes arrive, one pass, no allocation: brackets inside strings
 * do not count (in UTF-8 the bytes of `"` and `\` never occur inside a multi-byte character). It does not
 * validate; JSON.parse does that afterwards, on a text that is known to be shallow enough for every later
 * step (validation and transformation recurse once per level).
 *
 * It also refuses a string (a value or a key) holding the NUL character, `\u0000` (JSON cannot carry it
 * otherwise): no field of the API needs it, and a store on PostgreSQL (FerretDB) cannot keep it, so such a
 * body failed there with a 500, or, in a batch, with the other documents written.
 */
export class JsonDepthScanner {
  private depth = 0;
  private separators = 0;
  private inString = false;
  private escaped = false;
  /** Inside a `\u` escape: how many `0` digits came after the `u` (-1: not in one, or not all zeros). */
  private unicodeZeros = -1;
  /** Per open level (index = depth): the keys seen so far if it is an object, -1 if it is an array. */
  private readonly keysAt: Int32Array;

  constructor(
    readonly maxDepth = MAX_JSON_DEPTH,
    readonly maxSeparators = MAX_JSON_SEPARATORS,
    readonly maxObjectKeys = MAX_JSON_OBJECT_KEYS,
  ) {
    this.keysAt = new Int32Array(maxDepth + 2);
  }

  /** False as soon as the text has gone deeper than `maxDepth` (or holds too many values: see `verdict`). */
  feed(bytes: Uint8Array): boolean {
    return this.scan(bytes) === 'ok';
  }

  scan(bytes: Uint8Array): JsonShapeVerdict {
    let { depth, separators, inString, escaped, unicodeZeros } = this;
    const { keysAt, maxObjectKeys } = this;
    const max = this.maxDepth;
    let verdict: JsonShapeVerdict = 'ok';
    for (let i = 0; i < bytes.length; i += 1) {
      const byte = bytes[i];
      if (inString) {
        if (unicodeZeros >= 0 && byte !== QUOTE && byte !== BACKSLASH) {
          // The four hex digits of `\uXXXX`: `\u0000` is NUL. (A quote or backslash there is malformed JSON,
          // which JSON.parse refuses; it is read as usual so the depth is still counted right.)
          unicodeZeros = byte === DIGIT_ZERO ? unicodeZeros + 1 : -1;
          if (unicodeZeros === 4) {
            verdict = 'nul-character';
            break;
          }
        } else if (escaped) {
          unicodeZeros = -1;
          escaped = false;
          if (byte === LETTER_U) unicodeZeros = 0;
        } else if (byte === BACKSLASH) {
          escaped = true;
          unicodeZeros = -1;
        } else if (byte === QUOTE) {
          inString = false;
          unicodeZeros = -1;
        }
      } else if (byte === QUOTE) inString = true;
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        depth += 1;
        if (depth > max) {
          verdict = 'too-deep';
          break;
        }
        keysAt[depth] = byte === OPEN_BRACE ? 0 : -1;
      } else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && depth > 0) depth -= 1;
      else if (byte === COMMA || byte === COLON) {
        separators += 1;
        if (separators > this.maxSeparators) {
          verdict = 'too-many-values';
          break;
        }
        // One colon per key of the object it is in (a colon outside any object is malformed JSON).
        const keys = byte === COLON && depth > 0 ? (keysAt[depth] as number) : -1;
        if (keys >= maxObjectKeys) {
          verdict = 'too-many-keys';
          break;
        }
        if (keys >= 0) keysAt[depth] = keys + 1;
      }
    }
    this.depth = depth;
    this.separators = separators;
    this.inString = inString;
    this.escaped = escaped;
    this.unicodeZeros = unicodeZeros;
    return verdict;
  }
}

export function jsonTooDeep(maxDepth = MAX_JSON_DEPTH): DomainError {
  return new DomainError(400, CommonErrorCode.JSON_TOO_DEEP, `JSON body is nested deeper than ${maxDepth} levels`);
}

export function jsonTooManyKeys(maxObjectKeys = MAX_JSON_OBJECT_KEYS): DomainError {
  return new DomainError(
    400,
    CommonErrorCode.JSON_TOO_MANY_VALUES,
    `A JSON object in the body holds more than ${maxObjectKeys} fields`,
  );
}

export function jsonNulCharacter(): DomainError {
  return new DomainError(400, CommonErrorCode.VALIDATION_FAILED, 'Strings must not contain the NUL character (\\u0000)');
}

export function jsonTooManyValues(maxSeparators = MAX_JSON_SEPARATORS): DomainError {
  return new DomainError(400, CommonErrorCode.JSON_TOO_MANY_VALUES, `JSON body holds more than ${maxSeparators} values`);
}

/** `application/json` and the `+json` types, parameters ignored: what a server would parse as JSON. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = (contentType.split(';', 1)[0] ?? '').trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * Passes a request body through unchanged while scanning its shape; errors (400 JSON_TOO_DEEP,
 * JSON_TOO_MANY_VALUES for too many values or too many fields in one object, or VALIDATION_FAILED for a NUL
 * character) as soon as a bound is passed, so such a body is refused after reading at most its own bytes,
 * before any parser.
 */
export function depthCheckedStream(
  maxDepth = MAX_JSON_DEPTH,
  maxSeparators = MAX_JSON_SEPARATORS,
  maxObjectKeys = MAX_JSON_OBJECT_KEYS,
): Transform {
  const scanner = new JsonDepthScanner(maxDepth, maxSeparators, maxObjectKeys);
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      const verdict = scanner.scan(chunk);
      if (verdict === 'too-deep') callback(jsonTooDeep(maxDepth));
      else if (verdict === 'too-many-values') callback(jsonTooManyValues(maxSeparators));
      else if (verdict === 'too-many-keys') callback(jsonTooManyKeys(maxObjectKeys));
      else if (verdict === 'nul-character') callback(jsonNulCharacter());
      else callback(null, chunk);
    },
  });
}
