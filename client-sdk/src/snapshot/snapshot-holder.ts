/**
 * The snapshot holder: the one compiled snapshot every decision reads, and the only code that
 * replaces it.
 *
 * What it guarantees, whoever offers a snapshot (the stream, a poll, the bootstrap, the backup):
 *  - decisions never see a half-made snapshot: a new one is compiled whole, then swapped in;
 *  - an unusable snapshot or delta changes nothing: the last good one keeps answering, and the
 *    failure is reported;
 *  - revisions from the service only grow: an older one (from an instance lagging behind the
 *    others) is refused, since going back even briefly would undo a rollback or flip subjects
 *    between stacks;
 *  - a delta is applied only on top of exactly its base revision; otherwise it says it needs the
 *    whole snapshot, and the synchroniser (sync/) fetches it;
 *  - every new revision from the service is kept in the backup store, in the background.
 *
 * It decides nothing about the network (when to fetch what): that is the synchroniser's business.
 */
import { applyDelta, compactSnapshot, compileSnapshot, definitionOf, type CompiledSnapshot, type SnapshotDefinition } from '../core/index.js';
import { describeError, SwitchyardError, type SwitchyardOperation } from '../errors.js';
import type { Clock, Random } from '../ports/clock.js';
import type { SnapshotReader, SnapshotStore } from '../ports/storage.js';
import { BackupWriter } from './backup-writer.js';

/** Where the snapshot being used came from. `none`: no configuration yet, every decision is LEGACY (`UNKNOWN_SLICE`). */
export type SnapshotSource = 'none' | 'bootstrap' | 'backup' | 'service';

/** A new revision from the service, now in use. */
export interface ServiceSnapshotChange {
  readonly previous: CompiledSnapshot;
  /** The revision used before, or null when there was no configuration. */
  readonly previousRevision: number | null;
  readonly current: CompiledSnapshot;
  /** The changed slices when a delta said which; undefined when only comparing the definitions can tell. */
  readonly changedSlices: readonly string[] | undefined;
}

/** What became of a `delta` event. */
export type DeltaOutcome =
  /** In use now. */
  | 'applied'
  /** Nothing to do: that revision (or a newer one) is already in use. */
  | 'held'
  /** Not applicable to what is held (another base revision), or unusable: fetch the whole snapshot. */
  | 'needs-snapshot';

export interface SnapshotHolderOptions {
  readonly clock: Clock;
  readonly random: Random;
  /** Where snapshots from the service are kept, and read back at start; undefined: nowhere. */
  readonly backup: SnapshotStore | undefined;
  /** Told every unusable snapshot, refused revision, unreadable or unwritable store. */
  readonly report: (error: SwitchyardError) => void;
  /** Told every new revision from the service once it is in use (not bootstrap or backup: they are already stored somewhere). */
  readonly onServiceSnapshot: (change: ServiceSnapshotChange) => void;
}

/** How soon after a delta its overlay is folded (plus up to as much again, so a fleet does not do it in the same millisecond). */
const COMPACT_DELAY_MS = 1_000;

const NO_CONFIGURATION: CompiledSnapshot = compileSnapshot({ revision: 0, slices: [], segments: [] });

export class SnapshotHolder {
  // What decisions read. Replaced as a whole on every new revision, never mutated.
  private compiled: CompiledSnapshot = NO_CONFIGURATION;
  private heldRevision: number | null = null;
  private heldSource: SnapshotSource = 'none';
  private closed = false;
  /** Folds a delta's changes into the snapshot's main map a moment after it is applied (see compactSoon). */
  private cancelCompaction: (() => void) | undefined;
  private readonly backupWriter: BackupWriter | undefined;

  constructor(private readonly options: SnapshotHolderOptions) {
    const { backup } = options;
    if (backup !== undefined) {
      this.backupWriter = new BackupWriter(backup, (error) =>
        options.report(new SwitchyardError('BACKUP_WRITE_FAILED', 'backup', `cannot write the backup to ${backup.name}: ${describeError(error)}`, { cause: error })),
      );
    }
  }

  /** The snapshot decisions read (the hot path: one field read). */
  get current(): CompiledSnapshot {
    return this.compiled;
  }

  /** The revision of the snapshot in use, or null when there is none. */
  get revision(): number | null {
    return this.heldRevision;
  }

  get source(): SnapshotSource {
    return this.heldSource;
  }

  /** The revision we hold from the service (sent as Last-Event-ID / If-None-Match), if any. */
  heldServiceRevision(): number | undefined {
    // Not the bootstrap's or backup's revision: they may come from another environment or hold
    // content the service no longer has under that number. Until the service itself has sent a
    // snapshot, ask for the full one.
    return this.heldSource === 'service' && this.heldRevision !== null ? this.heldRevision : undefined;
  }

  /**
   * Bootstrap and backup, whichever holds the newer revision (the other if that one does not
   * compile), else nothing (LEGACY everywhere). Newer wins because both came from the service at
   * some point: a backup written during an incident holds its rollback, and an older bootstrap
   * baked into the build must not undo it while the service is unreachable.
   */
  async loadInitial(bootstrap: SnapshotReader | undefined): Promise<void> {
    const candidates: { definition: unknown; source: 'bootstrap' | 'backup' }[] = [];
    if (bootstrap !== undefined) {
      const definition = await this.readBootstrap(bootstrap);
      if (definition !== undefined) candidates.push({ definition, source: 'bootstrap' });
    }
    const backup = await this.readBackup();
    if (backup !== undefined) candidates.push({ definition: backup, source: 'backup' });
    candidates.sort((a, b) => revisionOf(b.definition) - revisionOf(a.definition));
    for (const candidate of candidates) if (this.install(candidate.definition, candidate.source)) return;
  }

  /** The backup's snapshot; undefined when there is none yet or it cannot be read (reported). */
  private async readBackup(): Promise<unknown> {
    const backup = this.options.backup;
    if (backup === undefined) return undefined;
    try {
      const text = await backup.read();
      return text === undefined ? undefined : JSON.parse(text); // undefined: first start on this host
    } catch (error) {
      // A corrupt or unreadable backup is reported and ignored: the service will send a fresh snapshot.
      this.options.report(new SwitchyardError('BACKUP_READ_FAILED', 'backup', `cannot read the backup from ${backup.name}: ${describeError(error)}`, { cause: error }));
      return undefined;
    }
  }

  private async readBootstrap(bootstrap: SnapshotReader): Promise<unknown> {
    try {
      const text = await bootstrap.read();
      if (text === undefined) throw new Error('it does not exist');
      return JSON.parse(text);
    } catch (error) {
      this.options.report(new SwitchyardError('BOOTSTRAP_FAILED', 'bootstrap', `cannot read the bootstrap from ${bootstrap.name}: ${describeError(error)}`, { cause: error }));
      return undefined;
    }
  }

  /** A snapshot's JSON text from the service. */
  offerSnapshot(text: string, operation: 'stream' | 'poll'): void {
    if (this.closed) return;
    let definition: unknown;
    try {
      definition = JSON.parse(text);
    } catch (error) {
      this.options.report(new SwitchyardError('INVALID_SNAPSHOT', operation, `the service sent a snapshot that is not JSON: ${describeError(error)}`, { cause: error }));
      return;
    }
    this.install(definition, 'service', operation, text);
  }

  /**
   * A `delta` event's JSON text: the change from the revision we hold to the next (PROTOCOL.md).
   * Applied only on top of exactly its base revision, reusing every compiled slice it leaves alone.
   */
  offerDelta(text: string): DeltaOutcome {
    if (this.closed) return 'held';
    let delta: { revision?: unknown; baseRevision?: unknown } | null;
    try {
      delta = JSON.parse(text) as typeof delta;
    } catch (error) {
      this.options.report(new SwitchyardError('INVALID_SNAPSHOT', 'stream', `the service sent a delta that is not JSON: ${describeError(error)}`, { cause: error }));
      return 'needs-snapshot';
    }
    const held = this.heldServiceRevision();
    const revision = delta?.revision;
    // Already in use (a poll brought it first).
    if (held !== undefined && typeof revision === 'number' && revision <= held) return 'held';
    // An event was missed, or a poll moved us past its base: only the whole snapshot is safe.
    if (held === undefined || delta?.baseRevision !== held) return 'needs-snapshot';
    let applied: ReturnType<typeof applyDelta>;
    try {
      // Cost in proportion to the change: the slices it carries are compiled, the rest reused.
      applied = applyDelta(this.compiled, delta);
    } catch (error) {
      this.options.report(new SwitchyardError('INVALID_SNAPSHOT', 'stream', `unusable delta from the service: ${describeError(error)}`, { cause: error }));
      return 'needs-snapshot';
    }
    this.use(applied.snapshot, 'service', { changedSlices: applied.changedSlices });
    this.compactSoon();
    return 'applied';
  }

  /** Compiles and switches to a snapshot. Returns false (and keeps the current one) when it is not usable. */
  private install(definition: unknown, source: Exclude<SnapshotSource, 'none'>, operation: SwitchyardOperation = source === 'service' ? 'poll' : source, text?: string): boolean {
    const revision = typeof definition === 'object' && definition !== null ? (definition as { revision?: unknown }).revision : undefined;
    const held = source === 'service' ? this.heldServiceRevision() : undefined;
    if (held !== undefined && typeof revision === 'number') {
      // Already in use (the stream and a poll both brought it): nothing to compile.
      if (revision === held) return true;
      if (revision < held) {
        // Revisions only grow: an older one comes from an instance behind the others. Going back
        // even briefly would undo a rollback or flip subjects between stacks; the next event repairs it.
        this.options.report(new SwitchyardError('STALE_SNAPSHOT', operation, `the service sent revision ${revision}, older than the ${held} in use; ignored`));
        return false;
      }
    }

    let compiled: CompiledSnapshot;
    try {
      compiled = compileSnapshot(definition as SnapshotDefinition);
    } catch (error) {
      // Not shaped like a snapshot (compileSnapshot's TypeError): keep answering from the last good one.
      const code = source === 'bootstrap' ? 'BOOTSTRAP_FAILED' : source === 'backup' ? 'BACKUP_READ_FAILED' : 'INVALID_SNAPSHOT';
      this.options.report(new SwitchyardError(code, operation, `unusable snapshot from the ${source}: ${describeError(error)}`, { cause: error }));
      return false;
    }
    this.use(compiled, source, { text });
    return true;
  }

  /**
   * A delta's snapshot decides through a small overlay of what changed (a second lookup, about 4 ns
   * a decision). Folding it costs a copy of the slice map, so it happens a moment later, off the
   * path of the change: a rollback reaches decisions first, full speed comes back a second after.
   */
  private compactSoon(): void {
    if (this.cancelCompaction !== undefined || this.closed) return;
    this.cancelCompaction = this.options.clock.setTimer(
      () => {
        this.cancelCompaction = undefined;
        // Nothing new meanwhile changes what decisions read: the folded snapshot decides identically.
        this.compiled = compactSnapshot(this.compiled);
      },
      COMPACT_DELAY_MS + this.options.random() * COMPACT_DELAY_MS,
    );
  }

  /**
   * Switches decisions to `compiled`; for what the service sent, also keeps the backup and tells
   * `onServiceSnapshot`.
   *
   * @param change - the snapshot's JSON text when it came whole (written to the backup as is), the
   *   changed slices when a delta said which.
   */
  private use(
    compiled: CompiledSnapshot,
    source: Exclude<SnapshotSource, 'none'>,
    change: { readonly text?: string | undefined; readonly changedSlices?: readonly string[] },
  ): void {
    const previous = this.compiled;
    const previousRevision = this.heldRevision;
    this.compiled = compiled;
    this.heldRevision = compiled.revision;
    this.heldSource = source;
    if (source !== 'service') return;
    // Only what the service sent is worth keeping: a bootstrap or backup is already stored somewhere.
    this.backupWriter?.write(change.text ?? JSON.stringify(definitionOf(compiled)));
    this.options.onServiceSnapshot({ previous, previousRevision, current: compiled, changedSlices: change.changedSlices });
  }

  /** No snapshot is taken from now on (a closed client keeps answering from the one it holds); pending compaction is dropped. */
  close(): void {
    this.closed = true;
    this.cancelCompaction?.();
    this.cancelCompaction = undefined;
  }

  /** Resolves when every scheduled backup write has finished (or failed). */
  async flush(): Promise<void> {
    await this.backupWriter?.flush();
  }
}

/** A snapshot's revision for ordering candidates; anything unreadable sorts last. */
function revisionOf(definition: unknown): number {
  const revision = typeof definition === 'object' && definition !== null ? (definition as { revision?: unknown }).revision : undefined;
  return typeof revision === 'number' && Number.isFinite(revision) ? revision : -Infinity;
}
