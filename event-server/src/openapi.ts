import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { completeOpenApi, setRequestExamples } from '@reward/server-kit/openapi';
import { AppModule } from './app.module.js';
import { CONDITION_SCHEMAS } from './conditions/dto/condition.openapi.js';
import { loadEventConfig } from './config/event-config.js';
import { STALE_ACCESS_TOKEN } from './staff-access/staff-access.check.js';

/** What an operator would send first (an event that is open now and for years, so it can be claimed). */
const REQUEST_EXAMPLES: Record<string, unknown> = {
  createEvent: {
    title: 'Log in on 3 days',
    description: 'Log in on 3 different days (Seoul time) to get 100 points',
    startAt: '2026-01-01T00:00:00+09:00',
    endAt: '2030-12-31T00:00:00+09:00',
    status: 'ACTIVE',
    approval: 'AUTO',
    timezone: 'Asia/Seoul',
    condition: { type: 'LOGIN_DAYS', days: 3 },
  },
  updateEvent: { status: 'INACTIVE' },
  addReward: { type: 'POINT', name: '100 points', quantity: 100, stock: 1000 },
  importActivities: {
    items: [
      { userId: '665f1c2b9d3e4a0012345678', type: 'QUEST_CLEAR', attributes: { questId: 'Q-17' }, externalId: 'sheet-1' },
      { userId: '665f1c2b9d3e4a0012345678', type: 'BOSS_KILL', externalId: 'sheet-2' },
    ],
  },
  rejectClaim: { note: 'Duplicate account' },
  revokeClaim: { note: 'Granted by mistake: the quest was cleared after the event ended' },
};

/** The event server's OpenAPI document, built from the controllers and DTOs (for the gateway's merged docs). */
export function buildEventOpenApi(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Reward platform: event server')
    .setDescription('Events, rewards, conditions, activities, progress, claims and the audit log')
    .setVersion('1')
    .addTag('events', "Events, their rewards and each player's progress")
    .addTag('claims', 'Reward claims and their review')
    .addTag('activities', 'Player behaviour that conditions are checked against')
    .addTag('audit-logs', 'Every change made by staff')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // The readiness probe of this one server (the gateway's /health reports on it); not part of the API.
  delete document.paths['/health'];
  document.components = {
    ...document.components,
    schemas: { ...document.components?.schemas, ...(CONDITION_SCHEMAS as NonNullable<OpenAPIObject['components']>['schemas']) },
  };
  setRequestExamples(document, REQUEST_EXAMPLES);
  // The staff-access check is global: any route a staff token calls may find it stale.
  return completeOpenApi(app, document, { unauthorizedCodes: [STALE_ACCESS_TOKEN] });
}

/**
 * The same document without a database or network: Nest's preview mode registers the modules and
 * controllers but runs no provider factory, so no connection is ever opened.
 */
export async function generateEventOpenApi(): Promise<OpenAPIObject> {
  const app = await NestFactory.create(AppModule.forRoot(loadEventConfig({ NODE_ENV: 'development' })), new FastifyAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  try {
    return buildEventOpenApi(app);
  } finally {
    await app.close();
  }
}
