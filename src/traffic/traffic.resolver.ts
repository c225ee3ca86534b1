import { Args, Context, Int, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import type { AuthenticatedRequest } from '../access/auth.decorators.js';
import { AuthException } from '../access/auth.exception.js';
import { Permission, roleGrants } from '../access/roles.js';
import { OWN_QUERY_COST, perMinute, perMinuteScan } from '../common/graphql/query-cost.js';
import { Slice } from '../slices/models/slice.model.js';
import { MAX_TRAFFIC_MINUTES, SliceFollowersArgs, TrafficMinutesArgs } from './dto/traffic.args.js';
import { AppTraffic, FollowerStatus, SdkProtocol, ServedFormValue, SliceFollower, SliceTraffic, TrafficBucket, TrafficTotals } from './models/traffic.model.js';
import { SegmentCoverage } from './models/segment-coverage.model.js';
import { namedSegmentsOf } from './segment-coverage.js';
import { type TrafficReader, TrafficService } from './traffic.service.js';

interface GraphqlContext {
  readonly req?: AuthenticatedRequest;
}

/** One reader per GraphQL request: the request's loads are batched and share one `now`. */
const readers = new WeakMap<object, TrafficReader>();

/**
 * Field resolvers run no guard (graphql.config.ts enables only filters for them, for speed), and
 * a Slice is reached only through operations that require READ or more. Checked here as well, so
 * that a future operation returning a Slice to a weaker role does not expose traffic by accident.
 */
function readerFor(service: TrafficService, context: GraphqlContext): TrafficReader {
  const principal = context.req?.principal;
  if (principal === undefined) throw AuthException.unauthenticated();
  if (!roleGrants(principal.role, Permission.READ)) throw AuthException.forbidden(principal.role, Permission.READ);
  let reader = readers.get(context);
  if (reader === undefined) {
    reader = service.reader();
    readers.set(context, reader);
  }
  return reader;
}

/** Traffic and followers on the Slice type. */
@Resolver(() => Slice)
export class SliceTrafficFieldsResolver {
  constructor(private readonly service: TrafficService) {}

  // Cost OWN_QUERY_COST (two queries of its own per slice: not batched) + a row summed per minute,
  // like byApp; capped per request by the cost limit.
  @ResolveField(() => [SegmentCoverage], {
    description:
      'Per segment this slice names (include, exclude, rules, rolled back), sorted by key: how many of its decisions of the last `minutes` the segment covered, from the decisions SDKs sampled (docs/segment-rollback.md, "Coverage").',
    complexity: perMinuteScan(MAX_TRAFFIC_MINUTES, OWN_QUERY_COST, 10),
  })
  async segmentCoverage(@Parent() slice: Slice, @Args() { minutes }: TrafficMinutesArgs, @Context() context: GraphqlContext): Promise<SegmentCoverage[]> {
    const figures = await readerFor(this.service, context).segmentCoverage(slice.key, namedSegmentsOf(slice), minutes);
    return figures.map((f) => SegmentCoverage.of(f));
  }

  @ResolveField(() => Int, {
    description:
      "The configuration revision at which this slice's decisions last changed (its own change or one of the segments it uses); a follower below it has not received that change.",
  })
  changedAtRevision(@Parent() slice: Slice, @Context() context: GraphqlContext): Promise<number> {
    return readerFor(this.service, context).changedAtRevision(slice.key);
  }

  @ResolveField(() => SliceTraffic, { description: 'Decisions the SDKs reported for this slice, NEW against LEGACY.' })
  traffic(@Parent() slice: Slice, @Context() context: GraphqlContext): SliceTraffic {
    readerFor(this.service, context);
    return SliceTraffic.of(slice.key);
  }

  // Cost 1 + 10 per follower selected: one batched query per request for every slice and window,
  // but the list has no pages (up to MAX_FOLLOWERS); ten followers a slice are assumed.
  @ResolveField(() => [SliceFollower], {
    description:
      'SDK instances that reported decisions for this slice recently, by app and instance, with the revision each holds, whether it is still there, and the form of the slice each is served (Unleash SDKs that cannot evaluate it exactly get a conservative one).',
    complexity: ({ childComplexity }) => 1 + 10 * childComplexity,
  })
  async followers(@Parent() slice: Slice, @Args() { withinMinutes }: SliceFollowersArgs, @Context() context: GraphqlContext): Promise<SliceFollower[]> {
    const rows = await readerFor(this.service, context).followers(slice.key, withinMinutes);
    return rows.map((r) =>
      Object.assign(new SliceFollower(), {
        appName: r.appName,
        instanceId: r.instanceId,
        protocol: r.protocol as SdkProtocol,
        sdkName: r.sdkName,
        sdkVersion: r.sdkVersion,
        revision: r.revision,
        lastSyncedAt: r.lastSyncedAt,
        lastSeenAt: r.lastSeenAt,
        upToDate: r.upToDate,
        status: r.status as FollowerStatus,
        closedAt: r.closedAt,
        reportIntervalMs: r.reportIntervalMs,
        clientSpec: r.clientSpec,
        servedForm: r.servedForm === null ? null : ServedFormValue[r.servedForm],
        degradedReason: r.degradedReason,
      }),
    );
  }
}

@Resolver(() => SliceTraffic)
export class SliceTrafficResolver {
  constructor(private readonly service: TrafficService) {}

  @ResolveField(() => TrafficTotals, { description: 'The last 5 minutes, the current one included.' })
  async last5Minutes(@Parent() t: SliceTraffic, @Context() context: GraphqlContext): Promise<TrafficTotals> {
    return TrafficTotals.of((await readerFor(this.service, context).windowTotals(t.sliceKey)).last5Minutes);
  }

  @ResolveField(() => TrafficTotals, { description: 'The last 60 minutes, the current one included.' })
  async lastHour(@Parent() t: SliceTraffic, @Context() context: GraphqlContext): Promise<TrafficTotals> {
    return TrafficTotals.of((await readerFor(this.service, context).windowTotals(t.sliceKey)).lastHour);
  }

  @ResolveField(() => TrafficTotals, { description: 'The last 1440 minutes, the current one included.' })
  async last24Hours(@Parent() t: SliceTraffic, @Context() context: GraphqlContext): Promise<TrafficTotals> {
    return TrafficTotals.of((await readerFor(this.service, context).windowTotals(t.sliceKey)).last24Hours);
  }

  // Cost OWN_QUERY_COST (a query of its own for every slice that selects it: not batched) +
  // `minutes` buckets. The cost limit is what caps how many run per request: a page of slices
  // repeats it per slice, which a count of the field in the document would not see. Under the
  // default limit: a day's series (start, new, legacy) for 4 slices, an hour's for about 95.
  @ResolveField(() => [TrafficBucket], {
    description: 'Per-minute buckets over the last `minutes` (1..1440), oldest first, empty minutes included.',
    complexity: perMinute(MAX_TRAFFIC_MINUTES, OWN_QUERY_COST),
  })
  async buckets(@Parent() t: SliceTraffic, @Args() { minutes }: TrafficMinutesArgs, @Context() context: GraphqlContext): Promise<TrafficBucket[]> {
    const buckets = await readerFor(this.service, context).buckets(t.sliceKey, minutes);
    return buckets.map((b) => Object.assign(new TrafficBucket(), b));
  }

  // Cost OWN_QUERY_COST (a query of its own per slice, like buckets) + a row summed per minute +
  // ten apps' worth of output; capped per request by the cost limit, like buckets.
  @ResolveField(() => [AppTraffic], {
    description: 'Totals per app over the last `minutes`.',
    complexity: perMinuteScan(MAX_TRAFFIC_MINUTES, OWN_QUERY_COST, 10),
  })
  async byApp(@Parent() t: SliceTraffic, @Args() { minutes }: TrafficMinutesArgs, @Context() context: GraphqlContext): Promise<AppTraffic[]> {
    const apps = await readerFor(this.service, context).byApp(t.sliceKey, minutes);
    return apps.map((a) => Object.assign(new AppTraffic(), a));
  }
}
