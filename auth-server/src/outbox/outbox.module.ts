import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { SigningKeysModule } from '../signing-keys/signing-keys.module.js';
import { EventServerClient } from './event-server.client.js';
import { OutboxRelay } from './outbox-relay.service.js';
import { OutboxRepository } from './outbox.repository.js';
import { OutboxEntity, OutboxSchema } from './outbox.schema.js';
import { OutboxService } from './outbox.service.js';
import { ServiceTokenIssuer } from './service-token.issuer.js';

/** Reports to the event server that must not be lost: written with the change, delivered by the relay. */
@Module({
  imports: [MongooseModule.forFeature([{ name: OutboxEntity.name, schema: OutboxSchema }]), SigningKeysModule],
  providers: [OutboxRepository, OutboxService, OutboxRelay, EventServerClient, ServiceTokenIssuer],
  exports: [OutboxService],
})
export class OutboxModule {}
