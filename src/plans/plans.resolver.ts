import { Args, Context, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { type Actor, type AuthenticatedRequest, CurrentActor, Requires } from '../access/auth.decorators.js';
import { AuthException } from '../access/auth.exception.js';
import { Permission, roleGrants } from '../access/roles.js';
import { MAX_PAGE_SIZE } from '../common/dto/fields.js';
import { BatchLoader } from '../common/graphql/batch-loader.js';
import { perPage } from '../common/graphql/query-cost.js';
import { Slice } from '../slices/models/slice.model.js';
import { ApprovePlanStepArgs, CreatePlanArgs, PlanCallArgs, PlanExposureCallArgs, PlansArgs, PlanSliceArgs } from './dto/plan.args.js';
import { Plan, PlanConnection } from './models/plan.model.js';
import type { PlanLook, PlanRecord } from './plan-record.js';
import { PlansService } from './plans.service.js';

/** Plans over GraphQL: release managers and admins change them (CHANGE_CONFIG); anyone who reads slices reads them. */
@Resolver(() => Plan)
export class PlansResolver {
  constructor(private readonly service: PlansService) {}

  @Query(() => Plan, { description: "A slice's open plan, else its newest." })
  @Requires(Permission.READ)
  async plan(@Args() { sliceKey }: PlanSliceArgs): Promise<Plan> {
    const { plan, look } = await this.service.get(sliceKey);
    return Plan.from(plan, look);
  }

  @Query(() => PlanConnection, { description: "Each slice's open plan (else its newest), in slice-key order, optionally by phase.", complexity: perPage(MAX_PAGE_SIZE) })
  @Requires(Permission.READ)
  async plans(@Args() args: PlansArgs): Promise<PlanConnection> {
    const page = await this.service.list(args);
    return { nodes: page.nodes.map((r) => Plan.from(r.plan, r.look)), pageInfo: page.pageInfo };
  }

  @Mutation(() => Plan, { description: 'A plan for a slice (PENDING): steps and gates. At most one open plan per slice.' })
  @Requires(Permission.CHANGE_CONFIG)
  async createPlan(@Args() args: CreatePlanArgs, @CurrentActor() actor: Actor): Promise<Plan> {
    return Plan.from(await this.service.create(args, actor), null);
  }

  @Mutation(() => Plan, { description: "Watches the slice, moves it to the first step's percentage and lets the runner carry the plan out." })
  @Requires(Permission.CHANGE_CONFIG)
  async startPlan(@Args() args: PlanExposureCallArgs, @CurrentActor() actor: Actor): Promise<Plan> {
    return Plan.from(await this.service.start(args, actor), null);
  }

  @Mutation(() => Plan, { description: 'The runner stops acting; exposure may be changed by hand.' })
  @Requires(Permission.CHANGE_CONFIG)
  async pausePlan(@Args() args: PlanCallArgs, @CurrentActor() actor: Actor): Promise<Plan> {
    return this.withLook(await this.service.pause(args, actor));
  }

  @Mutation(() => Plan, { description: "Back to the step it paused at: the slice to that step's percentage, the step's duration and evidence from now." })
  @Requires(Permission.CHANGE_CONFIG)
  async resumePlan(@Args() args: PlanExposureCallArgs, @CurrentActor() actor: Actor): Promise<Plan> {
    return Plan.from(await this.service.resume(args, actor), null);
  }

  @Mutation(() => Plan, { description: 'Ends the plan for good; the slice stays where it is.' })
  @Requires(Permission.CHANGE_CONFIG)
  async abortPlan(@Args() args: PlanCallArgs, @CurrentActor() actor: Actor): Promise<Plan> {
    return this.withLook(await this.service.abort(args, actor));
  }

  @Mutation(() => Plan, { description: "Approves a step that requires it: by a release manager or admin other than the plan's author." })
  @Requires(Permission.CHANGE_CONFIG)
  async approvePlanStep(@Args() args: ApprovePlanStepArgs, @CurrentActor() actor: Actor): Promise<Plan> {
    return this.withLook(await this.service.approve(args, actor));
  }

  /** A change that keeps the step (pause, abort, approve) keeps the runner's last look: show it. */
  private async withLook(plan: PlanRecord): Promise<Plan> {
    return Plan.from(plan, await this.service.lookOf(plan));
  }
}

interface GraphqlContext {
  readonly req?: AuthenticatedRequest;
}

/** One loader per GraphQL request: every slice's plan in one query. */
const loaders = new WeakMap<object, BatchLoader<{ plan: PlanRecord; look: PlanLook | null } | null>>();

/** `Slice.plan`. Field resolvers run no guard (graphql.config.ts): READ is checked here. */
@Resolver(() => Slice)
export class SlicePlanResolver {
  constructor(private readonly plans: PlansService) {}

  @ResolveField(() => Plan, {
    nullable: true,
    description: 'The open plan, else the newest; null when the slice never had one (docs/plans.md).',
    // One batched query per request, plus what the plan selects.
    complexity: ({ childComplexity }) => 1 + childComplexity,
  })
  async plan(@Parent() slice: Slice, @Context() context: GraphqlContext): Promise<Plan | null> {
    const principal = context.req?.principal;
    if (principal === undefined) throw AuthException.unauthenticated();
    if (!roleGrants(principal.role, Permission.READ)) throw AuthException.forbidden(principal.role, Permission.READ);
    let loader = loaders.get(context);
    if (loader === undefined) {
      loader = new BatchLoader((keys) => this.plans.findMany(keys), null);
      loaders.set(context, loader);
    }
    const found = await loader.load(slice.key);
    return found === null ? null : Plan.from(found.plan, found.look);
  }
}
