import { Args, Query, Resolver } from '@nestjs/graphql';
import { Requires } from '../auth/auth.decorators.js';
import { Permission } from '../auth/roles.js';
import { HistoryArgs } from './dto/history.args.js';
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

  @Query(() => HistoryVerification, { description: 'Recomputes the hash chain over every row.' })
  @Requires(Permission.READ)
  verifyHistory(): Promise<HistoryVerification> {
    return this.historyService.verify();
  }
}
