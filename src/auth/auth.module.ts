import { Inject, Logger, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { ChangesModule } from '../changes/changes.module.js';
import { AuthGuard } from './auth.guard.js';
import { ApiTokensRepository } from './api-tokens.repository.js';
import { ApiTokensResolver } from './api-tokens.resolver.js';
import { ApiTokensService } from './api-tokens.service.js';
import { ConsoleSessionsRepository } from './console-sessions.repository.js';
import { ConsoleSessionsService } from './console-sessions.service.js';
import { RequestAuthenticator } from './request-authenticator.js';

@Module({
  imports: [ChangesModule],
  providers: [
    ApiTokensRepository,
    ApiTokensService,
    ApiTokensResolver,
    ConsoleSessionsRepository,
    ConsoleSessionsService,
    RequestAuthenticator,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [ApiTokensService, ConsoleSessionsService, RequestAuthenticator],
})
export class AuthModule implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuthModule.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: ApiTokensService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const created = await this.tokens.bootstrapAdmin(this.config.adminToken);
    if (created === null) {
      if (this.config.adminToken !== null) await this.explainIgnoredAdminToken(this.config.adminToken);
      return;
    }
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

  /**
   * SWITCHYARD_ADMIN_TOKEN is set but tokens exist: it was read and is ignored. Said at every
   * start, since whoever sets it after the first start (most often to regain a lost admin token)
   * would otherwise believe it works. When it is a working token (most often the one installed
   * from it at the first start), that is said calmly: keeping the variable set is common and harmless.
   */
  private async explainIgnoredAdminToken(configured: string): Promise<void> {
    const known = await this.tokens.describeSecret(configured);
    if (known !== null && known.valid) {
      this.logger.log({
        msg: 'SWITCHYARD_ADMIN_TOKEN is the existing token it names; nothing to install (it only installs the first admin token)',
        setting: 'SWITCHYARD_ADMIN_TOKEN',
        ignored: true,
        token: known.name,
      });
      return;
    }
    this.logger.warn({
      msg:
        'SWITCHYARD_ADMIN_TOKEN is ignored: it only installs the first admin token, on a start with no tokens at all, and tokens exist. ' +
        (known !== null ? `It is the token "${known.name}", which is revoked or expired. ` : 'It is no token of this service. ') +
        'To regain admin access without one, run `npm run admin:recover -- --name <token name> --reason "<why>"` where the database is reachable ' +
        '(docs/operations.md); then unset SWITCHYARD_ADMIN_TOKEN.',
      setting: 'SWITCHYARD_ADMIN_TOKEN',
      ignored: true,
      ...(known !== null ? { token: known.name } : {}),
    });
  }
}
