/** A tiny HTTP client for the gateway: JSON in, status + parsed body + headers out. */
export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export class Client {
  constructor(private readonly baseUrl: string) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
      headers['content-type'] ??= 'application/json';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  get<T = Record<string, unknown>>(path: string, token?: string): Promise<Reply<T>> {
    return this.request<T>('GET', path, { token });
  }

  post<T = Record<string, unknown>>(path: string, body?: unknown, token?: string): Promise<Reply<T>> {
    return this.request<T>('POST', path, { body, token });
  }

  patch<T = Record<string, unknown>>(path: string, body?: unknown, token?: string): Promise<Reply<T>> {
    return this.request<T>('PATCH', path, { body, token });
  }
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
}

let counter = 0;
export function uniqueEmail(prefix = 'player'): string {
  counter += 1;
  return `${prefix}.${Date.now().toString(36)}.${counter}@e2e.test`;
}

/** Registers a new account and logs it in. */
export async function signUp(
  client: Client,
  prefix = 'player',
): Promise<{ id: string; email: string; password: string; tokens: TokenPair }> {
  const email = uniqueEmail(prefix);
  const password = 'correct-horse-battery';
  const registered = await client.post<{ id: string }>('/auth/register', { email, password });
  if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  const login = await client.post<TokenPair>('/auth/login', { email, password });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return { id: registered.body.id, email, password, tokens: login.body };
}
