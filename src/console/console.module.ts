import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { ConsoleController } from './console.controller.js';

/** The web console: served by the service itself, signed in through a session cookie (docs/console.md). */
@Module({
  imports: [AuthModule],
  controllers: [ConsoleController],
})
export class ConsoleModule {}
