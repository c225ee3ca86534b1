import { Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { OWN_QUERY_COST } from '../common/graphql/query-cost.js';
import { Slice } from '../slices/models/slice.model.js';
import { FreezePeriod, SliceFreeze } from './models/freeze-window.model.js';
import { type FreezePeriodOf, FreezeWindowsService } from './freeze-windows.service.js';

@Resolver(() => Slice)
export class SliceFreezeResolver {
  constructor(private readonly freezeWindows: FreezeWindowsService) {}

  // Cost OWN_QUERY_COST: reads the windows for every slice that selects it (not batched).
  @ResolveField(() => SliceFreeze, { description: "The freeze window on now for this slice, and the next one (the service's clock).", complexity: OWN_QUERY_COST })
  async freeze(@Parent() slice: Slice): Promise<SliceFreeze> {
    const now = this.freezeWindows.now();
    const [active] = await this.freezeWindows.activeFor(slice.tags, now);
    const next = await this.freezeWindows.nextFor(slice.tags, now);
    return { active: active === undefined ? null : toPeriod(active), next: next === null ? null : toPeriod(next) };
  }
}

function toPeriod(p: FreezePeriodOf): FreezePeriod {
  return { window: p.window.key, timeZone: p.window.timeZone, from: p.from, until: p.until };
}
