import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { completeOpenApi } from '@reward/server-kit/openapi';
import { AppModule } from '../app.module.js';
import { loadGatewayConfig } from '../config/gateway-config.js';

/** The gateway's own routes (/health, /openapi.json) as an OpenAPI document, to merge with the servers'. */
export function buildGatewayOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Reward platform: gateway')
    .setVersion('1')
    .addTag('gateway', "The gateway's own routes")
    .build();
  return completeOpenApi(app, SwaggerModule.createDocument(app, config));
}

/** The same without upstreams or network: preview mode registers the controllers and runs no provider. */
export async function generateGatewayOpenApi(): Promise<OpenAPIObject> {
  const app = await NestFactory.create(AppModule.forRoot(loadGatewayConfig({})), new FastifyAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return buildGatewayOpenApi(app);
  } finally {
    await app.close();
  }
}
