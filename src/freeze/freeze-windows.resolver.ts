import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { type Actor, CurrentActor, Requires } from '../access/auth.decorators.js';
import { Permission } from '../access/roles.js';
import { DeleteFreezeWindowArgs, FreezeWindowArgs, FreezeWindowKeyArgs, UpdateFreezeWindowArgs } from './dto/freeze-window.args.js';
import { FreezeWindow } from './models/freeze-window.model.js';
import { FreezeWindowsService } from './freeze-windows.service.js';

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
}
