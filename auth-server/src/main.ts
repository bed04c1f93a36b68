import 'reflect-metadata';
import { runServer } from '@reward/server-kit/main-runner';
import { createAuthServer, loadAuthConfig } from './server.js';

await runServer('auth-server', async () => {
  const config = loadAuthConfig(process.env);
  const app = await createAuthServer(config);
  await app.listen({ host: config.host, port: config.port });
  return app;
});
