import { Field, Float, ObjectType } from '@nestjs/graphql';
import type { SegmentCoverageFigures } from '../segment-coverage.js';

@ObjectType({
  description:
    'How many of the slice’s recent decisions one segment it names covered, from the decisions SDKs sampled (docs/segment-rollback.md, "Coverage"): what a segment rollback would send to LEGACY.',
})
export class SegmentCoverage {
  @Field()
  segmentKey!: string;

  @Field({ description: 'False when no sampled decision exists in the window (SDKs without segment coverage, Unleash SDKs, no traffic): the figures below are then null or 0.' })
  measured!: boolean;

  @Field(() => Float, { description: 'Decisions sampled for this segment in the window.' })
  sampled!: number;

  @Field(() => Float, { description: 'Of those, the ones whose subject was in the segment.' })
  inSegment!: number;

  @Field(() => Float, { nullable: true, description: 'inSegment / sampled; null when not measured.' })
  share!: number | null;

  @Field(() => Float, { nullable: true, description: 'The low end of the share’s 95 % Wilson interval.' })
  shareLow!: number | null;

  @Field(() => Float, { nullable: true, description: 'The high end of the share’s 95 % Wilson interval.' })
  shareHigh!: number | null;

  @Field(() => Float, { description: 'The slice’s decisions in the window, from every SDK.' })
  decisions!: number;

  @Field(() => Float, { nullable: true, description: 'share × decisions: about how many of them the segment covered; null when not measured.' })
  estimatedDecisions!: number | null;

  static of(f: SegmentCoverageFigures): SegmentCoverage {
    return Object.assign(new SegmentCoverage(), {
      segmentKey: f.segmentKey,
      measured: f.measured,
      sampled: f.sampled,
      inSegment: f.inSegment,
      share: f.share?.estimate ?? null,
      shareLow: f.share?.low ?? null,
      shareHigh: f.share?.high ?? null,
      decisions: f.decisions,
      estimatedDecisions: f.estimatedDecisions === null ? null : Math.round(f.estimatedDecisions.estimate),
    });
  }
}
