import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Requires } from '../access/auth.decorators.js';
import { Permission } from '../access/roles.js';
import { InvalidInputException } from '../common/errors/switchyard.exception.js';
import { MAX_PAGE_SIZE } from '../common/dto/fields.js';
import { decodeCursor, toPage } from '../common/graphql/cursor.js';
import { perPage } from '../common/graphql/query-cost.js';
import { CheckpointsService } from './checkpoints.service.js';
import { HistoryCheckpointsArgs } from './dto/history-chain.args.js';
import { HistoryCheckpoint, HistoryCheckpointConnection, HistoryCheckpointKey } from './models/history-checkpoint.model.js';

@Resolver(() => HistoryCheckpoint)
export class CheckpointsResolver {
  constructor(private readonly checkpoints: CheckpointsService) {}

  @Query(() => HistoryCheckpointKey, { nullable: true, description: 'The public key that verifies this service’s checkpoints; null when checkpoints are off.' })
  @Requires(Permission.READ)
  historyCheckpointKey(): HistoryCheckpointKey | null {
    const key = this.checkpoints.key;
    return key === null ? null : HistoryCheckpointKey.from(key);
  }

  // Cost: `first` checkpoints (each what it selects), one query.
  @Query(() => HistoryCheckpointConnection, {
    description: 'Checkpoints the service signed, newest first, as the database holds them (the published copies are the proof).',
    complexity: perPage(MAX_PAGE_SIZE),
  })
  @Requires(Permission.READ)
  async historyCheckpoints(@Args() args: HistoryCheckpointsArgs): Promise<HistoryCheckpointConnection> {
    const before = decodeCursor(args.after);
    if (before !== null && !/^\d{1,19}$/.test(before)) throw InvalidInputException.field('after', 'not a checkpoint cursor');
    const page = toPage(await this.checkpoints.page(args.first + 1, before), args.first, (c) => c.position);
    return { nodes: page.nodes.map((c) => HistoryCheckpoint.from(c)), pageInfo: page.pageInfo };
  }

  @Mutation(() => HistoryCheckpoint, {
    nullable: true,
    description:
      'Signs the current head now and publishes it, unless it is signed already (then returns that checkpoint). Null while history is empty. Changes no configuration and writes no history.',
  })
  @Requires(Permission.READ)
  async checkpointHistory(): Promise<HistoryCheckpoint | null> {
    const result = await this.checkpoints.checkpointHead();
    return result === null ? null : HistoryCheckpoint.from(result.checkpoint);
  }
}
