import { Injectable } from '@nestjs/common';
import { InvalidInputException } from '../common/errors/switchyard.exception.js';
import { decodeCursor, toPage } from '../common/graphql/cursor.js';
import type { HistoryArgs } from './dto/history.args.js';
import { ChainVerifier, type ChainVerdict } from './hash-chain.js';
import { HistoryRepository, type HistoryRow } from './history.repository.js';

const SCAN_BATCH = 1_000;

/** The configuration of every slice and segment as history says it was. */
export interface ReplayedState {
  readonly slices: ReadonlyMap<string, unknown>;
  readonly segments: ReadonlyMap<string, unknown>;
  readonly lastSequence: string | null;
}

@Injectable()
export class HistoryService {
  constructor(private readonly history: HistoryRepository) {}

  async list(args: HistoryArgs) {
    const before = decodeCursor(args.after);
    if (before !== null && !/^\d{1,19}$/.test(before)) throw InvalidInputException.field('after', 'not a history cursor');
    const filter = { sliceKey: args.sliceKey ?? undefined, segmentKey: args.segmentKey ?? undefined };
    const rows = await this.history.page(filter, args.first + 1, before);
    return toPage(rows, args.first, (r) => r.sequence);
  }

  /** Walks the whole chain, oldest first, in batches: constant memory however long it is. */
  async verify(): Promise<ChainVerdict> {
    const verifier = new ChainVerifier();
    await this.scan((row) => verifier.accept(row));
    return verifier.verdict();
  }

  /**
   * Rebuilds every slice's and segment's configuration from history alone: each row's `after`
   * is the complete configuration, so the last one per key is its state (null when deleted).
   */
  async replay(): Promise<ReplayedState> {
    const slices = new Map<string, unknown>();
    const segments = new Map<string, unknown>();
    let lastSequence: string | null = null;
    await this.scan((row) => {
      if (row.sliceKey !== null) slices.set(row.sliceKey, row.after);
      if (row.segmentKey !== null) {
        if (row.after === null) segments.delete(row.segmentKey);
        else segments.set(row.segmentKey, row.after);
      }
      lastSequence = row.sequence;
      return true;
    });
    return { slices, segments, lastSequence };
  }

  /** Feeds rows oldest first to `visit` until it returns false or the rows run out. */
  private async scan(visit: (row: HistoryRow) => boolean): Promise<void> {
    let after: string | null = null;
    for (;;) {
      const rows = await this.history.scan(after, SCAN_BATCH);
      for (const row of rows) if (!visit(row)) return;
      if (rows.length < SCAN_BATCH) return;
      after = rows[rows.length - 1]!.sequence;
    }
  }
}
