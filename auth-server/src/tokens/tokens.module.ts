import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { OutboxModule } from '../outbox/outbox.module.js';
import { SigningKeysModule } from '../signing-keys/signing-keys.module.js';
import { ThrottlingModule } from '../throttling/throttling.module.js';
import { UsersModule } from '../users/users.module.js';
import { AccessTokenIssuer } from './access-token.issuer.js';
import { RefreshTokenRepository } from './refresh-token.repository.js';
import {
  RefreshTokenEntity,
  RefreshTokenSchema,
  TokenFamilyRevocationEntity,
  TokenFamilyRevocationSchema,
} from './refresh-token.schema.js';
import { TokensController } from './tokens.controller.js';
import { TokensService } from './tokens.service.js';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: RefreshTokenEntity.name, schema: RefreshTokenSchema },
      { name: TokenFamilyRevocationEntity.name, schema: TokenFamilyRevocationSchema },
    ]),
    UsersModule,
    SigningKeysModule,
    OutboxModule,
    ThrottlingModule,
  ],
  controllers: [TokensController],
  providers: [RefreshTokenRepository, AccessTokenIssuer, TokensService],
})
export class TokensModule {}
