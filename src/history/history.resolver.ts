import { Args, Query, Resolver } from '@nestjs/graphql';
import { Requires } from '../access/auth.decorators.js';
import { Permission } from '../access/roles.js';
import { MAX_PAGE_SIZE } from '../common/dto/fields.js';
import { MaxPerRequest, perPage } from '../common/graphql/query-cost.js';
import { HistoryArgs } from './dto/history.args.js';
import { HistoryChainArgs, VerifyHistoryArgs } from './dto/history-chain.args.js';
import { HistoryService } from './history.service.js';
import { HistoryConnection, HistoryEntry, HistoryVerification } from './models/history-entry.model.js';

@Resolver(() => HistoryEntry)
export class HistoryResolver {
  constructor(private readonly historyService: HistoryService) {}

  // Cost: `first` rows (each what it selects), one query.
  @Query(() => HistoryConnection, { description: 'Recorded changes, newest first.', complexity: perPage(MAX_PAGE_SIZE) })
  @Requires(Permission.READ)
  async history(@Args() args: HistoryArgs): Promise<HistoryConnection> {
    const page = await this.historyService.list(args);
    return { nodes: page.nodes.map((e) => HistoryEntry.from(e)), pageInfo: page.pageInfo };
  }

  // Cost: `first` rows (each what it selects), one query.
  @Query(() => [HistoryEntry], {
    description: 'Rows in chain order (oldest first) from a position, at most `first`: the next page starts after the last position. For exports.',
    complexity: perPage(MAX_PAGE_SIZE),
  })
  @Requires(Permission.READ)
  async historyChain(@Args() args: HistoryChainArgs): Promise<HistoryEntry[]> {
    return (await this.historyService.chain(args.fromPosition, args.toPosition ?? null, args.first)).map((e) => HistoryEntry.from(e));
  }

  // Reads and hashes every row of the chain, whatever it selects: the costliest read there is.
  // Cost 1,000 (a twentieth of the default SWITCHYARD_MAX_QUERY_COST), and once per request:
  // aliases would otherwise repeat the whole scan (50 of them over 3,000 rows took 7 s).
  @Query(() => HistoryVerification, {
    description: 'Recomputes the hash chain over every row, and proves it extends a checkpoint.',
    complexity: 1_000,
  })
  @MaxPerRequest(1)
  @Requires(Permission.READ)
  async verifyHistory(@Args() args: VerifyHistoryArgs): Promise<HistoryVerification> {
    return HistoryVerification.from(await this.historyService.verify(args.checkpoint ?? null));
  }
}
