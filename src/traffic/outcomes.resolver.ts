import { Args, Context, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import type { AuthenticatedRequest } from '../access/auth.decorators.js';
import { AuthException } from '../access/auth.exception.js';
import { Permission, roleGrants } from '../access/roles.js';
import { OWN_QUERY_COST } from '../common/graphql/query-cost.js';
import { PathValue } from '../decision/models/decision.model.js';
import { Slice } from '../slices/models/slice.model.js';
import { MAX_SAMPLES_LISTED, MAX_STEP_MINUTES, MismatchSamplesArgs, OutcomeSeriesArgs, SliceOutcomesArgs } from './dto/outcomes.args.js';
import { AppOutcomes, ComparisonOutcome, ComparisonStatusValue, MismatchSample, OutcomeSeriesPoint, PathOutcome, SliceOutcomes } from './models/outcomes.model.js';
import { type ComparisonView, MAX_SERIES_POINTS, OutcomesService, type PathView } from './outcomes.service.js';

interface GraphqlContext {
  readonly req?: AuthenticatedRequest;
}

/** Field resolvers run no guard (graphql.config.ts): READ is checked here, as traffic's fields do. */
function mayRead(context: GraphqlContext): void {
  const principal = context.req?.principal;
  if (principal === undefined) throw AuthException.unauthenticated();
  if (!roleGrants(principal.role, Permission.READ)) throw AuthException.forbidden(principal.role, Permission.READ);
}

const path = (v: PathView) => Object.assign(new PathOutcome(), v);
const comparison = (v: ComparisonView, sliceKey: string, appName: string | null) =>
  Object.assign(new ComparisonOutcome(), { ...v, status: ComparisonStatusValue[v.status], sliceKey, appName });

/** `Slice.outcomes`: LEGACY and NEW side by side (docs/outcomes.md, "On the service"). */
@Resolver(() => Slice)
export class SliceOutcomesFieldResolver {
  constructor(private readonly service: OutcomesService) {}

  // Three queries of its own per slice (paths, latency buckets, comparisons; not batched with
  // other slices), plus what it selects: the cost limit caps how many slices one request reads.
  @ResolveField(() => SliceOutcomes, {
    description: 'What each path did over a window, side by side, with shadow comparisons against the mismatch threshold. Rates are fractions from 0 to 1.',
    complexity: ({ childComplexity }) => 3 * OWN_QUERY_COST + childComplexity,
  })
  async outcomes(@Parent() slice: Slice, @Args() { window, appName }: SliceOutcomesArgs, @Context() context: GraphqlContext): Promise<SliceOutcomes> {
    mayRead(context);
    const app = appName ?? null;
    const v = await this.service.view(slice.key, window, app);
    return Object.assign(new SliceOutcomes(), {
      sliceKey: slice.key,
      appName: app,
      window,
      from: v.from,
      to: v.to,
      legacy: path(v.legacy),
      new: path(v.new),
      failureRateDifference: v.failureRateDifference,
      latencyDifferenceMs: v.latencyDifferenceMs,
      comparison: comparison(v.comparison, slice.key, app),
      byApp: v.byApp.map((a) =>
        Object.assign(new AppOutcomes(), { appName: a.appName, legacy: path(a.legacy), new: path(a.new), comparison: comparison(a.comparison, slice.key, a.appName) }),
      ),
    });
  }
}

@Resolver(() => SliceOutcomes)
export class SliceOutcomesResolver {
  constructor(private readonly service: OutcomesService) {}

  // Three queries of its own, plus up to 1,440 points (fewer with a wider step; the window is not
  // known here, so the cost assumes the longest).
  @ResolveField(() => [OutcomeSeriesPoint], {
    description: 'One point per step over the window, oldest first, steps without data as zeros.',
    complexity: ({ args, childComplexity }) => {
      const step = typeof args.stepMinutes === 'number' && args.stepMinutes >= 1 ? Math.min(Math.trunc(args.stepMinutes), MAX_STEP_MINUTES) : 1;
      return 3 * OWN_QUERY_COST + Math.ceil(MAX_SERIES_POINTS / step) * childComplexity;
    },
  })
  async series(@Parent() o: SliceOutcomes, @Args() { stepMinutes }: OutcomeSeriesArgs, @Context() context: GraphqlContext): Promise<OutcomeSeriesPoint[]> {
    mayRead(context);
    const points = await this.service.series(o.sliceKey, o.from, o.to, stepMinutes, o.appName);
    return points.map((p) => Object.assign(new OutcomeSeriesPoint(), p));
  }
}

@Resolver(() => ComparisonOutcome)
export class ComparisonOutcomeResolver {
  constructor(private readonly service: OutcomesService) {}

  @ResolveField(() => [MismatchSample], {
    description: 'The newest mismatch samples (of the app, for byApp), newest first, whatever the window: the service keeps the newest 50 per slice.',
    complexity: ({ args, childComplexity }) => OWN_QUERY_COST + Math.min(MAX_SAMPLES_LISTED, Math.max(1, Math.trunc(Number(args.limit) || 1))) * childComplexity,
  })
  async samples(@Parent() c: ComparisonOutcome, @Args() { limit }: MismatchSamplesArgs, @Context() context: GraphqlContext): Promise<MismatchSample[]> {
    mayRead(context);
    const rows = await this.service.samples(c.sliceKey, limit, c.appName);
    return rows.map((r) => Object.assign(new MismatchSample(), { ...r, served: PathValue[r.served] }));
  }
}
