import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InvalidInputException } from '../common/errors/switchyard.exception.js';
import { HistoryAction } from '../history/history-action.js';
import { type ExposureChange, type ExposureGuard, ExposureGuards } from '../slices/exposure-guards.js';
import { FreezeException } from './freeze.exception.js';
import { FreezeWindowsRepository } from './freeze-windows.repository.js';
import { FreezeWindowsService } from './freeze-windows.service.js';
import { raisesExposure } from './raises-exposure.js';

/**
 * Refuses a change that raises exposure while a freeze window covering the slice is on (at the
 * change's own time), with FREEZE_WINDOW and the window that ends last: `{ window, until, timeZone }`
 * (the plan runner reads exactly these). An admin's `freezeOverride` lets it through and is recorded
 * as a FREEZE_OVERRIDDEN row in the same transaction; an override where no window stops the change is
 * refused (INVALID_INPUT). Lowering passes; rollback never gets here.
 */
@Injectable()
export class FreezeGuard implements ExposureGuard, OnModuleInit {
  readonly name = 'freeze-windows';
  // Read with the slice (under the append lock), not by a statement of its own.
  readonly sliceRead = FreezeWindowsRepository.ALL_AS_JSON;

  constructor(
    private readonly guards: ExposureGuards,
    private readonly windows: FreezeWindowsService,
  ) {}

  onModuleInit(): void {
    this.guards.register(this);
  }

  async check(change: ExposureChange): Promise<void> {
    const override = change.args.freezeOverride ?? null;
    // An override is an admin's: refused from anyone else whether or not a window is on.
    if (override !== null && change.actor.role !== 'admin') throw FreezeException.overrideForbidden(change.actor.role);
    const active = raisesExposure(change.current, change.next)
      ? await this.windows.activeFor(
          [...new Set([...change.current.tags, ...change.next.tags])],
          change.now,
          change.tx,
          change.read === undefined ? undefined : FreezeWindowsRepository.fromJson(change.read),
        )
      : [];
    if (active.length === 0) {
      // An override is an audited act: one that lets nothing through would be neither used nor
      // recorded, so it is refused (the API stores what it accepts).
      if (override !== null) {
        throw InvalidInputException.field(
          'freezeOverride',
          'no freeze window stops this change (it does not raise exposure, or no window covering the slice is on): leave freezeOverride out',
        );
      }
      return;
    }
    const first = active[0]!;
    if (override === null) {
      throw new FreezeException(
        'FREEZE_WINDOW',
        `Freeze window "${first.window.key}" is on until ${first.until.toISOString()} (${first.window.timeZone}): exposure of "${change.next.key}" cannot be raised; lowering and rollback are allowed, an admin may override with a reason.`,
        { window: first.window.key, until: first.until.toISOString(), timeZone: first.window.timeZone, sliceKey: change.next.key },
      );
    }
    change.record({
      action: HistoryAction.FREEZE_OVERRIDDEN,
      sliceKey: change.next.key,
      before: null,
      after: {
        operation: change.operation,
        override,
        windows: active.map((p) => ({ key: p.window.key, until: p.until.toISOString(), timeZone: p.window.timeZone })),
      },
    });
  }
}
