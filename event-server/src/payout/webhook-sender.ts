import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { addressProblem, hostOf } from '../webhooks/webhook-url.rules.js';
import type { AttemptResult } from './payout.rules.js';

/** At most this much of an error answer is kept (its start says what went wrong). */
const BODY_EXCERPT = 200;
/** A path segment or query value this long may be a receiver's credential: kept out of an error (withoutEndpointPath). */
const MIN_SECRET_PIECE = 6;

/**
 * The connection's own DNS lookup refuses forbidden addresses, so what is checked is what is dialled
 * (a name re-pointed to 127.0.0.1 after the endpoint was saved is caught here: DNS rebinding).
 */
export function guardedLookup(allowPrivate: boolean, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 4);
      for (const entry of addresses) {
        const problem = addressProblem(entry.address, allowPrivate);
        if (problem) return callback(new Error(`refused: ${problem}`), '', 4);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}

/** One POST, no redirects followed, a hard timeout; never throws (every failure is a result). */
export function sendWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; allowPrivate: boolean },
): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ latencyMs: 0, error: 'the endpoint url is malformed' });
      return;
    }
    const host = hostOf(target);
    // An IP literal is never looked up, so it is checked here.
    const literalProblem = isIP(host) ? addressProblem(host, options.allowPrivate) : undefined;
    if (literalProblem) {
      resolve({ latencyMs: 0, error: `refused: ${literalProblem}` });
      return;
    }
    let settled = false;
    let onTimeout = (): void => finish({ latencyMs: elapsed(), error: `no answer within ${options.timeoutMs} ms` });
    const finish = (result: AttemptResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // The error is stored with the attempt, and a store on PostgreSQL (FerretDB) refuses a NUL in a string:
      // one in a receiver's answer would leave the attempt unrecorded and the delivery sent again at once.
      resolve(result.error === undefined ? result : { ...result, error: result.error.replaceAll('\u0000', '\uFFFD') });
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: 'POST',
        lookup: guardedLookup(options.allowPrivate),
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'reward-platform-webhooks/1',
        },
      },
      (res: IncomingMessage) => {
        const code = res.statusCode ?? 0;
        // A 2xx is the receiver's acceptance as soon as its status line arrives; its body says nothing more. Waiting
        // for the body's end timed out a receiver that answered 200 and went on streaming (or held the body open):
        // sent again and again, and its claim ended FAILED although every attempt was accepted.
        if (code >= 200 && code < 300) {
          finish({ statusCode: code, latencyMs: elapsed() });
          // Read and discarded, so that the connection serves the next webhook (keep-alive); one whose body does
          // not end within the timeout is cut instead, not left open.
          const cut = setTimeout(() => req.destroy(), options.timeoutMs);
          res.once('close', () => clearTimeout(cut));
          res.resume();
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        // Past the excerpt by the URL's length: an echo of the URL that the excerpt starts is then whole.
        const kept = BODY_EXCERPT + Buffer.byteLength(target.href);
        res.on('data', (chunk: Buffer) => {
          if (size < kept) chunks.push(chunk);
          size += chunk.length;
        });
        const answered = (): AttemptResult => {
          const answer = withoutEndpointPath(Buffer.concat(chunks).toString('utf8'), target);
          const excerpt = answer.slice(0, BODY_EXCERPT).trim();
          const redirect = code >= 300 && code < 400 ? ' (redirects are not followed)' : '';
          // Node keeps the first of repeated Retry-After headers; whether it is honoured is the rules' call.
          const retryAfter = res.headers['retry-after'];
          return {
            statusCode: code,
            latencyMs: elapsed(),
            error: `the receiver answered ${code}${redirect}${excerpt ? `: ${excerpt}` : ''}`,
            ...(retryAfter !== undefined && { retryAfter }),
          };
        };
        // An error answer whose body does not end within the timeout is still that answer (its status, its
        // Retry-After), with what came of its body, not "no answer".
        onTimeout = () => finish(answered());
        res.on('end', () => finish(answered()));
        res.on('error', (error) => finish({ statusCode: res.statusCode, latencyMs: elapsed(), error: error.message }));
      },
    );
    const timer = setTimeout(() => {
      onTimeout();
      req.destroy();
    }, options.timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) =>
      finish({ latencyMs: elapsed(), error: error.code ? `${error.code}: ${error.message}` : error.message }),
    );
    req.end(body);
  });
}

/**
 * A receiver's answer without its endpoint's path and query, which often hold its token (`?token=...`,
 * `/services/T0/B0/XXXX`) and which a receiver may echo (Express answers 404 'Cannot POST /path', its `&`
 * written `&amp;`): the attempt's error is read by OPERATORs and AUDITORs, the endpoint's URL by ADMINs only.
 */
function withoutEndpointPath(answer: string, target: URL): string {
  // The whole, then each path segment and query value long enough to be a credential, however it is echoed.
  const pieces = target.search
    .slice(1)
    .split('&')
    .flatMap((pair) => pair.split('='))
    .concat(target.pathname.split('/'))
    .filter((piece) => piece.length >= MIN_SECRET_PIECE);
  const parts = [target.href, `${target.pathname}${target.search}`, target.search, target.pathname, ...pieces];
  // Each also as a receiver that decodes what it echoes writes it: percent-decoded, and in a query `+` as a space.
  const forms = new Set(parts.flatMap((part) => [part, decoded(part), decoded(part.replaceAll('+', ' '))]));
  let redacted = answer;
  // Longest first, so that a part of a longer one is not replaced alone.
  for (const part of [...forms].sort((a, b) => b.length - a.length)) {
    if (part.length > 1) redacted = redacted.replaceAll(part, '...');
  }
  return redacted;
}

function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
