import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from './config/config.module.js';
import type { AppConfig } from './config/env.js';
import { DatabaseModule } from './database/database.module.js';
import { ENTITIES } from './entities.js';
import { ChangesModule } from './changes/changes.module.js';
import { ApiTokensRepository } from './auth/api-tokens.repository.js';
import { ApiTokensService } from './auth/api-tokens.service.js';

/**
 * What `npm run admin:recover` (src/scripts/admin-recover.ts) runs in: the service's own database,
 * history (with its checkpoints) and tokens modules, without HTTP, GraphQL, delivery or traffic,
 * and without AuthModule's guard and first-start bootstrap. So a recovered admin token is created
 * by the very path createToken takes (ApiTokensService.create, through ChangeService: history row,
 * hash chain, checkpoint at close) and not by a second copy of it.
 */
@Module({})
export class AdminRecoveryModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AdminRecoveryModule,
      imports: [ConfigModule.forRoot(config), DatabaseModule.forRoot(ENTITIES), ChangesModule],
      providers: [ApiTokensRepository, ApiTokensService],
      exports: [ApiTokensService],
    };
  }
}
