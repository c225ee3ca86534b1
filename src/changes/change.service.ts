import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { Actor } from '../access/auth.decorators.js';
import { SwitchyardException } from '../common/errors/switchyard.exception.js';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { CLOCK, type Clock } from '../common/scheduling/clock.js';
import { boundedTransaction } from '../database/bounded-transaction.js';
import { ChangeNoticesRepository } from './change-notices.repository.js';
import { IdempotencyRepository } from './idempotency.repository.js';
import { canonicalJson, chainHash, CURRENT_SCHEME, GENESIS_HASH } from '../history/proof/hash-chain.js';
import { changesConfiguration, type HistoryDraft } from '../history/history-action.js';
import { HistoryRepository, type HistoryRow } from '../history/history.repository.js';

/** Turns a result into JSON for the idempotency table and back, so a retry gets the same answer. */
export interface ResultCodec<T> {
  encode(result: T): unknown;
  decode(json: unknown): T;
}

/** What every mutation's arguments carry besides its own input. */
export interface ChangeArgs {
  readonly idempotencyKey?: string | null;
  readonly reason?: string | null;
}

export interface ChangeRequest<T> {
  /** The mutation's name; part of what an idempotency key is bound to. */
  readonly operation: string;
  /**
   * The mutation's arguments as received. The reason goes to history; everything but the
   * idempotency key is what a retry must send again unchanged.
   */
  readonly args: ChangeArgs;
  readonly actor: Actor;
  readonly codec: ResultCodec<T>;
  /**
   * Does the change on `tx` and says what history to append. Runs after the append lock is
   * held, so what it reads is the latest committed state and nothing changes under it.
   * Returning no history rows means nothing changed.
   */
  execute(tx: EntityManager, now: Date): Promise<{ result: T; history: readonly HistoryDraft[]; writes?: readonly PendingWrite[] }>;
}

/**
 * A write that `execute` leaves to the statement appending its history rows (a data-modifying
 * CTE there), so the state change and its record reach the server in one round trip: one
 * fewer per change while the append lock is held. It runs after `execute` returns (nothing in
 * `execute` may read it back), exactly once, in the same transaction; a change that appends no
 * history runs its writes on their own. Placeholders are numbered from $1 within `sql`.
 */
export interface PendingWrite {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** What one committed change appended to history: told to `onCommit` listeners. */
export interface CommittedChange {
  readonly operation: string;
  readonly history: readonly HistoryDraft[];
  /** The chain's head once it committed: its last row's position and hash. */
  readonly head: { readonly position: string; readonly hash: string };
  /** The configuration revision it committed (its last configuration row's sequence); null when it changed none (tokens). */
  readonly revision: number | null;
}

/**
 * Runs every change to the control plane: one transaction holding the state change, its history
 * rows (hash-chained) and the idempotency record, all or nothing.
 */
@Injectable()
export class ChangeService {
  private readonly logger = new Logger(ChangeService.name);
  private readonly commitListeners = new Set<(change: CommittedChange) => void>();
  /**
   * The most a change's transaction may last (null on the embedded engine): it holds the append
   * lock, which every other change (a rollback too) waits for.
   */
  private readonly transactionTimeoutMs: number | null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly history: HistoryRepository,
    private readonly idempotency: IdempotencyRepository,
    private readonly notices: ChangeNoticesRepository,
    @Inject(APP_CONFIG) config: AppConfig,
    // The time of every change (history's recordedAt, what guards such as freeze windows judge by): injected so tests move it.
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.transactionTimeoutMs = config.databaseUrl === null ? null : config.databaseTransactionTimeoutMs;
  }

  /**
   * Called after each commit that appended history rows (metrics): never for a change that
   * failed or rolled back, an idempotent retry, or a call that changed nothing. Returns the
   * unsubscribe function.
   */
  onCommit(listener: (change: CommittedChange) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  async run<T>(request: ChangeRequest<T>): Promise<T> {
    const { idempotencyKey, ...input } = request.args;
    const requestHash = idempotencyKey ? hashRequest(request.operation, input) : null;
    // Set inside the transaction, reported only once it has committed (transaction() resolved).
    let appended: readonly HistoryDraft[] = [];
    let head: { position: string; hash: string; revision: number | null } = { position: '0', hash: GENESIS_HASH, revision: null };
    // The append lock opens the transaction, and the head is read under it (in START TRANSACTION's round trip on a PostgreSQL server).
    const outcome = await boundedTransaction(
      this.dataSource,
      this.transactionTimeoutMs,
      async (tx, opened) => {
        if (idempotencyKey && requestHash !== null) {
          const stored = await this.idempotency.find(tx, idempotencyKey);
          if (stored !== null) {
            if (stored.operation !== request.operation || stored.requestHash !== requestHash || stored.actor !== request.actor.name) {
              throw new SwitchyardException('IDEMPOTENCY_KEY_REUSED', 'This idempotency key was already used for a different request; use a new key for a new change.', {
                idempotencyKey,
              });
            }
            return request.codec.decode(stored.response);
          }
        }

        const now = this.clock.now();
        const { result, history, writes = [] } = await request.execute(tx, now);
        if (history.length > 0) {
          head = await this.append(tx, request, history, writes, now, HistoryRepository.headAndSequenceOf(opened));
          appended = history;
        } else {
          for (const write of writes) await tx.query(write.sql, [...write.params]);
        }
        if (idempotencyKey && requestHash !== null) {
          await this.idempotency.insert(tx, idempotencyKey, { operation: request.operation, requestHash, actor: request.actor.name, response: request.codec.encode(result) }, now);
        }
        return result;
      },
      { opening: HistoryRepository.APPEND_LOCK_STATEMENT, read: HistoryRepository.HEAD_AND_SEQUENCE_STATEMENT },
    );
    if (appended.length > 0) this.committed({ operation: request.operation, history: appended, head: { position: head.position, hash: head.hash }, revision: head.revision });
    return outcome;
  }

  /** The change is committed whatever a listener does: its failure is logged, not thrown to the caller. */
  private committed(change: CommittedChange): void {
    for (const listener of this.commitListeners) {
      try {
        listener(change);
      } catch (error) {
        this.logger.error({ msg: 'commit listener failed', operation: change.operation, error: String(error) });
      }
    }
  }

  /** Appends the rows after the head (the append lock is held: nobody else appends); returns the new head. */
  private async append(
    tx: EntityManager,
    request: ChangeRequest<unknown>,
    drafts: readonly HistoryDraft[],
    writes: readonly PendingWrite[],
    now: Date,
    opened: { head: { position: string; hash: string } | null; sequence: string },
  ): Promise<{ position: string; hash: string; revision: number | null }> {
    // The head and the first sequence value were read with the lock; more only for a change of several rows.
    const { head } = opened;
    const sequences = [opened.sequence, ...(await this.history.nextSequences(tx, drafts.length - 1))];
    const recordedAt = now.toISOString();
    let prevHash = head?.hash ?? GENESIS_HASH;
    // Gapless, unlike the sequence (a rolled-back transaction or a crash consumes sequence values).
    const headPosition = BigInt(head?.position ?? '0');
    const rows: HistoryRow[] = drafts.map((draft, i) => {
      const row = {
        position: (headPosition + BigInt(i + 1)).toString(),
        scheme: CURRENT_SCHEME,
        sequence: sequences[i]!,
        sliceKey: draft.sliceKey ?? null,
        segmentKey: draft.segmentKey ?? null,
        action: draft.action,
        // Round-trip through JSON so what is hashed is exactly what JSONB will hand back.
        before: jsonClone(draft.before),
        after: jsonClone(draft.after),
        actor: request.actor.name,
        reason: request.args.reason ?? null,
        idempotencyKey: request.args.idempotencyKey ?? null,
        requestId: request.actor.requestId,
        recordedAt,
        prevHash,
      };
      const hash = chainHash(row);
      prevHash = hash;
      return { ...row, hash };
    });
    const lastConfigurationRow = rows.findLast((row) => changesConfiguration(row.action));
    const revision = lastConfigurationRow?.sequence ?? null;
    await this.history.insertMany(tx, rows, revision === null ? null : this.notices.revisionNotice(revision), writes);
    const last = rows[rows.length - 1]!;
    return { position: last.position, hash: last.hash, revision: revision === null ? null : Number(revision) };
  }
}

function hashRequest(operation: string, input: unknown): string {
  return createHash('sha256').update(operation).update('\n').update(canonicalJson(input)).digest('hex');
}

function jsonClone(value: unknown): unknown {
  return value === undefined || value === null ? null : JSON.parse(JSON.stringify(value));
}
