import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = Record<string, unknown>>(): T;
  ms: number;
}

/**
 * One HTTP request with the path sent exactly as written (fetch would resolve `..` and re-encode it),
 * so tests can probe the gateway with the paths an attacker would send.
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  // A list sends the header once per value (two Authorization lines, say).
  options: { headers?: Record<string, string | string[]>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const outgoing = request({ hostname, port, method, path, headers: options.headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text,
          json: <T>() => JSON.parse(text) as T,
          ms: performance.now() - startedAt,
        });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}
