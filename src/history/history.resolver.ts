import { Args, Query, Resolver } from '@nestjs/graphql';
import { Requires } from '../auth/auth.decorators.js';
import { Permission } from '../auth/roles.js';
import { HistoryArgs } from './dto/history.args.js';
import { HistoryChainArgs, VerifyHistoryArgs } from './dto/history-chain.args.js';
import { HistoryService } from './history.service.js';
import { HistoryConnection, HistoryEntry, HistoryVerification } from './models/history-entry.model.js';

@Resolver(() => HistoryEntry)
export class HistoryResolver {
  constructor(private readonly historyService: HistoryService) {}

  @Query(() => HistoryConnection, { description: 'Recorded changes, newest first.' })
  @Requires(Permission.READ)
  async history(@Args() args: HistoryArgs): Promise<HistoryConnection> {
    const page = await this.historyService.list(args);
    return { nodes: page.nodes.map(HistoryEntry.from), pageInfo: page.pageInfo };
  }

  @Query(() => [HistoryEntry], {
    description: 'Rows in chain order (oldest first) from a position, at most `first`: the next page starts after the last position. For exports.',
  })
  @Requires(Permission.READ)
  async historyChain(@Args() args: HistoryChainArgs): Promise<HistoryEntry[]> {
    return (await this.historyService.chain(args.fromPosition, args.toPosition ?? null, args.first)).map(HistoryEntry.from);
  }

  @Query(() => HistoryVerification, { description: 'Recomputes the hash chain over every row, and proves it extends a checkpoint.' })
  @Requires(Permission.READ)
  async verifyHistory(@Args() args: VerifyHistoryArgs): Promise<HistoryVerification> {
    return HistoryVerification.from(await this.historyService.verify(args.checkpoint ?? null));
  }
}
