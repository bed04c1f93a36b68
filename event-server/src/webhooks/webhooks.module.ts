import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuditLogModule } from '../audit/audit-log.module.js';
import { EditLockModule } from '../edit-lock/edit-lock.module.js';
import { WebhookEndpointDirectory } from './webhook-endpoint.directory.js';
import { WebhookEndpointRepository } from './webhook-endpoint.repository.js';
import {
  WebhookEndpointEntity,
  WebhookEndpointRemovalEntity,
  WebhookEndpointRemovalSchema,
  WebhookEndpointSchema,
} from './webhook-endpoint.schema.js';
import { WebhookEndpointsController } from './webhook-endpoints.controller.js';
import { WebhookEndpointsService } from './webhook-endpoints.service.js';

/** Where payout webhooks go: endpoints, their secrets, the SSRF rule, and the in-process directory. */
@Module({
  imports: [
    MongooseModule.forFeature([
      { name: WebhookEndpointEntity.name, schema: WebhookEndpointSchema },
      { name: WebhookEndpointRemovalEntity.name, schema: WebhookEndpointRemovalSchema },
    ]),
    AuditLogModule,
    EditLockModule,
  ],
  controllers: [WebhookEndpointsController],
  providers: [WebhookEndpointRepository, WebhookEndpointsService, WebhookEndpointDirectory],
  exports: [WebhookEndpointDirectory, WebhookEndpointRepository, WebhookEndpointsService],
})
export class WebhooksModule {}
