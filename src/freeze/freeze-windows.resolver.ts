import { Args, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { type Actor, CurrentActor, Requires } from '../access/auth.decorators.js';
import { Permission } from '../access/roles.js';
import { DeleteFreezeWindowArgs, FreezeWindowArgs, FreezeWindowKeyArgs, UpdateFreezeWindowArgs } from './dto/freeze-window.args.js';
import { FreezePeriod, FreezeWindow } from './models/freeze-window.model.js';
import { type FreezePeriodOf, FreezeWindowsService } from './freeze-windows.service.js';

@Resolver(() => FreezeWindow)
export class FreezeWindowsResolver {
  constructor(private readonly service: FreezeWindowsService) {}

  @Query(() => [FreezeWindow], { description: 'Every freeze window, in key order (at most 100).' })
  @Requires(Permission.READ)
  async freezeWindows(): Promise<FreezeWindow[]> {
    return (await this.service.list()).map((w) => FreezeWindow.from(w));
  }

  @Query(() => FreezeWindow)
  @Requires(Permission.READ)
  async freezeWindow(@Args() { key }: FreezeWindowKeyArgs): Promise<FreezeWindow> {
    return FreezeWindow.from(await this.service.get(key));
  }

  @Mutation(() => FreezeWindow, { description: 'Admins and release managers.' })
  @Requires(Permission.CHANGE_CONFIG)
  async createFreezeWindow(@Args() args: FreezeWindowArgs, @CurrentActor() actor: Actor): Promise<FreezeWindow> {
    return FreezeWindow.from(await this.service.create(args, actor));
  }

  @Mutation(() => FreezeWindow, { description: 'Replaces the window as a whole. A window that is on now may be changed by an admin only (it may lift the freeze).' })
  @Requires(Permission.CHANGE_CONFIG)
  async updateFreezeWindow(@Args() args: UpdateFreezeWindowArgs, @CurrentActor() actor: Actor): Promise<FreezeWindow> {
    return FreezeWindow.from(await this.service.update(args, actor));
  }

  @Mutation(() => FreezeWindow, { description: 'Admins only: deleting a window lifts its freezes. Returns the deleted window.' })
  @Requires(Permission.OVERRIDE_FREEZE)
  async deleteFreezeWindow(@Args() args: DeleteFreezeWindowArgs, @CurrentActor() actor: Actor): Promise<FreezeWindow> {
    return FreezeWindow.from(await this.service.delete(args, actor));
  }

  // Pure computation on the window already read: no query, the default cost of 1.
  @ResolveField(() => FreezePeriod, { nullable: true, description: "This window's freeze on now (the service's clock), merged across touching occurrences; null when it is off." })
  active(@Parent() window: FreezeWindow): FreezePeriod | null {
    return toPeriod(this.service.periodsOf(window.record, this.service.now()).active);
  }

  @ResolveField(() => FreezePeriod, {
    nullable: true,
    description: 'Its next freeze to start after now (after the one on now ends); null when none starts within about two years.',
  })
  next(@Parent() window: FreezeWindow): FreezePeriod | null {
    return toPeriod(this.service.periodsOf(window.record, this.service.now()).next);
  }
}

function toPeriod(p: FreezePeriodOf | null): FreezePeriod | null {
  return p === null ? null : { window: p.window.key, timeZone: p.window.timeZone, from: p.from, until: p.until };
}
