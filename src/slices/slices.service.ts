import { Inject, Injectable } from '@nestjs/common';
import { percentToBasisPoints } from '@switchyard/client-sdk/core';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../access/auth.decorators.js';
import { InvalidInputException, SwitchyardException } from '../common/errors/switchyard.exception.js';
import { percentToPartsPerMillion } from '../common/validation/validation.js';
import { decodeCursor, toPage } from '../common/graphql/cursor.js';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { type ChangeArgs, ChangeService, type PendingWrite, type ResultCodec } from '../changes/change.service.js';
import { canonicalJson } from '../history/proof/hash-chain.js';
import { HistoryAction, type HistoryDraft } from '../history/history-action.js';
import { SegmentsRepository } from '../segments/segments.repository.js';
import type { ArchiveSliceArgs, CreateSliceArgs, RuleInput, SetObservationArgs, SetRolloutArgs, SetTargetingArgs, SlicesArgs, UpdateSliceArgs } from './dto/slice.args.js';
import { EMPTY_TARGETING, observationFields, observationOf, type SliceRecord, type StoredTargeting } from './slice-record.js';
import { ExposureGuards } from './exposure-guards.js';
import { SliceException } from './slices.exception.js';
import { SlicesRepository } from './slices.repository.js';

/**
 * A SliceRecord is plain JSON already: stored and returned as is on an idempotent retry. One
 * stored before the observation settings existed lacks them, which means their defaults, as in a
 * record read today (SliceRecord omits a setting at its default).
 */
export const SLICE_CODEC: ResultCodec<SliceRecord> = {
  encode: (r) => r,
  decode: (json) => json as SliceRecord,
};

/** Creating slices and changing their configuration. Rollback and resume live in RollbackService. */
@Injectable()
export class SlicesService {
  private readonly requireReason: boolean;

  constructor(
    private readonly slices: SlicesRepository,
    private readonly segments: SegmentsRepository,
    private readonly changes: ChangeService,
    private readonly guards: ExposureGuards,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.requireReason = config.requireReason;
  }

  async get(key: string): Promise<SliceRecord> {
    const slice = await this.slices.find(key);
    if (slice === null) throw SliceException.notFound(key);
    return slice;
  }

  async list(args: SlicesArgs) {
    const after = decodeCursor(args.after);
    const rows = await this.slices.list({ tag: args.tag, state: args.state }, args.first + 1, after);
    return toPage(rows, args.first, (r) => r.key);
  }

  create(args: CreateSliceArgs, actor: Actor): Promise<SliceRecord> {
    return this.changes.run({
      operation: 'createSlice',
      args,
      actor,
      codec: SLICE_CODEC,
      execute: async (tx, now) => {
        if ((await this.slices.find(args.key, tx)) !== null) {
          throw new SliceException('SLICE_ALREADY_EXISTS', `Slice "${args.key}" already exists.`, { sliceKey: args.key });
        }
        const targeting = args.targeting ? toStoredTargeting(args.targeting) : EMPTY_TARGETING;
        await this.ensureSegmentsExist(tx, targeting, 'targeting.');
        const at = now.toISOString();
        const record: SliceRecord = {
          key: args.key,
          description: args.description,
          owner: args.owner,
          tags: dedupe(args.tags),
          stickinessAttribute: args.stickinessAttribute,
          basisPoints: toBasisPoints(args.percent),
          targeting,
          state: 'ACTIVE',
          version: 1,
          createdAt: at,
          updatedAt: at,
        };
        // A slice created above 0 % (or with include segments, or rules) puts subjects on NEW: the
        // exposure guards see it as a change from nobody on NEW (a freeze window refuses it unless
        // an admin overrides, recorded before the creation's own row).
        const recorded: HistoryDraft[] = [];
        const nobody: SliceRecord = { ...record, basisPoints: 0, targeting: EMPTY_TARGETING };
        await this.guards.check({ operation: 'createSlice', args, actor, tx, now, current: nobody, next: record, record: (draft) => recorded.push(draft) });
        await this.slices.insert(tx, record);
        return { result: record, history: [...recorded, { action: HistoryAction.SLICE_CREATED, sliceKey: record.key, before: null, after: record }] };
      },
    });
  }

  update(args: UpdateSliceArgs, actor: Actor): Promise<SliceRecord> {
    return this.change('updateSlice', args, actor, HistoryAction.SLICE_UPDATED, (_tx, current) => {
      if (current.state === 'ARCHIVED') throw archived(current);
      return {
        ...current,
        description: args.description ?? current.description,
        owner: args.owner ?? current.owner,
        tags: args.tags ? dedupe(args.tags) : current.tags,
      };
    });
  }

  setRollout(args: SetRolloutArgs, actor: Actor): Promise<SliceRecord> {
    return this.exposureChange('setRollout', args, actor, HistoryAction.ROLLOUT_SET, (_tx, current) => {
      requireActive(current);
      return { ...current, basisPoints: toBasisPoints(args.percent) };
    });
  }

  setTargeting(args: SetTargetingArgs, actor: Actor): Promise<SliceRecord> {
    return this.exposureChange('setTargeting', args, actor, HistoryAction.TARGETING_SET, async (tx, current) => {
      requireActive(current);
      const targeting = toStoredTargeting(args);
      await this.ensureSegmentsExist(tx, targeting, '');
      return { ...current, targeting, stickinessAttribute: args.stickinessAttribute ?? current.stickinessAttribute };
    });
  }

  /**
   * watched, shadowPercent, the mismatch threshold: on ACTIVE and ROLLED_BACK slices (a rolled-back
   * slice may be watched while it is investigated; resume keeps them), not on ARCHIVED ones. Not
   * an exposure change: no decision moves, so the reason is optional. The snapshot carries watched
   * and the shadow share, so the revision advances like for any change.
   */
  setObservation(args: SetObservationArgs, actor: Actor): Promise<SliceRecord> {
    if (args.watched == null && args.shadowPercent == null && args.mismatchThresholdPercent == null) {
      return Promise.reject(InvalidInputException.field('watched', 'give at least one of watched, shadowPercent and mismatchThresholdPercent'));
    }
    return this.change('setObservation', args, actor, HistoryAction.OBSERVATION_SET, (_tx, current) => {
      if (current.state === 'ARCHIVED') throw archived(current);
      const was = observationOf(current);
      const { watched: _w, shadowBasisPoints: _s, mismatchThresholdPpm: _m, ...rest } = current;
      return {
        ...rest,
        ...observationFields({
          watched: args.watched ?? was.watched,
          shadowBasisPoints: args.shadowPercent == null ? was.shadowBasisPoints : toBasisPoints(args.shadowPercent),
          mismatchThresholdPpm: args.mismatchThresholdPercent == null ? was.mismatchThresholdPpm : toPartsPerMillion(args.mismatchThresholdPercent),
        }),
      };
    });
  }

  archive(args: ArchiveSliceArgs, actor: Actor): Promise<SliceRecord> {
    return this.exposureChange('archiveSlice', args, actor, HistoryAction.SLICE_ARCHIVED, (_tx, current) => {
      if (current.state === 'ARCHIVED') throw archived(current);
      return { ...current, state: 'ARCHIVED' };
    });
  }

  /**
   * A change to who is on NEW (setRollout, setTargeting, resume, archiveSlice): `change`, checked
   * by the registered ExposureGuards (freeze windows, plans) inside its transaction, and refused
   * with INVALID_INPUT on `reason` when none is given (or only blank) while SWITCHYARD_REQUIRE_REASON
   * is on (the default), before anything is read or written. Rollback needs a reason always (its
   * schema says so). createSlice and updateSlice may omit it, though a slice created above 0 % (or
   * with include segments) does put subjects on NEW (createSlice goes through the guards, though).
   */
  exposureChange(...[operation, args, actor, action, apply]: Parameters<SlicesService['change']>): Promise<SliceRecord> {
    if (this.requireReason && (args.reason == null || !/\S/.test(args.reason))) {
      return Promise.reject(InvalidInputException.field('reason', `${operation} changes who is on NEW: say why (SWITCHYARD_REQUIRE_REASON is on; history records it)`));
    }
    const recorded: HistoryDraft[] = [];
    return this.change(
      operation,
      args,
      actor,
      action,
      async (tx, current, now, reads) => {
        const next = await apply(tx, current, now, reads);
        // Asking for what is already so is not refused (it writes nothing): guards see real changes only.
        if (next !== current && canonicalJson(next) !== canonicalJson(current)) {
          await this.guards.check({ operation, args, actor, tx, now, current, next, record: (draft) => recorded.push(draft) }, reads);
        }
        return next;
      },
      recorded,
      // What the guards read (freeze windows, the running plan), loaded with the slice: no round trip of their own.
      this.guards.sliceReads(),
    );
  }

  /**
   * The shape of every single-slice change (RollbackService's too): load under the append lock,
   * check the expected version, apply, bump the version, write, record history. `apply` returns
   * the next configuration; returning the current one unchanged writes nothing. It may answer at
   * once (most only compute the next configuration) or after reading in `tx`.
   */
  change(
    operation: string,
    args: ChangeArgs & { key: string; expectedVersion?: number | null },
    actor: Actor,
    action: HistoryAction,
    apply: (tx: EntityManager, current: SliceRecord, now: Date, reads: readonly unknown[]) => SliceRecord | Promise<SliceRecord>,
    /** Rows a guard asked for (filled while `apply` runs), written before the change's own row. */
    recorded: readonly HistoryDraft[] = [],
    /** SQL expressions over the slice's row (alias `s`) loaded with it under the append lock (ExposureGuard.sliceRead); their values reach `apply`. */
    sliceReads: readonly string[] = [],
  ): Promise<SliceRecord> {
    return this.changes.run({
      operation,
      args,
      actor,
      codec: SLICE_CODEC,
      // The slice's row is written by the statement that appends its history row (one round trip fewer).
      execute: (tx, now) => this.applyChange(tx, now, args, action, apply, recorded, true, sliceReads),
    });
  }

  /**
   * `change` inside a change that is already running (the append lock held): for a change that
   * writes a slice and something else in one transaction (a plan's step, src/plans). Returns the
   * history row to append with the rest (none when nothing changed).
   */
  changeWithin(
    tx: EntityManager,
    now: Date,
    args: { key: string; expectedVersion?: number | null },
    action: HistoryAction,
    apply: (tx: EntityManager, current: SliceRecord, now: Date) => SliceRecord | Promise<SliceRecord>,
    /** Rows a guard asked for (filled while `apply` runs), written before the change's own row. */
    recorded: readonly HistoryDraft[] = [],
  ): Promise<{ result: SliceRecord; history: HistoryDraft[] }> {
    // Written at once: the change around it may read the slice back before it appends history.
    return this.applyChange(tx, now, args, action, apply, recorded, false);
  }

  /**
   * `changeWithin`; with `deferWrite`, the slice's row is left to the history statement (a
   * PendingWrite) rather than written now; `sliceReads` are loaded with the slice and given to `apply`.
   */
  private async applyChange(
    tx: EntityManager,
    now: Date,
    args: { key: string; expectedVersion?: number | null },
    action: HistoryAction,
    apply: (tx: EntityManager, current: SliceRecord, now: Date, reads: readonly unknown[]) => SliceRecord | Promise<SliceRecord>,
    recorded: readonly HistoryDraft[],
    deferWrite: boolean,
    sliceReads: readonly string[] = [],
  ): Promise<{ result: SliceRecord; history: HistoryDraft[]; writes: PendingWrite[] }> {
    const { current, reads } = await this.loadForChange(tx, args.key, args.expectedVersion, sliceReads);
    const applied = await apply(tx, current, now, reads);
    // Asking for what is already so changes nothing: no new version, no history row.
    if (canonicalJson(applied) === canonicalJson(current)) return { result: current, history: [], writes: [] };
    const next: SliceRecord = { ...applied, version: current.version + 1, updatedAt: now.toISOString() };
    const writes: PendingWrite[] = [];
    if (deferWrite) writes.push(this.slices.saveStatement(next));
    else await this.slices.save(tx, next);
    if (applied.targeting !== current.targeting || applied.rolledBackSegments !== current.rolledBackSegments) await this.slices.replaceSegmentLinks(tx, next);
    return { result: next, history: [...recorded, { action, sliceKey: next.key, before: current, after: next }], writes };
  }

  /**
   * setRollout inside a running change, checked by the exposure guards like every exposure change
   * (a plan advancing its step: a freeze window refuses it as it refuses a person).
   */
  setRolloutWithin(tx: EntityManager, now: Date, args: SetRolloutArgs, actor: Actor): Promise<{ result: SliceRecord; history: HistoryDraft[] }> {
    const recorded: HistoryDraft[] = [];
    return this.changeWithin(
      tx,
      now,
      args,
      HistoryAction.ROLLOUT_SET,
      async (_tx, current) => {
        requireActive(current);
        const next = { ...current, basisPoints: toBasisPoints(args.percent) };
        if (canonicalJson(next) !== canonicalJson(current)) {
          await this.guards.check({ operation: 'setRollout', args, actor, tx, now, current, next, record: (draft) => recorded.push(draft) });
        }
        return next;
      },
      recorded,
    );
  }

  /** Marks a slice watched inside a running change (a plan that starts): SDKs then report it within seconds. */
  watchWithin(tx: EntityManager, now: Date, key: string): Promise<{ result: SliceRecord; history: HistoryDraft[] }> {
    return this.changeWithin(tx, now, { key }, HistoryAction.OBSERVATION_SET, (_tx, current) => {
      if (current.state === 'ARCHIVED') throw archived(current);
      const { watched: _w, shadowBasisPoints: _s, mismatchThresholdPpm: _m, ...rest } = current;
      return { ...rest, ...observationFields({ ...observationOf(current), watched: true }) };
    });
  }

  /** Loads a slice inside a change (the append lock is held), with `reads` in the same statement, and checks its version. */
  private async loadForChange(
    tx: EntityManager,
    key: string,
    expectedVersion: number | null | undefined,
    reads: readonly string[],
  ): Promise<{ current: SliceRecord; reads: unknown[] }> {
    const found = await this.slices.findWith(tx, key, reads);
    if (found === null) throw SliceException.notFound(key);
    const current = found.record;
    if (expectedVersion != null && expectedVersion !== current.version) {
      throw SliceException.staleVersion(key, expectedVersion, current.version);
    }
    return { current, reads: found.reads };
  }

  /** Refuses, as the targeting's references are refused (UNKNOWN_SEGMENT_REFERENCE on `field`), a segment that does not exist. */
  async requireSegment(tx: EntityManager, key: string, field: string): Promise<void> {
    if ((await this.segments.findMany([key], tx)).length > 0) return;
    throw new SwitchyardException('UNKNOWN_SEGMENT_REFERENCE', `${field}: no segment "${key}"`, { field, violations: [{ field, message: `no segment "${key}"` }] });
  }

  private async ensureSegmentsExist(tx: EntityManager, t: StoredTargeting, prefix: string): Promise<void> {
    const named: { field: string; key: string }[] = [
      ...t.include.map((key, i) => ({ field: `${prefix}include[${i}]`, key })),
      ...t.exclude.map((key, i) => ({ field: `${prefix}exclude[${i}]`, key })),
      ...t.rules.flatMap((r, i) => r.segments.map((key, j) => ({ field: `${prefix}rules[${i}].segments[${j}]`, key }))),
    ];
    if (named.length === 0) return;
    const found = new Set((await this.segments.findMany([...new Set(named.map((n) => n.key))], tx)).map((s) => s.key));
    const violations = named.filter((n) => !found.has(n.key)).map((n) => ({ field: n.field, message: `no segment "${n.key}"` }));
    if (violations.length > 0) {
      throw new SwitchyardException('UNKNOWN_SEGMENT_REFERENCE', `${violations[0]!.field}: ${violations[0]!.message}`, {
        field: violations[0]!.field,
        violations,
      });
    }
  }
}

function toStoredTargeting(t: { include: string[]; exclude: string[]; rules: RuleInput[] }): StoredTargeting {
  return {
    include: dedupe(t.include),
    exclude: dedupe(t.exclude),
    rules: t.rules.map((r) => ({ segments: dedupe(r.segments), basisPoints: toBasisPoints(r.percent) })),
  };
}

/** Inputs were validated by IsPercent; this cannot fail for them. */
function toBasisPoints(percent: number): number {
  const bp = percentToBasisPoints(percent);
  if (bp === null) throw new Error(`unvalidated percent ${percent}`);
  return bp;
}

/** Inputs were validated by IsFinePercent; this cannot fail for them. */
function toPartsPerMillion(percent: number): number {
  const ppm = percentToPartsPerMillion(percent);
  if (ppm === null) throw new Error(`unvalidated percent ${percent}`);
  return ppm;
}

function dedupe(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function requireActive(slice: SliceRecord): void {
  if (slice.state === 'ACTIVE') return;
  if (slice.state === 'ARCHIVED') throw archived(slice);
  throw new SliceException('SLICE_NOT_ACTIVE', `Slice "${slice.key}" is rolled back: resume it first (resume restores the configuration it had).`, {
    sliceKey: slice.key,
    state: slice.state,
  });
}

function archived(slice: SliceRecord): SliceException {
  return new SliceException('SLICE_ARCHIVED', `Slice "${slice.key}" is archived and can no longer change.`, { sliceKey: slice.key });
}
