import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { answerShedNow } from '../claims/claim-shedding.hook.js';
import { ActivitiesService } from './activities.service.js';

/** The import route as Fastify knows it (the controller's `activities`). */
export const IMPORT_ROUTE = '/activities';

/**
 * As for claims (shedClaimsOnArrival): while the activities gate would shed an import now, one is answered 503
 * ACTIVITIES_BUSY with Retry-After as soon as its request line and headers are read, before its token is
 * verified, its body read or Nest sees it. A game server posting a launch's activities all at once (3,000 in a
 * drill) otherwise saturated the event loop before the requests reached the gate, and some were answered 504 by
 * the gateway, and recorded after it. Through the gateway only an OPERATOR reaches this route; such a request
 * learns only that imports are saturated. The gate still decides for every request let through.
 */
export function shedImportsOnArrival(app: NestFastifyApplication): void {
  const activities = app.get(ActivitiesService);
  // A plain callback (no promise per request); answering from the hook ends the request's lifecycle here.
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      if (request.method !== 'POST' || request.routeOptions.url !== IMPORT_ROUTE) return done();
      const busy = activities.shedOnArrival();
      if (!busy) return done();
      answerShedNow(request, reply, busy);
    });
}
