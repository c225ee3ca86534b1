import { Inject, Injectable } from '@nestjs/common';
import { InvalidInputException, SwitchyardException } from '../common/errors/switchyard.exception.js';
import { decodeCursor, toPage } from '../common/graphql/cursor.js';
import { CHECKPOINT_KEY, type CheckpointKeyHandle } from './checkpoint-key.provider.js';
import { CheckpointsRepository } from './checkpoints.repository.js';
import type { HistoryArgs } from './dto/history.args.js';
import { ChainVerifier, type ChainVerdict, POSITION_PATTERN } from './proof/hash-chain.js';
import { checkpointProblems, type HistoryCheckpoint, verifyCheckpoint } from './proof/history-checkpoint.js';
import { HistoryAction } from './history-action.js';
import { HistoryRepository, type HistoryRow } from './history.repository.js';

const SCAN_BATCH = 1_000;
const FREEZE_WINDOW_ACTIONS: ReadonlySet<string> = new Set([HistoryAction.FREEZE_WINDOW_CREATED, HistoryAction.FREEZE_WINDOW_UPDATED, HistoryAction.FREEZE_WINDOW_DELETED]);

/** The configuration of every slice, segment and freeze window as history says it was. */
export interface ReplayedState {
  readonly slices: ReadonlyMap<string, unknown>;
  readonly segments: ReadonlyMap<string, unknown>;
  readonly freezeWindows: ReadonlyMap<string, unknown>;
  readonly lastSequence: string | null;
}

@Injectable()
export class HistoryService {
  constructor(
    private readonly history: HistoryRepository,
    private readonly checkpoints: CheckpointsRepository,
    @Inject(CHECKPOINT_KEY) private readonly keyHandle: CheckpointKeyHandle,
  ) {}

  async list(args: HistoryArgs) {
    const before = decodeCursor(args.after);
    if (before !== null && !/^\d{1,19}$/.test(before)) throw InvalidInputException.field('after', 'not a history cursor');
    const filter = { sliceKey: args.sliceKey ?? undefined, segmentKey: args.segmentKey ?? undefined, planOf: args.planOf ?? undefined };
    const rows = await this.history.page(filter, args.first + 1, before);
    return toPage(rows, args.first, (r) => r.sequence);
  }

  /** Each slice's newest change (who, when, why), for the slices asked: one query whatever their number. */
  lastChanges(sliceKeys: readonly string[]): Promise<Map<string, HistoryRow>> {
    return this.history.lastOfSlices(sliceKeys);
  }

  /** Up to `first` rows in chain order from `fromPosition`, not past `toPosition` (exports). */
  async chain(fromPosition: string, toPosition: string | null, first: number): Promise<HistoryRow[]> {
    for (const [field, value] of [
      ['fromPosition', fromPosition],
      ['toPosition', toPosition],
    ] as const) {
      if (value !== null && !POSITION_PATTERN.test(value)) throw InvalidInputException.field(field, 'must be a position: a decimal integer, 1 or more');
    }
    if (toPosition !== null && BigInt(toPosition) < BigInt(fromPosition)) throw InvalidInputException.field('toPosition', 'must not be below fromPosition');
    return this.history.scan(fromPosition, first, toPosition);
  }

  /**
   * Walks the whole chain in position order, in batches (constant memory however long it is). With
   * a checkpoint, also proves the chain extends it: its signature is this service's, and the row at
   * its position has its hash. Without one, the newest checkpoint the database holds for this
   * service's key is used, if any: a check against someone who removed rows but not checkpoints;
   * an adversary with write access removes both, which only a published checkpoint shows.
   */
  async verify(checkpoint: HistoryCheckpoint | null = null): Promise<ChainVerdict> {
    const key = this.keyHandle.key;
    if (checkpoint !== null) {
      const problems = checkpointProblems(checkpoint);
      if (problems.length > 0) throw new InvalidInputException(problems.map((p) => ({ ...p, field: `checkpoint.${p.field}` })));
      if (key === null) {
        throw new SwitchyardException(
          'CHECKPOINTS_DISABLED',
          'This service runs with SWITCHYARD_CHECKPOINTS=off: it holds no key to verify a checkpoint with; verify offline with the public key.',
        );
      }
    }
    const anchor = checkpoint ?? (key === null ? null : await this.checkpoints.latestSignedBy(key.keyId));
    const verifier = new ChainVerifier({ checkpoints: anchor === null ? [] : [anchor] });
    const signature = anchor === null || key === null ? 'OK' : verifyCheckpoint(anchor, key.publicKey);
    if (signature !== 'OK') {
      verifier.reject(signature);
      return verifier.verdict();
    }
    await this.scan((row) => verifier.accept(row));
    return verifier.verdict();
  }

  /**
   * Rebuilds every slice's, segment's and freeze window's configuration from history alone: each
   * row's `after` is the complete configuration, so the last one per key is its state (null when
   * deleted). A freeze window's rows name no key column: its record (before or after) holds it. A
   * FREEZE_OVERRIDDEN row names its slice but records the override, not the slice's state.
   */
  async replay(): Promise<ReplayedState> {
    const slices = new Map<string, unknown>();
    const segments = new Map<string, unknown>();
    const freezeWindows = new Map<string, unknown>();
    let lastSequence: string | null = null;
    await this.scan((row) => {
      if (row.sliceKey !== null && row.action !== (HistoryAction.FREEZE_OVERRIDDEN as string)) slices.set(row.sliceKey, row.after);
      if (FREEZE_WINDOW_ACTIONS.has(row.action)) {
        const key = ((row.after ?? row.before) as { key: string }).key;
        if (row.after === null) freezeWindows.delete(key);
        else freezeWindows.set(key, row.after);
      }
      if (row.segmentKey !== null) {
        if (row.after === null) segments.delete(row.segmentKey);
        else segments.set(row.segmentKey, row.after);
      }
      lastSequence = row.sequence;
      return true;
    });
    return { slices, segments, freezeWindows, lastSequence };
  }

  /** Feeds rows in position order to `visit` until it returns false or the rows run out. */
  private async scan(visit: (row: HistoryRow) => boolean): Promise<void> {
    let from = '1';
    for (;;) {
      const rows = await this.history.scan(from, SCAN_BATCH);
      for (const row of rows) if (!visit(row)) return;
      if (rows.length < SCAN_BATCH) return;
      from = (BigInt(rows[rows.length - 1]!.position) + 1n).toString();
    }
  }
}
