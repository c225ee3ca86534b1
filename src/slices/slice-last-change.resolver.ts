import { Context, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import type { AuthenticatedRequest } from '../access/auth.decorators.js';
import { AuthException } from '../access/auth.exception.js';
import { Permission, roleGrants } from '../access/roles.js';
import { BatchLoader } from '../common/graphql/batch-loader.js';
import type { HashedRow } from '../history/proof/hash-chain.js';
import { HistoryService } from '../history/history.service.js';
import { HistoryEntry } from '../history/models/history-entry.model.js';
import { Slice } from './models/slice.model.js';

interface GraphqlContext {
  readonly req?: AuthenticatedRequest;
}

/** One loader per GraphQL request: every slice's last change in one query. */
const loaders = new WeakMap<object, BatchLoader<HashedRow | null>>();

/**
 * `Slice.lastChange`: who changed the slice last, when and why (the console's list shows it for
 * every slice). Batched per request, so a page of 500 slices is one history query, not 500.
 * Field resolvers run no guard (graphql.config.ts): READ is checked here too, as traffic's are.
 */
@Resolver(() => Slice)
export class SliceLastChangeResolver {
  constructor(private readonly history: HistoryService) {}

  @ResolveField(() => HistoryEntry, {
    nullable: true,
    description: 'The newest history row of this slice (its creation at least): who changed it last, when and why. Null only for slices created before history kept keys.',
    // One batched query per request (about a row per slice), plus what the entry selects.
    complexity: ({ childComplexity }) => 1 + childComplexity,
  })
  async lastChange(@Parent() slice: Slice, @Context() context: GraphqlContext): Promise<HistoryEntry | null> {
    const principal = context.req?.principal;
    if (principal === undefined) throw AuthException.unauthenticated();
    if (!roleGrants(principal.role, Permission.READ)) throw AuthException.forbidden(principal.role, Permission.READ);
    let loader = loaders.get(context);
    if (loader === undefined) {
      loader = new BatchLoader((keys) => this.history.lastChanges(keys), null);
      loaders.set(context, loader);
    }
    const row = await loader.load(slice.key);
    return row === null ? null : HistoryEntry.from(row);
  }
}
