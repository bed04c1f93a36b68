import 'reflect-metadata';
import { listenOn } from '@reward/server-kit/http-app';
import { runServer } from '@reward/server-kit/main-runner';
import { createAuthServer, loadAuthConfig } from './server.js';

await runServer('auth-server', async () => {
  const config = loadAuthConfig(process.env);
  const app = await createAuthServer(config);
  await listenOn(app, 'AUTH_HOST', config.host, config.port);
  return app;
});
