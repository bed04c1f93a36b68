import { Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module.js';
import { AdminBootstrapService } from './admin-bootstrap.service.js';

@Module({
  imports: [UsersModule],
  providers: [AdminBootstrapService],
})
export class BootstrapModule {}
