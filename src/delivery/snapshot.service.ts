import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { SnapshotDefinition } from '@switchyard/client-sdk/core';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { CHANGE_FEED, type ChangeFeed } from './change-feed.js';
import { PublishedSnapshot } from './published-snapshot.js';

export { PublishedSnapshot };
import { SnapshotRepository } from './snapshot.repository.js';

/**
 * Keeps the current snapshot in memory, so delivery costs no query and goes on while the
 * database is down. Brought up to date when the change feed announces a newer revision (from any
 * instance), when the feed reconnects (announcements may have been lost), and, as a safety net,
 * when a periodic revision check finds it behind. Updates never overlap: requests that arrive
 * during one are folded into a single follow-up.
 *
 * An update reads only what history names as changed since the snapshot held (loadSince): a
 * rollback costs the same with 20 slices or 20,000, and that read is on the path of every
 * rollback to the SDKs. The whole configuration is read at start and after each (re)connection
 * of the feed.
 */
@Injectable()
export class SnapshotService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(SnapshotService.name);
  private published: PublishedSnapshot | null = null;
  private readonly listeners = new Set<(snapshot: PublishedSnapshot) => void>();
  private running: Promise<void> | null = null;
  private rerun = false;
  private resyncTimer: NodeJS.Timeout | null = null;
  private failing = false;
  /** The next update reads the whole configuration (at start, after the feed reconnected). */
  private readWhole = true;

  constructor(
    private readonly repository: SnapshotRepository,
    @Inject(CHANGE_FEED) private readonly feed: ChangeFeed,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh();
    await this.feed.start({
      onRevision: (revision) => {
        if (this.published === null || revision > this.published.revision) void this.refresh();
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
        await this.loadAndPublish();
      } while (this.rerun);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async loadAndPublish(): Promise<void> {
    let definition: SnapshotDefinition;
    const held = this.readWhole ? null : this.published;
    this.readWhole = false;
    try {
      definition = held === null ? await this.repository.load() : await this.repository.loadSince(held.definition);
    } catch (error) {
      if (held === null) this.readWhole = true;
      // Keep serving what we have; the next announcement or resync tries again.
      if (!this.failing) this.logger.warn({ msg: 'snapshot reload failed; serving the last one', error: (error as Error).message });
      this.failing = true;
      return;
    }
    if (this.failing) this.logger.log({ msg: 'snapshot reload works again', revision: definition.revision });
    this.failing = false;
    if (this.published !== null && definition.revision <= this.published.revision) return;
    this.publish(definition);
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
      if (this.published === null || revision > this.published.revision) await this.refresh();
    } catch {
      // Database unreachable: nothing to compare with; the current snapshot stays.
    }
  }
}
