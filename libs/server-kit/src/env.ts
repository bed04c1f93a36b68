/**
 * Reads and validates a server's environment at boot. Every problem is collected so the process stops
 * once, with a message naming each variable that is missing or malformed.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

interface Options<T> {
  default?: T;
  /** Required in production only (a default is used elsewhere). */
  requiredInProduction?: boolean;
}

export class EnvReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: Record<string, string | undefined>) {}

  get isProduction(): boolean {
    return this.env.NODE_ENV === 'production';
  }

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  private missing<T>(name: string, options: Options<T>): T | undefined {
    if (options.default !== undefined && !(options.requiredInProduction && this.isProduction)) {
      return options.default;
    }
    this.problems.push(`${name} is required${options.requiredInProduction ? ' in production' : ''}`);
    return undefined;
  }

  string(name: string, options: Options<string> & { pattern?: RegExp; minLength?: number } = {}): string {
    const value = this.raw(name);
    if (value === undefined) return this.missing(name, options) ?? '';
    if (options.pattern && !options.pattern.test(value)) {
      this.problems.push(`${name} is malformed (expected ${options.pattern.source})`);
    }
    if (options.minLength !== undefined && value.length < options.minLength) {
      this.problems.push(`${name} must be at least ${options.minLength} characters`);
    }
    return value;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  int(name: string, options: Options<number> & { min?: number; max?: number } = {}): number {
    const value = this.raw(name);
    if (value === undefined) return this.missing(name, options) ?? 0;
    const parsed = Number(value);
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = options;
    if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) {
      this.problems.push(`${name} must be an integer between ${min} and ${max}, got "${value}"`);
      return options.default ?? 0;
    }
    return parsed;
  }

  port(name: string, fallback: number): number {
    return this.int(name, { default: fallback, min: 0, max: 65535 });
  }

  url(name: string, options: Options<string> & { protocols?: string[] } = {}): string {
    const value = this.raw(name);
    if (value === undefined) return this.missing(name, options) ?? '';
    try {
      const url = new URL(value);
      if (options.protocols && !options.protocols.includes(url.protocol)) {
        this.problems.push(`${name} must use ${options.protocols.join(' or ')}, got "${url.protocol}"`);
      }
    } catch {
      this.problems.push(`${name} must be a URL, got "${value}"`);
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], options: Options<T> = {}): T {
    const value = this.raw(name);
    if (value === undefined) return this.missing(name, options) ?? allowed[0];
    if (!allowed.includes(value as T)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
      return options.default ?? allowed[0];
    }
    return value as T;
  }

  list(name: string, fallback: string[]): string[] {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    return value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean);
  }

  /** Records a problem found by a check the reader has no helper for. */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** Throws a ConfigError naming every problem found so far. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];
