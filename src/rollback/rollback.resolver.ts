import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { type Actor, CurrentActor, Requires } from '../access/auth.decorators.js';
import { Permission } from '../access/roles.js';
import { ResumeArgs, ResumeSegmentArgs, RollbackAllArgs, RollbackArgs, RollbackSegmentArgs } from '../slices/dto/slice.args.js';
import { RollbackAllResult, Slice } from '../slices/models/slice.model.js';
import { RollbackService } from './rollback.service.js';

@Resolver()
export class RollbackResolver {
  constructor(private readonly rollbacks: RollbackService) {}

  @Mutation(() => Slice, { description: 'Everyone in this slice to LEGACY, now. Keeps the configuration for resume.' })
  @Requires(Permission.ROLLBACK)
  async rollback(@Args() args: RollbackArgs, @CurrentActor() actor: Actor): Promise<Slice> {
    return Slice.from(await this.rollbacks.rollback(args, actor));
  }

  @Mutation(() => RollbackAllResult, { description: 'Every ACTIVE slice (or every one with the tag) to LEGACY in one transaction.' })
  @Requires(Permission.ROLLBACK)
  rollbackAll(@Args() args: RollbackAllArgs, @CurrentActor() actor: Actor): Promise<RollbackAllResult> {
    return this.rollbacks.rollbackAll(args, actor);
  }

  @Mutation(() => Slice, {
    description:
      "Every subject of this segment to LEGACY on this slice, now, whatever its targeting says; the rest of the slice is untouched. Idempotent; pauses the slice's running plan (docs/segment-rollback.md).",
  })
  @Requires(Permission.ROLLBACK)
  async rollbackSegment(@Args() args: RollbackSegmentArgs, @CurrentActor() actor: Actor): Promise<Slice> {
    return Slice.from(await this.rollbacks.rollbackSegment(args, actor));
  }

  @Mutation(() => Slice, { description: 'Lift a segment rollback: its subjects decide by the slice as it is configured now, exactly as if it had never been rolled back.' })
  @Requires(Permission.CHANGE_CONFIG)
  async resumeSegment(@Args() args: ResumeSegmentArgs, @CurrentActor() actor: Actor): Promise<Slice> {
    return Slice.from(await this.rollbacks.resumeSegment(args, actor));
  }

  @Mutation(() => Slice, { description: 'Restore exactly the configuration the slice had before its rollback.' })
  @Requires(Permission.CHANGE_CONFIG)
  async resume(@Args() args: ResumeArgs, @CurrentActor() actor: Actor): Promise<Slice> {
    return Slice.from(await this.rollbacks.resume(args, actor));
  }
}
