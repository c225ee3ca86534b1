import { type DynamicModule, Global, Module } from '@nestjs/common';
import { CLOCK, type Clock, systemClock } from '../common/scheduling/clock.js';
import { APP_CONFIG, type AppConfig } from './env.js';

/**
 * Makes the validated configuration injectable everywhere as `@Inject(APP_CONFIG)`, and the clock
 * as `@Inject(CLOCK)`: what the service takes from the world it runs in.
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig, clock: Clock = systemClock): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: CLOCK, useValue: clock },
      ],
      exports: [APP_CONFIG, CLOCK],
    };
  }
}
