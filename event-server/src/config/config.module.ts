import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { EventConfig } from './event-config.js';

export const EVENT_CONFIG = Symbol('EVENT_CONFIG');

/** Makes the validated configuration injectable everywhere as EVENT_CONFIG. */
@Global()
@Module({})
export class EventConfigModule {
  static forRoot(config: EventConfig): DynamicModule {
    return { module: EventConfigModule, providers: [{ provide: EVENT_CONFIG, useValue: config }], exports: [EVENT_CONFIG] };
  }
}
