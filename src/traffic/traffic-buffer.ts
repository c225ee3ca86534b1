/**
 * What one service instance has received and not yet written: decision counts per slice, app,
 * path and minute, the latest of what each SDK instance said, and which slices each instance
 * reported. Pure (no I/O, no timers, no clock): TrafficIngestService owns the schedule.
 *
 * Memory is bounded by entry counts. A report is taken whole or not at all: if its new entries
 * do not fit, it is refused (`add` returns false) and the caller counts it as dropped, so what
 * reaches the database is always complete reports, never half of one.
 */
import type { PathCounts, TrafficProtocol } from './traffic-report.js';

export const MINUTE_MS = 60_000;
/**
 * A report is placed at the middle of the time it covers (see `bucketStartFor`); a span longer
 * than this (an SDK that could not report for a day) is treated as this long.
 */
export const MAX_REPORT_SPAN_MS = 24 * 60 * MINUTE_MS;

export type TrafficPath = 'NEW' | 'LEGACY';

/** What the service learned about one SDK instance at `seenAt`. Times are the service's clock (epoch ms). */
export interface InstanceObservation {
  readonly protocol: TrafficProtocol;
  readonly appName: string;
  readonly instanceId: string;
  /** Null: not said this time (keep what is known). */
  readonly sdkName: string | null;
  readonly sdkVersion: string | null;
  /** The configuration revision it holds (was served); null: not said this time, or none. */
  readonly revision: number | null;
  /** When it last received configuration; null: not said, or never. */
  readonly syncedAt: number | null;
  readonly seenAt: number;
}

export interface BufferedCell {
  readonly sliceKey: string;
  readonly appName: string;
  readonly path: TrafficPath;
  /** Start of the minute, epoch ms. */
  readonly bucketStart: number;
  /** bigint: the sum of many reports' safe integers need not be one. */
  count: bigint;
}

export interface BufferedFollower {
  readonly sliceKey: string;
  readonly protocol: TrafficProtocol;
  readonly appName: string;
  readonly instanceId: string;
  reportedAt: number;
}

/** A drained buffer, each list in primary-key order (see TrafficRepository.write). */
export interface TrafficBatch {
  readonly cells: readonly BufferedCell[];
  readonly instances: readonly InstanceObservation[];
  readonly followers: readonly BufferedFollower[];
}

export interface BufferLimits {
  readonly maxCells: number;
  readonly maxInstances: number;
  readonly maxFollowers: number;
}

/**
 * About 200 bytes per entry: some 30 MB at most per service instance. A full report of the
 * largest size (10,000 slices, both paths) needs 20,000 cells; a fleet of 2,000 instances reporting
 * 20 slices each every minute needs about 80,000 cells per 5-second flush at worst.
 */
export const DEFAULT_BUFFER_LIMITS: BufferLimits = { maxCells: 100_000, maxInstances: 20_000, maxFollowers: 100_000 };

/** The counts of one report, placed in one minute. */
export interface CountsEntry {
  readonly bucketStart: number;
  readonly slices: Iterable<readonly [string, PathCounts]>;
}

export function minuteOf(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

/**
 * The minute a report's counts go to: the middle of the span it covers, on the service's clock.
 *
 * Why not the report's own `start`/`stop`: they are the SDK host's clock, which may be minutes off;
 * only their difference (the span) is trusted. Why the middle: a report every 60 s covers the
 * last minute; placing it at its middle keeps "the last 5 minutes" within half a report interval
 * of the truth at both ends, and with many instances reporting at random phases the per-minute
 * series is smooth. Spreading a report pro rata over the minutes it covers would be finer, but
 * would multiply the rows of a report by its span (an SDK back after an hour-long outage would
 * write 60 rows per slice); one bucket per report keeps writes bounded.
 */
export function bucketStartFor(receivedAt: number, start: number, stop: number): number {
  const span = Math.min(Math.max(stop - start, 0), MAX_REPORT_SPAN_MS);
  return minuteOf(receivedAt - span / 2);
}

/**
 * Combines what is known about an instance with a new observation, whichever arrived first (the
 * SQL upsert in TrafficRepository applies the same rule, since another service instance may have
 * written a newer one meanwhile):
 *  - last seen: the later;
 *  - SDK name and version: from the later observation that says them;
 *  - revision and last sync go together: from the observation with the later sync; one without a
 *    sync time (an SDK still on its bootstrap) only replaces one without a sync time either.
 */
export function mergeInstance(known: InstanceObservation, next: InstanceObservation): InstanceObservation {
  const sdkFromNext = next.sdkName !== null && (known.sdkName === null || next.seenAt >= known.seenAt);
  const syncFromNext =
    next.revision !== null &&
    (next.syncedAt !== null ? known.syncedAt === null || next.syncedAt >= known.syncedAt : known.syncedAt === null && next.seenAt >= known.seenAt);
  return {
    protocol: known.protocol,
    appName: known.appName,
    instanceId: known.instanceId,
    sdkName: sdkFromNext ? next.sdkName : known.sdkName,
    sdkVersion: sdkFromNext ? next.sdkVersion : known.sdkVersion,
    revision: syncFromNext ? next.revision : known.revision,
    syncedAt: syncFromNext ? next.syncedAt : known.syncedAt,
    seenAt: Math.max(known.seenAt, next.seenAt),
  };
}

const keyOf = (...parts: readonly (string | number)[]): string => JSON.stringify(parts);

function instanceKey(o: { protocol: string; appName: string; instanceId: string }): string {
  return keyOf(o.protocol, o.appName, o.instanceId);
}

export class TrafficBuffer {
  private cells = new Map<string, BufferedCell>();
  private instances = new Map<string, InstanceObservation>();
  private followers = new Map<string, BufferedFollower>();

  constructor(private readonly limits: BufferLimits = DEFAULT_BUFFER_LIMITS) {}

  get isEmpty(): boolean {
    return this.cells.size === 0 && this.instances.size === 0 && this.followers.size === 0;
  }

  /** Entries held, per kind. */
  get size(): { readonly cells: number; readonly instances: number; readonly followers: number } {
    return { cells: this.cells.size, instances: this.instances.size, followers: this.followers.size };
  }

  /** The fullest of the three, from 0 to 1: the service flushes early past one half. */
  get fill(): number {
    return Math.max(this.cells.size / this.limits.maxCells, this.instances.size / this.limits.maxInstances, this.followers.size / this.limits.maxFollowers);
  }

  /**
   * Adds an observation of an instance and, optionally, the decisions it reported (zero counts are
   * skipped; a slice with decisions makes the instance its follower as of `seenAt`).
   * Returns false, changing nothing, when the new entries do not fit.
   */
  add(instance: InstanceObservation, counts?: CountsEntry): boolean {
    const iKey = instanceKey(instance);
    const cellUpdates: { key: string; sliceKey: string; path: TrafficPath; count: bigint }[] = [];
    const followerKeys: { key: string; sliceKey: string }[] = [];
    if (counts !== undefined) {
      for (const [sliceKey, c] of counts.slices) {
        if (c.NEW + c.LEGACY === 0) continue;
        for (const path of ['NEW', 'LEGACY'] as const) {
          if (c[path] > 0) cellUpdates.push({ key: keyOf(sliceKey, counts.bucketStart, instance.appName, path), sliceKey, path, count: BigInt(c[path]) });
        }
        followerKeys.push({ key: keyOf(sliceKey, iKey), sliceKey });
      }
    }
    const newCells = cellUpdates.filter((u) => !this.cells.has(u.key)).length;
    const newFollowers = followerKeys.filter((f) => !this.followers.has(f.key)).length;
    const newInstance = this.instances.has(iKey) ? 0 : 1;
    if (
      this.cells.size + newCells > this.limits.maxCells ||
      this.followers.size + newFollowers > this.limits.maxFollowers ||
      this.instances.size + newInstance > this.limits.maxInstances
    ) {
      return false;
    }

    const known = this.instances.get(iKey);
    this.instances.set(iKey, known === undefined ? instance : mergeInstance(known, instance));
    for (const u of cellUpdates) {
      const cell = this.cells.get(u.key);
      if (cell !== undefined) cell.count += u.count;
      else this.cells.set(u.key, { sliceKey: u.sliceKey, appName: instance.appName, path: u.path, bucketStart: counts!.bucketStart, count: u.count });
    }
    for (const f of followerKeys) {
      const follower = this.followers.get(f.key);
      if (follower !== undefined) follower.reportedAt = Math.max(follower.reportedAt, instance.seenAt);
      else this.followers.set(f.key, { sliceKey: f.sliceKey, protocol: instance.protocol, appName: instance.appName, instanceId: instance.instanceId, reportedAt: instance.seenAt });
    }
    return true;
  }

  /** Takes everything out, sorted by primary key, and leaves the buffer empty. */
  drain(): TrafficBatch {
    const batch: TrafficBatch = {
      cells: [...this.cells.values()].sort(
        (a, b) => cmp(a.sliceKey, b.sliceKey) || a.bucketStart - b.bucketStart || cmp(a.appName, b.appName) || cmp(a.path, b.path),
      ),
      instances: [...this.instances.values()].sort((a, b) => cmp(a.protocol, b.protocol) || cmp(a.appName, b.appName) || cmp(a.instanceId, b.instanceId)),
      followers: [...this.followers.values()].sort(
        (a, b) => cmp(a.sliceKey, b.sliceKey) || cmp(a.protocol, b.protocol) || cmp(a.appName, b.appName) || cmp(a.instanceId, b.instanceId),
      ),
    };
    this.cells = new Map();
    this.instances = new Map();
    this.followers = new Map();
    return batch;
  }

  /**
   * Puts back a batch that could not be written (the database is down), merged with what arrived
   * since, as far as the limits allow. Returns the decisions that did not fit (dropped).
   */
  restore(batch: TrafficBatch): bigint {
    let dropped = 0n;
    for (const instance of batch.instances) {
      const key = instanceKey(instance);
      const known = this.instances.get(key);
      if (known !== undefined) this.instances.set(key, mergeInstance(known, instance));
      else if (this.instances.size < this.limits.maxInstances) this.instances.set(key, instance);
    }
    for (const cell of batch.cells) {
      const key = keyOf(cell.sliceKey, cell.bucketStart, cell.appName, cell.path);
      const held = this.cells.get(key);
      if (held !== undefined) held.count += cell.count;
      else if (this.cells.size < this.limits.maxCells) this.cells.set(key, { ...cell });
      else dropped += cell.count;
    }
    for (const follower of batch.followers) {
      const key = keyOf(follower.sliceKey, instanceKey(follower));
      const held = this.followers.get(key);
      if (held !== undefined) held.reportedAt = Math.max(held.reportedAt, follower.reportedAt);
      else if (this.followers.size < this.limits.maxFollowers) this.followers.set(key, { ...follower });
    }
    return dropped;
  }
}

/** Code-unit order: the same on every service instance, whatever its locale (see TrafficRepository.write). */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The decisions a batch holds. */
export function decisionsIn(batch: TrafficBatch): bigint {
  let total = 0n;
  for (const cell of batch.cells) total += cell.count;
  return total;
}
