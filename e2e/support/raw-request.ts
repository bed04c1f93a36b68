import { request } from 'node:http';

/**
 * One GET with the request target sent exactly as written (fetch would normalise `%65`, `..` and `#`),
 * for the paths an attacker would send.
 */
export function rawGet(
  baseUrl: string,
  target: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; contentType: string | undefined; json: () => Record<string, unknown> }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = request({ hostname, port, method: 'GET', path: target, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: response.statusCode ?? 0,
          contentType: response.headers['content-type'],
          json: () => JSON.parse(text) as Record<string, unknown>,
        });
      });
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}
