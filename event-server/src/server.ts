import { getConnectionToken } from '@nestjs/mongoose';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHttpApp } from '@reward/server-kit/http-app';
import type { Connection } from 'mongoose';
import { AppModule } from './app.module.js';
import { shedImportsOnArrival } from './activities/import-shedding.hook.js';
import { CLAIM_ROUTE, shedClaimsOnArrival } from './claims/claim-shedding.hook.js';
import type { EventConfig } from './config/event-config.js';

export { loadEventConfig } from './config/event-config.js';

/** The event server, configured and initialised but not yet listening (tests pick the port). */
export async function createEventServer(config: EventConfig): Promise<NestFastifyApplication> {
  const app = await createHttpApp(AppModule.forRoot(config), {
    service: 'event-server',
    logLevel: config.logLevel,
    storeErrors: true,
    securityHeaders: config.securityHeaders,
    // A claim past its start-by time is shed or answered for its key by the claim path (shedClaimsOnArrival).
    lateStarts: { except: [CLAIM_ROUTE] },
  });
  // The invariants (one claim per slot, stock units, activity externalIds) are unique indexes: they must
  // exist before the reconciler or the first request runs, not whenever Mongoose's background build gets there.
  const connection = app.get<Connection>(getConnectionToken());
  await Promise.all(Object.values(connection.models).map((model) => model.init()));
  // Before init: the hook must be there when the routes are.
  shedClaimsOnArrival(app);
  shedImportsOnArrival(app);
  await app.init();
  return app;
}

export { buildEventOpenApi } from './openapi.js';
