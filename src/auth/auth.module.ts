import { Inject, Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { HistoryModule } from '../history/history.module.js';
import { AuthGuard } from './auth.guard.js';
import { ApiTokensRepository } from './api-tokens.repository.js';
import { ApiTokensResolver } from './api-tokens.resolver.js';
import { ApiTokensService } from './api-tokens.service.js';

@Module({
  imports: [HistoryModule],
  providers: [ApiTokensRepository, ApiTokensService, ApiTokensResolver, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [ApiTokensService],
})
export class AuthModule implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuthModule.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: ApiTokensService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const created = await this.tokens.bootstrapAdmin(this.config.adminToken);
    if (created === null) return;
    if (created.generated) {
      // First start without SWITCHYARD_ADMIN_TOKEN: the only time this secret is ever shown.
      this.logger.warn({
        msg: 'no tokens existed: generated a bootstrap admin token (shown once; set SWITCHYARD_ADMIN_TOKEN to choose it)',
        adminToken: created.secret,
      });
    } else {
      this.logger.log('bootstrap admin token installed from SWITCHYARD_ADMIN_TOKEN');
    }
  }
}
