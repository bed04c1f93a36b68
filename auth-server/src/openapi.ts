import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { completeOpenApi, setRequestExamples } from '@reward/server-kit/openapi';
import { AppModule } from './app.module.js';
import { loadAuthConfig } from './config/auth-config.js';

/** What a person trying the API sends first (the login is the development admin's: see the README). */
const REQUEST_EXAMPLES: Record<string, unknown> = {
  register: { email: 'player@example.com', password: 'a-long-password', nickname: 'Player One' },
  login: { email: 'admin@example.com', password: 'change-me-admin-password' },
  updateUserRoles: { roles: ['OPERATOR'] },
};

/** The auth server's OpenAPI document, built from the controllers and DTOs (for the gateway's merged docs). */
export function buildAuthOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Reward platform: auth server')
    .setDescription('Users, passwords, roles, tokens and the JWKS that verifies them')
    .setVersion('1')
    .addTag('auth', 'Registration, login, token refresh and the signing keys')
    .addTag('users', 'Accounts and roles')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // The readiness probe of this one server (the gateway's /health reports on it); not part of the API.
  delete document.paths['/health'];
  setRequestExamples(document, REQUEST_EXAMPLES);
  return completeOpenApi(app, document);
}

/**
 * The same document without a database or network: Nest's preview mode registers the modules and
 * controllers but runs no provider factory, so no connection is ever opened.
 */
export async function generateAuthOpenApi(): Promise<OpenAPIObject> {
  const app = await NestFactory.create(AppModule.forRoot(loadAuthConfig({ NODE_ENV: 'development' })), new FastifyAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return buildAuthOpenApi(app);
  } finally {
    await app.close();
  }
}
