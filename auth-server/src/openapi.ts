import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/** The auth server's OpenAPI document, built from the controllers and DTOs (for the gateway's merged docs). */
export function buildAuthOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Reward platform: auth server')
    .setDescription('Users, passwords, roles, tokens and the JWKS that verifies them')
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  return SwaggerModule.createDocument(app, config);
}
