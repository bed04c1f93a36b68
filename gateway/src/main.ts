import 'reflect-metadata';
import { runServer } from '@reward/server-kit/main-runner';
import { createGatewayServer, loadGatewayConfig } from './server.js';

await runServer('gateway', async () => {
  const config = loadGatewayConfig(process.env);
  const app = await createGatewayServer(config);
  await app.listen({ host: config.host, port: config.port });
  return app;
});
