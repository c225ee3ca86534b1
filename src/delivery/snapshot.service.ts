import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { jsonEqual, type SnapshotDefinition } from '@switchyard/client-sdk/core';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { ChangeService } from '../changes/change.service.js';
import { changesConfiguration } from '../history/history-action.js';
import { CHANGE_FEED, type ChangeFeed } from './change-feed.js';
import { PublishedSnapshot } from './published-snapshot.js';

export { PublishedSnapshot };
import { type LoadedConfiguration, SnapshotRepository } from './snapshot.repository.js';

/**
 * Every this many resyncs (5 minutes at the default 30 s), one of them reads the whole
 * configuration and compares it with the one held (see `check`).
 */
const CHECK_EVERY_RESYNCS = 10;

/**
 * Keeps the current snapshot in memory, so delivery costs no query and goes on while the
 * database is down. Brought up to date when a change commits through this instance (without
 * waiting for the change feed, which may itself still be reconnecting after an outage: the first
 * rollback after the database returns reaches this instance's streams at once), when the change
 * feed announces a newer revision (from any instance), when the feed reconnects (announcements
 * may have been lost), and, as a safety net, when a periodic revision check finds it behind. Updates never overlap: requests that arrive
 * during one are folded into a single follow-up.
 *
 * An update reads only what history names as changed since the configuration held (loadSince):
 * a rollback costs the same with 20 slices or 20,000, and that read is on the path of every
 * rollback to the SDKs. The whole configuration is read at start, after each (re)connection of
 * the feed, and every CHECK_EVERY_RESYNCS resyncs, when it is also compared with what is held.
 */
@Injectable()
export class SnapshotService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SnapshotService.name);
  private published: PublishedSnapshot | null = null;
  /** What `published` was made from, with the hash of its revision's history row. */
  private held: LoadedConfiguration | null = null;
  private readonly listeners = new Set<(snapshot: PublishedSnapshot) => void>();
  private running: Promise<void> | null = null;
  private rerun = false;
  /** The newest revision this instance committed itself (ChangeService.onCommit), 0 before any. */
  private committedHere = 0;
  /**
   * While an update runs: a revision it is sure to see, because that revision committed before the
   * update began reading. An announcement of it (the feed's echo of this instance's own commit) then
   * needs no second update.
   */
  private covered = 0;
  /** The newest announcement skipped as covered: checked once the update is done (it may have failed). */
  private skipped = 0;
  private resyncTimer: NodeJS.Timeout | null = null;
  private failing = false;
  /** The next update reads the whole configuration (at start, after the feed reconnected, to check). */
  private readWhole = true;
  private resyncs = 0;
  private unsubscribeCommits: (() => void) | null = null;

  constructor(
    private readonly repository: SnapshotRepository,
    @Inject(CHANGE_FEED) private readonly feed: ChangeFeed,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly changes: ChangeService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.unsubscribeCommits = this.changes.onCommit((change) => {
      // Its announcement follows through the feed too, and is skipped when this update covers it.
      if (!change.history.some((row) => changesConfiguration(row.action))) return;
      if (change.revision !== null) this.committedHere = Math.max(this.committedHere, change.revision);
      void this.refresh();
    });
    await this.refresh();
    await this.feed.start({
      onRevision: (revision) => {
        if (this.published !== null && revision <= this.published.revision) return;
        if (this.running !== null && revision <= this.covered) {
          this.skipped = Math.max(this.skipped, revision);
          return;
        }
        void this.refresh();
      },
      onConnected: () => {
        this.readWhole = true;
        void this.refresh();
      },
    });
    this.resyncTimer = setInterval(() => void this.resync(), this.config.snapshotResyncMs);
    this.resyncTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.unsubscribeCommits?.();
    if (this.resyncTimer !== null) clearInterval(this.resyncTimer);
    await this.feed.stop();
    await this.running?.catch(() => undefined);
  }

  /** The snapshot being served, or null before the first successful load. */
  current(): PublishedSnapshot | null {
    return this.published;
  }

  /** Called with every newly published snapshot. Returns the unsubscribe function. */
  subscribe(listener: (snapshot: PublishedSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads what changed and publishes if newer. Resolves when the update (and any it absorbed) is done. */
  refresh(): Promise<void> {
    if (this.running !== null) {
      this.rerun = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.rerun = false;
        // Committed before this read begins, so the read sees it (it may see newer ones too).
        this.covered = this.committedHere;
        await this.loadAndPublish();
        // An announcement skipped as covered by an update that then failed gets its own second
        // attempt, as it had before it was skipped (once: after that, resync).
        if (this.skipped > (this.published?.revision ?? 0)) this.rerun = true;
        this.skipped = 0;
      } while (this.rerun);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async loadAndPublish(): Promise<void> {
    const held = this.readWhole ? null : this.held;
    this.readWhole = false;
    let loaded: LoadedConfiguration;
    try {
      loaded = held === null ? await this.repository.load() : await this.repository.loadSince(held);
    } catch (error) {
      if (held === null) this.readWhole = true;
      // Keep serving what we have; the next announcement or resync tries again.
      if (!this.failing) this.logger.warn({ msg: 'snapshot reload failed; serving the last one', error: (error as Error).message });
      this.failing = true;
      return;
    }
    if (this.failing) this.logger.log({ msg: 'snapshot reload works again', revision: loaded.definition.revision });
    this.failing = false;
    const revision = loaded.definition.revision;
    if (this.published !== null && revision <= this.published.revision) {
      if (held === null && revision === this.held?.definition.revision) this.check(loaded);
      return;
    }
    this.held = loaded;
    this.publish(loaded.definition);
  }

  /**
   * A whole read at the revision held must equal what is held. It differs only when the database
   * was changed without going through Switchyard (a manual UPDATE: no history row, no revision),
   * which history-based updates cannot see. The SDKs hold that revision and ignore a second
   * snapshot of it, so the whole read becomes what the next change is read against: the delta
   * published then carries these differences too. Logged as an error: such a change is not in
   * the history, not hash-chained, and reaches the SDKs only with the next real change.
   */
  private check(whole: LoadedConfiguration): void {
    const held = this.held!;
    if (whole.hash === held.hash && jsonEqual(whole.definition, held.definition)) return;
    this.logger.error({
      msg: 'the configuration in the database differs from the snapshot of the same revision: it was changed outside Switchyard (no history); SDKs get it with the next change',
      revision: whole.definition.revision,
    });
    this.held = whole;
  }

  private publish(definition: SnapshotDefinition): void {
    const snapshot = new PublishedSnapshot(definition, this.published);
    this.published = snapshot;
    for (const listener of this.listeners) {
      try {
        listener(snapshot);
      } catch (error) {
        this.logger.error({ msg: 'snapshot listener failed', error: (error as Error).message });
      }
    }
  }

  private async resync(): Promise<void> {
    try {
      const revision = await this.repository.revision();
      const check = ++this.resyncs % CHECK_EVERY_RESYNCS === 0;
      if (check) this.readWhole = true;
      if (check || this.published === null || revision > this.published.revision) await this.refresh();
    } catch {
      // Database unreachable: nothing to compare with; the current snapshot stays.
    }
  }
}
