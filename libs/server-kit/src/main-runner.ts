import { type INestApplication, Logger } from '@nestjs/common';
import { ConfigError } from './env.js';

/**
 * Starts a server process: a configuration problem or a failed start stops the process with a clear
 * message (exit code 1) instead of a stack trace; SIGTERM/SIGINT close it gracefully (Nest's shutdown
 * hooks let in-flight requests finish).
 */
export async function runServer(service: string, start: () => Promise<INestApplication>): Promise<void> {
  const startedAt = performance.now();
  try {
    const app = await start();
    const ms = Math.round(performance.now() - startedAt);
    // Through the app's logger, so LOG_LEVEL decides whether this line is written like any other.
    new Logger(service).log(`ready in ${ms} ms on ${await app.getUrl()}`);
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : `failed to start: ${(error as Error).stack ?? String(error)}`;
    process.stderr.write(`${JSON.stringify({ level: 60, time: Date.now(), service, msg: message })}\n`);
    process.exit(1);
  }
}
