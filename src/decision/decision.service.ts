import { Injectable } from '@nestjs/common';
import { compileSnapshot, type Decision, type EvaluationContext } from '@switchyard/client-sdk/core';
import { toSegmentDefinition } from '../segments/segment-record.js';
import { SegmentsRepository } from '../segments/segments.repository.js';
import { sliceSegmentKeys, toSliceDefinition } from '../slices/slice-record.js';
import { SlicesRepository } from '../slices/slices.repository.js';

/**
 * The server's answer to "legacy or new?": the SDK's own decision core over the stored
 * configuration, so the two can never disagree.
 */
@Injectable()
export class DecisionService {
  constructor(
    private readonly slices: SlicesRepository,
    private readonly segments: SegmentsRepository,
  ) {}

  async evaluate(sliceKey: string, context: EvaluationContext, now: Date = new Date()): Promise<Decision> {
    const slice = await this.slices.find(sliceKey);
    const segments = slice === null ? [] : await this.segments.findMany(sliceSegmentKeys(slice));
    // An unknown slice is the core's to answer too (LEGACY, UNKNOWN_SLICE), as it is in the SDK.
    return compileSnapshot({
      revision: 0,
      slices: slice === null ? [] : [toSliceDefinition(slice)],
      segments: segments.map(toSegmentDefinition),
    }).explain(sliceKey, context, now.getTime());
  }
}
