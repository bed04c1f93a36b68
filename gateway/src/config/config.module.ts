import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { GatewayConfig } from './gateway-config.js';

export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');

/** Makes the validated configuration injectable everywhere as GATEWAY_CONFIG. */
@Global()
@Module({})
export class GatewayConfigModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return { module: GatewayConfigModule, providers: [{ provide: GATEWAY_CONFIG, useValue: config }], exports: [GATEWAY_CONFIG] };
  }
}
