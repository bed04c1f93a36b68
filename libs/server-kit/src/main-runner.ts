import { type INestApplication, Logger } from '@nestjs/common';
import { ConfigError } from './env.js';

/**
 * The exit code of a server whose settings are wrong (sysexits' EX_CONFIG): starting it again cannot help,
 * so a supervisor (`npm start`) stops at once instead of restarting it.
 */
export const CONFIG_ERROR_EXIT_CODE = 78;

/**
 * Starts a server process: a configuration problem (exit code CONFIG_ERROR_EXIT_CODE) or a failed start
 * (exit code 1) stops the process with a clear message instead of a stack trace; SIGTERM/SIGINT close it
 * gracefully (Nest's shutdown hooks let in-flight requests finish).
 */
export async function runServer(service: string, start: () => Promise<INestApplication>): Promise<void> {
  const startedAt = performance.now();
  try {
    const app = await start();
    const ms = Math.round(performance.now() - startedAt);
    // Through the app's logger, so LOG_LEVEL decides whether this line is written like any other. npm start
    // (scripts/start.mjs, READY_LINE) waits for it before it calls the stack ready.
    new Logger(service).log(`ready in ${ms} ms on ${await app.getUrl()}`);
  } catch (error) {
    const config = error instanceof ConfigError;
    const message = config ? error.message : `failed to start: ${(error as Error).stack ?? String(error)}`;
    process.stderr.write(`${JSON.stringify({ level: 60, time: Date.now(), service, msg: message })}\n`);
    process.exit(config ? CONFIG_ERROR_EXIT_CODE : 1);
  }
}
