import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHttpApp } from '@reward/server-kit/http-app';
import { AppModule } from './app.module.js';
import type { EventConfig } from './config/event-config.js';

export { loadEventConfig } from './config/event-config.js';

/** The event server, configured and initialised but not yet listening (tests pick the port). */
export async function createEventServer(config: EventConfig): Promise<NestFastifyApplication> {
  const app = await createHttpApp(AppModule.forRoot(config), { service: 'event-server', logLevel: config.logLevel });
  await app.init();
  return app;
}
