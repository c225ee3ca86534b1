import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { CheckpointsRepository } from './checkpoints.repository.js';

/**
 * Says at start-up when the service's own database role could alter history behind the
 * append-only trigger (it owns the table, may UPDATE or DELETE it, or is a superuser): then a
 * compromised service could rewrite the record that is meant to convict it. Only checkpoints
 * published elsewhere would show it. docs/history.md has the two-role setup that closes this.
 * PostgreSQL only: the embedded engine has one role, and whoever holds its directory holds it all.
 */
@Injectable()
export class HistoryPrivilegeCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger(HistoryPrivilegeCheck.name);

  constructor(
    private readonly checkpoints: CheckpointsRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.databaseUrl === null) return;
    try {
      if (await this.checkpoints.runtimeRoleCanRewriteHistory()) {
        this.logger.warn({
          msg: 'the database role of DATABASE_URL may alter history behind its append-only trigger (owner, UPDATE/DELETE/TRUNCATE or superuser): run the service as a role that may only INSERT and SELECT history, and migrations as another (SWITCHYARD_MIGRATIONS_DATABASE_URL; docs/history.md)',
        });
      }
    } catch (error) {
      this.logger.warn({ msg: 'could not check the database role’s privileges on history', error: String((error as Error)?.message ?? error) });
    }
  }
}
