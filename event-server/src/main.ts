import 'reflect-metadata';
import { runServer } from '@reward/server-kit/main-runner';
import { createEventServer, loadEventConfig } from './server.js';

await runServer('event-server', async () => {
  const config = loadEventConfig(process.env);
  const app = await createEventServer(config);
  await app.listen({ host: config.host, port: config.port });
  return app;
});
