import { Field, Float, GraphQLISODateTime, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

/*
 * Counts are Float, not Int: GraphQL's Int is 32-bit and a busy slice passes 2^31 decisions in a
 * day. A double is exact up to 2^53 (some 9 × 10^15), beyond any window shown here; a string would
 * be exact forever but makes every client parse it to compute a share.
 */

export enum SdkProtocol {
  SWITCHYARD = 'SWITCHYARD',
  UNLEASH = 'UNLEASH',
}
registerEnumType(SdkProtocol, {
  name: 'SdkProtocol',
  description: 'How an SDK instance talks to the service: the Switchyard SDK (/sdk/v1), or an official Unleash SDK (/api/client).',
});

export enum FollowerStatus {
  UP_TO_DATE = 'UP_TO_DATE',
  BEHIND = 'BEHIND',
  GONE = 'GONE',
}
registerEnumType(FollowerStatus, {
  name: 'FollowerStatus',
  description: 'Where a follower of a slice stands.',
  valuesMap: {
    UP_TO_DATE: { description: "Heard from recently, and holds the slice's last change (revision >= changedAtRevision)." },
    BEHIND: { description: 'Heard from recently, and does not hold the last change yet.' },
    GONE: {
      description:
        'No longer deciding: its SDK closed and said so (a final usage report), or it has not been heard from for three of its report intervals (60 s each unless it said otherwise). Whatever revision it last held.',
    },
  },
});

export enum ServedFormValue {
  EXACT = 'EXACT',
  CONSERVATIVE = 'CONSERVATIVE',
  DISABLED = 'DISABLED',
}
registerEnumType(ServedFormValue, {
  name: 'ServedForm',
  description:
    "How the slice an SDK instance is served relates to Switchyard's decision. EXACT: the same answer for every subject. CONSERVATIVE: NEW for only some of the subjects Switchyard puts on NEW (an Unleash SDK that cannot evaluate every constraint, or a fractional percentage rounded down). DISABLED: the slice is active but served disabled (everyone LEGACY), nothing finer being exact for that SDK.",
});

@ObjectType({ description: 'Decisions on each path over a time window, as the SDKs reported them.' })
export class TrafficTotals {
  @Field(() => Float)
  new!: number;

  @Field(() => Float)
  legacy!: number;

  @Field(() => Float)
  total!: number;

  @Field(() => Float, { nullable: true, description: 'NEW / total; null with no decisions.' })
  newShare!: number | null;

  static of(counts: { new: number; legacy: number }): TrafficTotals {
    const total = counts.new + counts.legacy;
    return Object.assign(new TrafficTotals(), { new: counts.new, legacy: counts.legacy, total, newShare: total > 0 ? counts.new / total : null });
  }
}

@ObjectType({ description: 'The decisions of one minute.' })
export class TrafficBucket {
  @Field(() => GraphQLISODateTime, { description: 'Start of the minute.' })
  start!: Date;

  @Field(() => Float)
  new!: number;

  @Field(() => Float)
  legacy!: number;
}

@ObjectType({ description: 'The decisions of one app (all its instances).' })
export class AppTraffic {
  @Field()
  appName!: string;

  @Field(() => Float)
  new!: number;

  @Field(() => Float)
  legacy!: number;
}

@ObjectType({
  description:
    'Decisions that SDKs (ours and Unleash SDKs) reported for a slice, in minute buckets. Windows end with the current minute, which is still filling: reports arrive every SDK metrics interval (60 s by default).',
})
export class SliceTraffic {
  /** Not a GraphQL field: what the field resolvers read. */
  sliceKey!: string;

  static of(sliceKey: string): SliceTraffic {
    return Object.assign(new SliceTraffic(), { sliceKey });
  }
}

@ObjectType({ description: 'An SDK instance that reported decisions for the slice, with the configuration it holds.' })
export class SliceFollower {
  @Field()
  appName!: string;

  @Field()
  instanceId!: string;

  @Field(() => SdkProtocol)
  protocol!: SdkProtocol;

  @Field(() => String, { nullable: true })
  sdkName!: string | null;

  @Field(() => String, { nullable: true })
  sdkVersion!: string | null;

  @Field(() => Int, { nullable: true, description: 'The configuration revision the instance last reported or was last served; null when unknown.' })
  revision!: number | null;

  @Field(() => GraphQLISODateTime, {
    nullable: true,
    description: 'When it last received configuration (stream event, poll answer, Unleash features fetch).',
  })
  lastSyncedAt!: Date | null;

  @Field(() => GraphQLISODateTime, { description: 'When the service last heard from it (a report, a registration, a fetch).' })
  lastSeenAt!: Date;

  @Field({ description: "revision >= the slice's changedAtRevision (whether or not it is still running: see status)." })
  upToDate!: boolean;

  @Field(() => FollowerStatus, { description: 'UP_TO_DATE, BEHIND, or GONE when it closed or went silent: what who-follows shows.' })
  status!: FollowerStatus;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When it said goodbye (its SDK closed), if nothing was heard from it since.' })
  closedAt!: Date | null;

  @Field(() => Int, {
    description:
      'How often it reports, in ms, as it said (our SDK’s metricsIntervalMs, an Unleash SDK’s registration interval; bounded to 1 s..1 day), else 60,000: three of these without a word make it GONE.',
  })
  reportIntervalMs!: number;
  @Field(() => String, {
    nullable: true,
    description: 'Unleash SDKs: the client specification version it declared (Unleash-Client-Spec header) when last served; null when it declared none, or for our SDK.',
  })
  clientSpec!: string | null;

  @Field(() => ServedFormValue, {
    nullable: true,
    description:
      "The form of the slice's current configuration that this instance is served: always EXACT for our SDK; for an Unleash SDK, by the client specification it declares; null for an Unleash SDK never served by this service.",
  })
  servedForm!: ServedFormValue | null;

  @Field(() => String, { nullable: true, description: 'Why servedForm is not EXACT, in words; null when it is (or unknown).' })
  degradedReason!: string | null;
}
