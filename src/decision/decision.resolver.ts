import { Args, Query, Resolver } from '@nestjs/graphql';
import { Requires } from '../access/auth.decorators.js';
import { Permission } from '../access/roles.js';
import { DecisionService } from './decision.service.js';
import { EvaluateArgs } from './dto/evaluate.args.js';
import { Decision, type DecisionReasonValue, type PathValue } from './models/decision.model.js';

@Resolver(() => Decision)
export class DecisionResolver {
  constructor(private readonly decisions: DecisionService) {}

  @Query(() => Decision, { description: 'Legacy or new for this context, decided exactly as the SDK decides it.' })
  @Requires(Permission.READ_CONFIG)
  async evaluate(@Args() { sliceKey, context }: EvaluateArgs): Promise<Decision> {
    const d = await this.decisions.evaluate(sliceKey, context);
    return { sliceKey, path: d.path as PathValue, reason: d.reason as DecisionReasonValue, ruleIndex: d.ruleIndex ?? null };
  }
}
