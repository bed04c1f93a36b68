import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { JwksController } from './jwks.controller.js';
import { SigningKeyRepository } from './signing-key.repository.js';
import { SigningKeyEntity, SigningKeySchema } from './signing-key.schema.js';
import { SigningKeysService } from './signing-keys.service.js';

@Module({
  imports: [MongooseModule.forFeature([{ name: SigningKeyEntity.name, schema: SigningKeySchema }])],
  controllers: [JwksController],
  providers: [SigningKeyRepository, SigningKeysService],
  exports: [SigningKeysService],
})
export class SigningKeysModule {}
