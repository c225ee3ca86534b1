import { Args, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { type Actor, CurrentActor, Requires } from '../access/auth.decorators.js';
import { Permission } from '../access/roles.js';
import { MAX_PAGE_SIZE } from '../common/dto/fields.js';
import { OWN_QUERY_COST, perPage } from '../common/graphql/query-cost.js';
import { CreateSegmentArgs, DeleteSegmentArgs, SegmentKeyArgs, SegmentsArgs, UpdateSegmentArgs } from './dto/segment.args.js';
import { Segment, SegmentConnection } from './models/segment.model.js';
import { SegmentsService } from './segments.service.js';

@Resolver(() => Segment)
export class SegmentsResolver {
  constructor(private readonly segmentsService: SegmentsService) {}

  // Cost: `first` segments (each what it selects), one query.
  @Query(() => SegmentConnection, { complexity: perPage(MAX_PAGE_SIZE) })
  @Requires(Permission.READ)
  async segments(@Args() args: SegmentsArgs): Promise<SegmentConnection> {
    const page = await this.segmentsService.list(args);
    return { nodes: page.nodes.map((s) => Segment.from(s)), pageInfo: page.pageInfo };
  }

  @Query(() => Segment)
  @Requires(Permission.READ)
  async segment(@Args() { key }: SegmentKeyArgs): Promise<Segment> {
    return Segment.from(await this.segmentsService.get(key));
  }

  // Cost OWN_QUERY_COST: a query of its own for every segment that selects it (not batched).
  @ResolveField(() => [String], { description: 'Keys of the slices whose targeting names this segment.', complexity: OWN_QUERY_COST })
  usedBy(@Parent() segment: Segment): Promise<string[]> {
    return this.segmentsService.usedBy(segment.key);
  }

  @Mutation(() => Segment)
  @Requires(Permission.CHANGE_CONFIG)
  async createSegment(@Args() args: CreateSegmentArgs, @CurrentActor() actor: Actor): Promise<Segment> {
    return Segment.from(await this.segmentsService.create(args, actor));
  }

  @Mutation(() => Segment, { description: 'Takes effect at once in every slice that uses the segment.' })
  @Requires(Permission.CHANGE_CONFIG)
  async updateSegment(@Args() args: UpdateSegmentArgs, @CurrentActor() actor: Actor): Promise<Segment> {
    return Segment.from(await this.segmentsService.update(args, actor));
  }

  @Mutation(() => Segment, { description: 'Refused while a slice uses the segment. Returns the deleted segment.' })
  @Requires(Permission.CHANGE_CONFIG)
  async deleteSegment(@Args() args: DeleteSegmentArgs, @CurrentActor() actor: Actor): Promise<Segment> {
    return Segment.from(await this.segmentsService.delete(args, actor));
  }
}
