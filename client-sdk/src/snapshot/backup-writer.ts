/**
 * Writes snapshots to the backup store in the background, one write at a time. When revisions
 * arrive faster than the store takes them, only the newest waiting one is written: the
 * intermediate ones are obsolete before they would land.
 */
import type { SnapshotStore } from '../ports/storage.js';

export class BackupWriter {
  private pending: string | undefined;
  private running: Promise<void> | undefined;

  /** @param onError - called once per failed write (the next revision tries again). */
  constructor(
    private readonly store: Pick<SnapshotStore, 'write'>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Schedules a write of `text`; returns at once. */
  write(text: string): void {
    this.pending = text;
    this.running ??= this.drain();
  }

  /** Resolves when every scheduled write has finished (or failed). */
  async flush(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending !== undefined) {
        const text = this.pending;
        this.pending = undefined;
        try {
          await this.store.write(text);
        } catch (error) {
          try {
            this.onError(error);
          } catch {
            // Reporting must not stop the writer (nor reject a promise nobody awaits).
          }
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
