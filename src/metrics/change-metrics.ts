import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Counter } from 'prom-client';
import { type CommittedChange, ChangeService } from '../changes/change.service.js';
import { HistoryAction } from '../history/history-action.js';
import { MetricsService } from './metrics.service.js';

/**
 * History appends and rollbacks, counted from ChangeService's commits: only what was committed
 * (a failed or rolled-back transaction, an idempotent retry, a rollback of a slice already on
 * LEGACY count nothing).
 */
@Injectable()
export class ChangeMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly appends: Counter<'action'>;
  private readonly rollbacks: Counter<'kind'>;
  private unsubscribe: (() => void) | null = null;

  constructor(
    metrics: MetricsService,
    private readonly moduleRef: ModuleRef,
  ) {
    const registers = [metrics.registry];
    this.appends = new Counter({
      name: 'switchyard_history_appends_total',
      help: 'History rows appended (committed), by action.',
      labelNames: ['action'],
      registers,
    });
    this.rollbacks = new Counter({
      name: 'switchyard_rollbacks_total',
      help: 'Slices rolled back to LEGACY (committed), by kind: "single" (rollback) or "all" (rollbackAll, with or without a tag: one per slice it rolled back).',
      labelNames: ['kind'],
      registers,
    });
    for (const action of Object.values(HistoryAction)) this.appends.inc({ action }, 0);
    for (const kind of ['single', 'all']) this.rollbacks.inc({ kind }, 0);
  }

  /** Looked up rather than injected, so that this module imports nothing (see MetricsModule). */
  onModuleInit(): void {
    this.unsubscribe = this.moduleRef.get(ChangeService, { strict: false }).onCommit((change) => this.record(change));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  private record(change: CommittedChange): void {
    let rolledBack = 0;
    let all = false;
    for (const row of change.history) {
      this.appends.inc({ action: row.action });
      if (row.action === HistoryAction.SLICE_ROLLED_BACK) rolledBack++;
      // rollbackAll writes one ROLLBACK_ALL row beside the SLICE_ROLLED_BACK row of each slice.
      else if (row.action === HistoryAction.ROLLBACK_ALL) all = true;
    }
    if (rolledBack > 0) this.rollbacks.inc({ kind: all ? 'all' : 'single' }, rolledBack);
  }
}
