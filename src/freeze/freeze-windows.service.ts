import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Actor } from '../access/auth.decorators.js';
import { InvalidInputException } from '../common/errors/switchyard.exception.js';
import { CLOCK, type Clock } from '../common/scheduling/clock.js';
import { ChangeService, type ResultCodec } from '../changes/change.service.js';
import { canonicalJson } from '../history/proof/hash-chain.js';
import { HistoryAction } from '../history/history-action.js';
import type { DeleteFreezeWindowArgs, FreezeWindowArgs, UpdateFreezeWindowArgs } from './dto/freeze-window.args.js';
import { activeAt, type FreezeSchedule, nextStart, scheduleProblems } from './freeze-schedule.js';
import { covers, type FreezeWindowRecord, normalizeSchedule, specOf } from './freeze-window-record.js';
import { FreezeException } from './freeze.exception.js';
import { FreezeWindowsRepository } from './freeze-windows.repository.js';

const CODEC: ResultCodec<FreezeWindowRecord> = { encode: (r) => r, decode: (j) => j as FreezeWindowRecord };

/** The most windows the service holds: each exposure change reads them all. */
export const MAX_FREEZE_WINDOWS = 100;

/** A freeze of one window: when it starts (null when on now) and ends. */
export interface FreezePeriodOf {
  readonly window: FreezeWindowRecord;
  readonly from: Date | null;
  readonly until: Date;
}

/**
 * Freeze windows: configuration like any other (history, idempotency, expected versions), and what
 * they say about a slice at an instant. Who may change them: admins and release managers create
 * and update windows that are not on; lifting a freeze (deleting a window, or changing one that is
 * on now) is an override, for admins only (the resolver and `requireAdminIfOn`).
 */
@Injectable()
export class FreezeWindowsService {
  constructor(
    private readonly windows: FreezeWindowsRepository,
    private readonly changes: ChangeService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async get(key: string): Promise<FreezeWindowRecord> {
    const w = await this.windows.find(key);
    if (w === null) throw FreezeException.notFound(key);
    return w;
  }

  list(): Promise<FreezeWindowRecord[]> {
    return this.windows.all();
  }

  now(): Date {
    return this.clock.now();
  }

  create(args: FreezeWindowArgs, actor: Actor): Promise<FreezeWindowRecord> {
    const schedule = toSchedule(args);
    return this.changes.run({
      operation: 'createFreezeWindow',
      args,
      actor,
      codec: CODEC,
      execute: async (tx, now) => {
        if ((await this.windows.find(args.key, tx)) !== null) {
          throw new FreezeException('FREEZE_WINDOW_ALREADY_EXISTS', `Freeze window "${args.key}" already exists.`, { window: args.key });
        }
        if ((await this.windows.count(tx)) >= MAX_FREEZE_WINDOWS) {
          throw new FreezeException('FREEZE_WINDOW_LIMIT_REACHED', `There are already ${MAX_FREEZE_WINDOWS} freeze windows: delete one first.`, { max: MAX_FREEZE_WINDOWS });
        }
        const at = now.toISOString();
        const record: FreezeWindowRecord = {
          key: args.key,
          description: args.description,
          timeZone: args.timeZone,
          schedule,
          tag: args.tag ?? null,
          version: 1,
          createdAt: at,
          updatedAt: at,
        };
        await this.windows.insert(tx, record);
        return { result: record, history: [{ action: HistoryAction.FREEZE_WINDOW_CREATED, before: null, after: record }] };
      },
    });
  }

  /** Replaces the window as a whole. Changing one that is on now may lift its freeze: admins only. */
  update(args: UpdateFreezeWindowArgs, actor: Actor): Promise<FreezeWindowRecord> {
    const schedule = toSchedule(args);
    return this.changes.run({
      operation: 'updateFreezeWindow',
      args,
      actor,
      codec: CODEC,
      execute: async (tx, now) => {
        const current = await this.loadForChange(tx, args.key, args.expectedVersion);
        const next: FreezeWindowRecord = { ...current, description: args.description, timeZone: args.timeZone, schedule, tag: args.tag ?? null };
        // Asking for what is already so changes nothing: no new version, no history row.
        if (canonicalJson(next) === canonicalJson(current)) return { result: current, history: [] };
        requireAdminIfOn(current, now, actor);
        const saved: FreezeWindowRecord = { ...next, version: current.version + 1, updatedAt: now.toISOString() };
        await this.windows.save(tx, saved);
        return { result: saved, history: [{ action: HistoryAction.FREEZE_WINDOW_UPDATED, before: current, after: saved }] };
      },
    });
  }

  /** Admins only (the resolver requires OVERRIDE_FREEZE): deleting a window lifts its freezes. */
  delete(args: DeleteFreezeWindowArgs, actor: Actor): Promise<FreezeWindowRecord> {
    return this.changes.run({
      operation: 'deleteFreezeWindow',
      args,
      actor,
      codec: CODEC,
      execute: async (tx) => {
        const current = await this.loadForChange(tx, args.key, args.expectedVersion);
        await this.windows.delete(tx, args.key);
        return { result: current, history: [{ action: HistoryAction.FREEZE_WINDOW_DELETED, before: current, after: null }] };
      },
    });
  }

  /** Every window covering a slice with these tags that is on at `now`, the one ending last first. */
  async activeFor(tags: readonly string[], now: Date, tx?: EntityManager, read?: readonly FreezeWindowRecord[]): Promise<FreezePeriodOf[]> {
    const windows = read ?? (await this.windows.all(tx));
    return windows
      .filter((w) => covers(w, tags))
      .flatMap((w) => {
        const status = activeAt(specOf(w), now);
        return status.active ? [{ window: w, from: null, until: status.until! }] : [];
      })
      .sort((a, b) => b.until.getTime() - a.until.getTime() || a.window.key.localeCompare(b.window.key));
  }

  /** This window's freeze on at `now` (from null), and its next one after it; each null when there is none. */
  periodsOf(w: FreezeWindowRecord, now: Date): { active: FreezePeriodOf | null; next: FreezePeriodOf | null } {
    const status = activeAt(specOf(w), now);
    const start = nextStart(specOf(w), now);
    return {
      active: status.active ? { window: w, from: null, until: status.until! } : null,
      next: start === null ? null : { window: w, from: start, until: activeAt(specOf(w), start).until! },
    };
  }

  /** The window covering these tags that starts next after `now` (after its own active freeze ends). */
  async nextFor(tags: readonly string[], now: Date): Promise<FreezePeriodOf | null> {
    const windows = await this.windows.all();
    let best: FreezePeriodOf | null = null;
    for (const w of windows.filter((x) => covers(x, tags))) {
      const start = nextStart(specOf(w), now);
      if (start === null || (best !== null && best.from!.getTime() <= start.getTime())) continue;
      best = { window: w, from: start, until: activeAt(specOf(w), start).until! };
    }
    return best;
  }

  private async loadForChange(tx: EntityManager, key: string, expectedVersion?: number | null): Promise<FreezeWindowRecord> {
    const current = await this.windows.find(key, tx);
    if (current === null) throw FreezeException.notFound(key);
    if (expectedVersion != null && expectedVersion !== current.version) {
      throw new FreezeException(
        'FREEZE_WINDOW_VERSION_CONFLICT',
        `Freeze window "${key}" is at version ${current.version}, not ${expectedVersion}: reload it and apply your change again.`,
        {
          window: key,
          expectedVersion,
          currentVersion: current.version,
        },
      );
    }
    return current;
  }
}

function requireAdminIfOn(current: FreezeWindowRecord, now: Date, actor: Actor): void {
  if (actor.role !== 'admin' && activeAt(specOf(current), now).active) throw FreezeException.overrideForbidden(actor.role);
}

/** The schedule the arguments describe, or INVALID_INPUT naming every field that is wrong. */
function toSchedule(args: FreezeWindowArgs): FreezeSchedule {
  const oneOff = args.from != null || args.until != null;
  if (oneOff && args.recurrence != null) throw InvalidInputException.field('recurrence', 'give either from and until (one-off) or recurrence, not both');
  if (!oneOff && args.recurrence == null) throw InvalidInputException.field('recurrence', 'give either from and until (one-off) or recurrence');
  if (oneOff && (args.from == null || args.until == null)) throw InvalidInputException.field(args.from == null ? 'from' : 'until', 'a one-off window needs both from and until');
  const schedule: FreezeSchedule = oneOff
    ? { kind: 'ONE_OFF', from: args.from!.toISOString(), until: args.until!.toISOString() }
    : {
        kind: 'RECURRING',
        daysOfMonth: args.recurrence!.daysOfMonth ?? null,
        weekdays: args.recurrence!.weekdays ?? null,
        at: args.recurrence!.at,
        duration: args.recurrence!.duration,
      };
  const problems = scheduleProblems({ timeZone: args.timeZone, schedule });
  if (problems.length > 0) throw new InvalidInputException(problems);
  return normalizeSchedule(schedule);
}
