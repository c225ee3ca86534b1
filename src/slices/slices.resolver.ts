import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { type Actor, CurrentActor, Requires } from '../access/auth.decorators.js';
import { Permission } from '../access/roles.js';
import { MAX_PAGE_SIZE } from '../common/dto/fields.js';
import { perPage } from '../common/graphql/query-cost.js';
import { ArchiveSliceArgs, CreateSliceArgs, SetObservationArgs, SetRolloutArgs, SetTargetingArgs, SliceKeyArgs, SlicesArgs, UpdateSliceArgs } from './dto/slice.args.js';
import { Slice, SliceConnection } from './models/slice.model.js';
import { SlicesService } from './slices.service.js';

@Resolver(() => Slice)
export class SlicesResolver {
  constructor(private readonly slicesService: SlicesService) {}

  // Cost: `first` slices (each what it selects: traffic and followers cost more), one query.
  @Query(() => SliceConnection, { description: 'Slices in key order, optionally by tag and state.', complexity: perPage(MAX_PAGE_SIZE) })
  @Requires(Permission.READ)
  async slices(@Args() args: SlicesArgs): Promise<SliceConnection> {
    const page = await this.slicesService.list(args);
    return { nodes: page.nodes.map((s) => Slice.from(s)), pageInfo: page.pageInfo };
  }

  @Query(() => Slice)
  @Requires(Permission.READ)
  async slice(@Args() { key }: SliceKeyArgs): Promise<Slice> {
    return Slice.from(await this.slicesService.get(key));
  }

  @Mutation(() => Slice)
  @Requires(Permission.CHANGE_CONFIG)
  async createSlice(@Args() args: CreateSliceArgs, @CurrentActor() actor: Actor): Promise<Slice> {
    return Slice.from(await this.slicesService.create(args, actor));
  }

  @Mutation(() => Slice, { description: 'Description, owner and tags only.' })
  @Requires(Permission.CHANGE_CONFIG)
  async updateSlice(@Args() args: UpdateSliceArgs, @CurrentActor() actor: Actor): Promise<Slice> {
    return Slice.from(await this.slicesService.update(args, actor));
  }

  @Mutation(() => Slice, { description: 'Move the share of subjects on NEW.' })
  @Requires(Permission.CHANGE_CONFIG)
  async setRollout(@Args() args: SetRolloutArgs, @CurrentActor() actor: Actor): Promise<Slice> {
    return Slice.from(await this.slicesService.setRollout(args, actor));
  }

  @Mutation(() => Slice, { description: 'Replace include, exclude and rules as a whole.' })
  @Requires(Permission.CHANGE_CONFIG)
  async setTargeting(@Args() args: SetTargetingArgs, @CurrentActor() actor: Actor): Promise<Slice> {
    return Slice.from(await this.slicesService.setTargeting(args, actor));
  }

  @Mutation(() => Slice, { description: 'Watched, shadowPercent and the mismatch threshold (docs/outcomes.md): give one or more; no decision changes.' })
  @Requires(Permission.CHANGE_CONFIG)
  async setObservation(@Args() args: SetObservationArgs, @CurrentActor() actor: Actor): Promise<Slice> {
    return Slice.from(await this.slicesService.setObservation(args, actor));
  }

  @Mutation(() => Slice, { description: 'End of a migration: every subject goes to LEGACY and the slice can no longer change.' })
  @Requires(Permission.CHANGE_CONFIG)
  async archiveSlice(@Args() args: ArchiveSliceArgs, @CurrentActor() actor: Actor): Promise<Slice> {
    return Slice.from(await this.slicesService.archive(args, actor));
  }
}
