import { Module } from '@nestjs/common';
import { SegmentsModule } from '../segments/segments.module.js';
import { SlicesModule } from '../slices/slices.module.js';
import { DecisionResolver } from './decision.resolver.js';
import { DecisionService } from './decision.service.js';

@Module({
  imports: [SlicesModule, SegmentsModule],
  providers: [DecisionService, DecisionResolver],
})
export class DecisionModule {}
