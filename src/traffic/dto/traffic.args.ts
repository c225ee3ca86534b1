import { ArgsType, Field, Int } from '@nestjs/graphql';
import { IsInt, Max, Min } from 'class-validator';

/** The per-minute series and per-app totals cover at most a day (the GraphQL windows stop there). */
export const MAX_TRAFFIC_MINUTES = 1440;
/** Followers may be asked for over a week; older marks may be pruned already (retention). */
export const MAX_FOLLOWER_MINUTES = 7 * 1440;

@ArgsType()
export class TrafficMinutesArgs {
  @Field(() => Int, { defaultValue: 60, description: `Minutes back from now, the current minute included (1 to ${MAX_TRAFFIC_MINUTES}).` })
  @IsInt()
  @Min(1)
  @Max(MAX_TRAFFIC_MINUTES)
  minutes!: number;
}

@ArgsType()
export class SliceFollowersArgs {
  @Field(() => Int, {
    defaultValue: 1440,
    description: `Instances that reported decisions for the slice within this many minutes (1 to ${MAX_FOLLOWER_MINUTES}).`,
  })
  @IsInt()
  @Min(1)
  @Max(MAX_FOLLOWER_MINUTES)
  withinMinutes!: number;
}
