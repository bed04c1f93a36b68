import 'reflect-metadata';
import { listenOn } from '@reward/server-kit/http-app';
import { runServer } from '@reward/server-kit/main-runner';
import { createGatewayServer, loadGatewayConfig } from './server.js';

await runServer('gateway', async () => {
  const config = loadGatewayConfig(process.env);
  const app = await createGatewayServer(config);
  await listenOn(app, 'GATEWAY_HOST', config.host, config.port);
  return app;
});
