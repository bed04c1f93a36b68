import 'reflect-metadata';
import { listenOn } from '@reward/server-kit/http-app';
import { runServer } from '@reward/server-kit/main-runner';
import { createEventServer, loadEventConfig } from './server.js';

await runServer('event-server', async () => {
  const config = loadEventConfig(process.env);
  const app = await createEventServer(config);
  await listenOn(app, 'EVENT_HOST', config.host, config.port);
  return app;
});
