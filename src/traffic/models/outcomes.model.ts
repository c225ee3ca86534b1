import { Field, Float, GraphQLISODateTime, ObjectType, registerEnumType } from '@nestjs/graphql';
import { PathValue } from '../../decision/models/decision.model.js';

/*
 * The shape a console and the CLI read (docs/outcomes.md, "On the service"): keep the names.
 * Counts are Float, as in traffic.model.ts (GraphQL's Int is 32-bit). Rates are fractions from 0
 * to 1, never percentages, but for `thresholdPercent`, which is the setting as a release manager
 * sets it.
 */

export enum OutcomeWindow {
  LAST_5_MINUTES = 'LAST_5_MINUTES',
  LAST_HOUR = 'LAST_HOUR',
  LAST_DAY = 'LAST_DAY',
  SINCE_LAST_CHANGE = 'SINCE_LAST_CHANGE',
}
registerEnumType(OutcomeWindow, {
  name: 'OutcomeWindow',
  description: 'The minutes an outcome view covers, each ending with the current minute (included, still filling).',
  valuesMap: {
    LAST_5_MINUTES: { description: 'The last 5 minutes.' },
    LAST_HOUR: { description: 'The last 60 minutes.' },
    LAST_DAY: { description: 'The last 1,440 minutes.' },
    SINCE_LAST_CHANGE: {
      description: "From the minute of the slice's last history row (its last change; the whole minute counts), at most as far back as traffic is kept.",
    },
  },
});

export enum ComparisonStatusValue {
  WITHIN = 'WITHIN',
  ABOVE = 'ABOVE',
  NOT_ENOUGH_DATA = 'NOT_ENOUGH_DATA',
}
registerEnumType(ComparisonStatusValue, {
  name: 'ComparisonStatus',
  description: "The mismatch rate against the slice's threshold, with 95 % confidence (Wilson score interval).",
  valuesMap: {
    WITHIN: { description: "The interval's upper bound is at or under the threshold." },
    ABOVE: { description: "The interval's lower bound is above the threshold." },
    NOT_ENOUGH_DATA: { description: 'The interval holds the threshold: too few comparisons to say (see comparisonsNeeded). Never to be read as WITHIN.' },
  },
});

@ObjectType({ description: 'What one path did over the window: calls the SDKs measured, failures, and latency percentiles (log2pct-v1 histograms, within 2 %).' })
export class PathOutcome {
  @Field(() => Float)
  calls!: number;

  @Field(() => Float)
  failures!: number;

  @Field(() => Float, { nullable: true, description: 'failures / calls, a fraction from 0 to 1; null without calls.' })
  failureRate!: number | null;

  @Field(() => Float, { nullable: true, description: 'Median duration in milliseconds; null without calls.' })
  p50Ms!: number | null;

  @Field(() => Float, { nullable: true, description: '95th percentile duration in milliseconds; null without calls.' })
  p95Ms!: number | null;

  @Field(() => Float, { nullable: true, description: '99th percentile duration in milliseconds; null without calls.' })
  p99Ms!: number | null;
}

@ObjectType({ description: "A difference of two rates with its 95 % confidence interval (Newcombe's hybrid score interval), fractions from -1 to 1." })
export class RateDifference {
  @Field(() => Float)
  estimate!: number;

  @Field(() => Float)
  low!: number;

  @Field(() => Float)
  high!: number;
}

@ObjectType({ description: 'NEW minus LEGACY latency percentiles, in milliseconds; each null unless both paths have calls.' })
export class LatencyDifference {
  @Field(() => Float, { nullable: true })
  p50!: number | null;

  @Field(() => Float, { nullable: true })
  p95!: number | null;

  @Field(() => Float, { nullable: true })
  p99!: number | null;
}

@ObjectType({ description: 'A mismatch a shadow comparison found, as the SDK sent it (after the host redacted it).' })
export class MismatchSample {
  @Field({ description: "When, by the SDK host's clock: the RFC 3339 text it sent." })
  at!: string;

  @Field(() => GraphQLISODateTime, { description: 'When the service received it.' })
  receivedAt!: Date;

  @Field()
  appName!: string;

  @Field(() => PathValue, { description: 'The path that was served (the other one ran in the shadow).' })
  served!: PathValue;

  @Field({ description: 'The first 8 bytes of SHA-256 over sliceKey + "\\n" + the stickiness value, in hex: the subject, without its identifier.' })
  subject!: string;

  @Field({ description: 'A structural diff of the two results, at most 4,096 characters.' })
  diff!: string;
}

@ObjectType({ description: 'Shadow comparisons over the window: how often NEW and LEGACY disagreed on the same call.' })
export class ComparisonOutcome {
  /** Which samples `samples` reads (not fields). */
  sliceKey!: string;
  appName!: string | null;

  @Field(() => Float, { description: 'Comparisons that finished (both results in, compared).' })
  compared!: number;

  @Field(() => Float)
  mismatches!: number;

  @Field(() => Float, { description: 'The path not served threw or rejected (not compared).' })
  otherFailures!: number;

  @Field(() => Float, { description: 'The path not served did not settle in time (not compared).' })
  timeouts!: number;

  @Field(() => Float, { nullable: true, description: 'mismatches / compared, a fraction from 0 to 1; null with no comparisons.' })
  mismatchRate!: number | null;

  @Field(() => Float, { nullable: true, description: 'Lower bound of the 95 % Wilson score interval of the mismatch rate (a fraction).' })
  mismatchRateLow!: number | null;

  @Field(() => Float, { nullable: true, description: 'Upper bound of the 95 % Wilson score interval of the mismatch rate (a fraction).' })
  mismatchRateHigh!: number | null;

  @Field(() => Float, { description: "The slice's mismatch threshold, in percent (0.1 by default)." })
  thresholdPercent!: number;

  @Field(() => ComparisonStatusValue)
  status!: ComparisonStatusValue;

  @Field(() => Float, {
    nullable: true,
    description:
      'NOT_ENOUGH_DATA: how many more comparisons at the observed mismatch rate would decide (with none yet: how many, all matching, would show WITHIN). Null when decided, or when the observed rate equals the threshold.',
  })
  comparisonsNeeded!: number | null;
}

@ObjectType({ description: "One app's outcomes (all its instances) over the window." })
export class AppOutcomes {
  @Field()
  appName!: string;

  @Field(() => PathOutcome)
  legacy!: PathOutcome;

  @Field(() => PathOutcome)
  new!: PathOutcome;

  @Field(() => ComparisonOutcome)
  comparison!: ComparisonOutcome;
}

@ObjectType({ description: 'One step of an outcome series.' })
export class OutcomeSeriesPoint {
  @Field(() => GraphQLISODateTime, { description: 'Start of the step.' })
  start!: Date;

  @Field(() => Float)
  legacyCalls!: number;

  @Field(() => Float)
  legacyFailures!: number;

  @Field(() => Float, { nullable: true })
  legacyP95Ms!: number | null;

  @Field(() => Float)
  newCalls!: number;

  @Field(() => Float)
  newFailures!: number;

  @Field(() => Float, { nullable: true })
  newP95Ms!: number | null;

  @Field(() => Float)
  compared!: number;

  @Field(() => Float)
  mismatches!: number;
}

@ObjectType({ description: 'LEGACY and NEW side by side over a window, with shadow comparisons (docs/outcomes.md).' })
export class SliceOutcomes {
  /** Which rows `series` reads (not fields). */
  sliceKey!: string;
  appName!: string | null;

  @Field(() => OutcomeWindow)
  window!: OutcomeWindow;

  @Field(() => GraphQLISODateTime, { description: 'Start of the first minute counted.' })
  from!: Date;

  @Field(() => GraphQLISODateTime, { description: 'End (exclusive) of the last minute counted: the end of the current minute.' })
  to!: Date;

  @Field(() => PathOutcome)
  legacy!: PathOutcome;

  @Field(() => PathOutcome)
  new!: PathOutcome;

  @Field(() => RateDifference, { nullable: true, description: 'NEW failure rate minus LEGACY failure rate, with its 95 % interval; null unless both paths have calls.' })
  failureRateDifference!: RateDifference | null;

  @Field(() => LatencyDifference, { nullable: true, description: 'NEW minus LEGACY latency percentiles; null unless both paths have calls.' })
  latencyDifferenceMs!: LatencyDifference | null;

  @Field(() => ComparisonOutcome)
  comparison!: ComparisonOutcome;

  @Field(() => [AppOutcomes], { description: 'The same per app, by app name.' })
  byApp!: AppOutcomes[];
}
