import { Transform, type TransformCallback } from 'node:stream';
import { CommonErrorCode, DomainError } from './errors.js';

/** The deepest nesting of objects and arrays any server accepts in a JSON body. */
export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Counts the nesting of a JSON text as its bytes arrive, one pass, no allocation: brackets inside strings
 * do not count (in UTF-8 the bytes of `"` and `\` never occur inside a multi-byte character). It does not
 * validate; JSON.parse does that afterwards, on a text that is known to be shallow enough for every later
 * step (validation and transformation recurse once per level).
 */
export class JsonDepthScanner {
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(readonly maxDepth = MAX_JSON_DEPTH) {}

  /** False as soon as the text has gone deeper than `maxDepth`. */
  feed(bytes: Uint8Array): boolean {
    let { depth, inString, escaped } = this;
    const max = this.maxDepth;
    for (let i = 0; i < bytes.length; i += 1) {
      const byte = bytes[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === BACKSLASH) escaped = true;
        else if (byte === QUOTE) inString = false;
      } else if (byte === QUOTE) inString = true;
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        depth += 1;
        if (depth > max) {
          this.depth = depth;
          return false;
        }
      } else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && depth > 0) depth -= 1;
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    return true;
  }
}

export function jsonTooDeep(maxDepth = MAX_JSON_DEPTH): DomainError {
  return new DomainError(400, CommonErrorCode.JSON_TOO_DEEP, `JSON body is nested deeper than ${maxDepth} levels`);
}

/** `application/json` and the `+json` types, parameters ignored: what a server would parse as JSON. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = (contentType.split(';', 1)[0] ?? '').trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * Passes a request body through unchanged while scanning its depth; errors (400 JSON_TOO_DEEP) as soon as
 * the bound is passed, so a deep body is refused after reading at most its own bytes, before any parser.
 */
export function depthCheckedStream(maxDepth = MAX_JSON_DEPTH): Transform {
  const scanner = new JsonDepthScanner(maxDepth);
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      if (!scanner.feed(chunk)) callback(jsonTooDeep(maxDepth));
      else callback(null, chunk);
    },
  });
}
