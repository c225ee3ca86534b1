/**
 * What one service instance has received and not yet written: decision counts per slice, app,
 * path and minute, the latest of what each SDK instance said, and which slices each instance
 * reported. Pure (no I/O, no timers, no clock): TrafficIngestService owns the schedule.
 *
 * Memory is bounded by entry counts: in all, and the count cells of each app and of each token
 * (so that one reporter cannot take the room of the others). A report is taken whole or not at
 * all: if its new entries do not fit, it is refused (`add` says why) and the caller counts it as
 * dropped, so what reaches the database is always complete reports, never half of one.
 *
 * No cell can hold what the database cannot: counts saturate at MAX_CELL_COUNT (the largest
 * PostgreSQL bigint), here and in TrafficRepository's upsert, so no report can make a flush fail
 * with "bigint out of range".
 */
import type { ComparisonReport, PathCounts, PathOutcomeReport, SliceCoverageReport, SliceOutcomeReport, TrafficProtocol } from './traffic-report.js';

export const MINUTE_MS = 60_000;
/**
 * A report is placed at the middle of the time it covers (see `bucketStartFor`); a span longer
 * than this (an SDK that could not report for a day) is treated as this long.
 */
export const MAX_REPORT_SPAN_MS = 24 * 60 * MINUTE_MS;

export type TrafficPath = 'NEW' | 'LEGACY';

/** The largest PostgreSQL bigint: a cell's count saturates there (see TrafficRepository.write). */
export const MAX_CELL_COUNT = 2n ** 63n - 1n;

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
  /**
   * The Unleash client specification it declared when served `revision` (its `Unleash-Client-Spec`
   * header: which form of each slice it was served, src/compat/unleash/unleash-constraints.ts);
   * null: none declared, or not an Unleash SDK being served. Goes with `revision`.
   */
  readonly clientSpec: string | null;
  readonly seenAt: number;
  /** `seenAt` when this observation is the instance's goodbye (its SDK closed: a final report); else null. */
  readonly closedAt: number | null;
  /** How often it reports, when it says (our SDK's report, an Unleash SDK's registration); null: not said. */
  readonly reportIntervalMs: number | null;
}

export interface BufferedCell {
  readonly sliceKey: string;
  readonly appName: string;
  readonly path: TrafficPath;
  /** Start of the minute, epoch ms. */
  readonly bucketStart: number;
  /** bigint: the sum of many reports' safe integers need not be one. At most MAX_CELL_COUNT. */
  count: bigint;
  /** The token whose report made the cell (its per-token share); not written. */
  readonly owner: string;
}

export interface BufferedFollower {
  readonly sliceKey: string;
  readonly protocol: TrafficProtocol;
  readonly appName: string;
  readonly instanceId: string;
  reportedAt: number;
}

/**
 * Sums of outcomes (docs/outcomes.md) for one slice, app and minute, added to by every report:
 *  - `outcome`, per path: [calls, failures], and the latency histogram (log2pct-v1 bucket to count:
 *    merged by adding counts, exactly);
 *  - `comparison`: [compared, mismatches, otherFailures, timeouts];
 *  - `coverage`, per segment: [sampled, inSegment] (docs/segment-rollback.md, "Coverage").
 * Each is a row of its own table; they count towards the same limits as the decision cells.
 */
export interface OutcomeCell {
  readonly kind: 'outcome' | 'comparison' | 'coverage';
  /** The segment of a coverage cell; absent for the others. */
  readonly segmentKey?: string;
  readonly sliceKey: string;
  readonly appName: string;
  readonly bucketStart: number;
  /** Null for comparisons. */
  readonly path: TrafficPath | null;
  /** Saturating sums, each at most MAX_CELL_COUNT. */
  readonly sums: bigint[];
  /** Outcome cells: the histogram, bucket to count (each at most MAX_CELL_COUNT); empty for comparisons. */
  readonly latency: Map<number, bigint>;
  readonly owner: string;
}

/** A mismatch sample as it will be stored: what the SDK sent, with who sent it and when it arrived. */
export interface BufferedSample {
  readonly sliceKey: string;
  readonly appName: string;
  /** The service's clock (epoch ms): what "newest" means. */
  readonly receivedAt: number;
  /** The SDK's, as sent. */
  readonly at: string;
  readonly served: TrafficPath;
  readonly subject: string;
  readonly diff: string;
}

/** A drained buffer, each list in primary-key order (see TrafficRepository.write). */
export interface TrafficBatch {
  readonly cells: readonly BufferedCell[];
  readonly instances: readonly InstanceObservation[];
  readonly followers: readonly BufferedFollower[];
  /** By kind, then primary key. Absent: none. */
  readonly outcomeCells?: readonly OutcomeCell[];
  /** In the order received. Absent: none. */
  readonly samples?: readonly BufferedSample[];
}

/** The outcomes and comparisons of one report, placed in one minute. */
export interface OutcomesEntry {
  readonly bucketStart: number;
  readonly receivedAt: number;
  readonly outcomes: ReadonlyMap<string, SliceOutcomeReport>;
  readonly comparisons: ReadonlyMap<string, ComparisonReport>;
  /** Segment coverage per slice; absent: none. */
  readonly coverage?: ReadonlyMap<string, SliceCoverageReport>;
}

/**
 * Mismatch samples kept per slice: in the buffer, and in the database (TrafficRepository trims to
 * the newest this many at each write). Samples show what a mismatch looks like; the counts are
 * the evidence.
 */
export const SAMPLES_KEPT_PER_SLICE = 50;
/**
 * Samples held in the buffer at most (a diff is up to 4,096 characters: some 16 MB). Past it, the
 * samples of a report are dropped (counted) and its counts are still taken.
 */
export const MAX_BUFFERED_SAMPLES = 2_000;

/**
 * A follower mark (traffic_followers.last_reported_at) is read by the minute (the followers of a
 * slice "within N minutes", N at least 1), while the SDK reports a watched slice every 2 s: writing
 * every report's marks was some 25,000 row updates a second for 1,000 instances on 50 watched slices
 * (PostgreSQL at 4.6 % of a core for them, 1.25 % with this). A mark taken out to be written is not
 * taken again for this long: at each write, no written mark lags its instance's last report by this
 * much (see TrafficBuffer's marks); a new follower is marked at once.
 */
export const FOLLOWER_MARK_REFRESH_MS = 15_000;
/** Marks remembered as written, per generation of FOLLOWER_MARK_REFRESH_MS: past it, marks are written again. */
const MAX_REMEMBERED_MARKS = 200_000;

export interface BufferLimits {
  readonly maxCells: number;
  readonly maxInstances: number;
  readonly maxFollowers: number;
  /** Count cells of one app (by app name, whichever token reported them). */
  readonly maxCellsPerApp: number;
  /** Count cells made by the reports of one token. */
  readonly maxCellsPerToken: number;
}

/**
 * About 200 bytes per entry: some 30 MB at most per service instance. A full report of the
 * largest size (10,000 slices, both paths) needs 20,000 cells; a fleet of 2,000 instances reporting
 * 20 slices each every minute needs about 80,000 cells per 5-second flush at worst. The per-app
 * and per-token caps come from the configuration (SWITCHYARD_TRAFFIC_MAX_CELLS_PER_APP / _TOKEN).
 */
export const DEFAULT_BUFFER_LIMITS: BufferLimits = {
  maxCells: 100_000,
  maxInstances: 20_000,
  maxFollowers: 100_000,
  maxCellsPerApp: 20_000,
  maxCellsPerToken: 50_000,
};

/** What became of a report offered to the buffer. */
export type AddOutcome = 'accepted' | 'cell_limit' | 'buffer_full';

/** The counts of one report, placed in one minute. */
export interface CountsEntry {
  readonly bucketStart: number;
  readonly slices: ReadonlyMap<string, PathCounts>;
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
 *  - revision, last sync and declared client specification go together: from the observation with
 *    the later sync; one without a sync time (an SDK still on its bootstrap) only replaces one
 *    without a sync time either;
 *  - goodbye: from the later observation (a final report, then nothing; or an instance id heard from
 *    again after one), a goodbye winning a tie;
 *  - report interval: from the later observation that says one.
 */
export function mergeInstance(known: InstanceObservation, next: InstanceObservation): InstanceObservation {
  const sdkFromNext = next.sdkName !== null && (known.sdkName === null || next.seenAt >= known.seenAt);
  const syncFromNext =
    next.revision !== null && (next.syncedAt !== null ? known.syncedAt === null || next.syncedAt >= known.syncedAt : known.syncedAt === null && next.seenAt >= known.seenAt);
  return {
    protocol: known.protocol,
    appName: known.appName,
    instanceId: known.instanceId,
    sdkName: sdkFromNext ? next.sdkName : known.sdkName,
    sdkVersion: sdkFromNext ? next.sdkVersion : known.sdkVersion,
    revision: syncFromNext ? next.revision : known.revision,
    syncedAt: syncFromNext ? next.syncedAt : known.syncedAt,
    clientSpec: syncFromNext ? next.clientSpec : known.clientSpec,
    seenAt: Math.max(known.seenAt, next.seenAt),
    closedAt: next.seenAt > known.seenAt ? next.closedAt : next.seenAt < known.seenAt ? known.closedAt : (next.closedAt ?? known.closedAt),
    reportIntervalMs: next.reportIntervalMs !== null && (known.reportIntervalMs === null || next.seenAt >= known.seenAt) ? next.reportIntervalMs : known.reportIntervalMs,
  };
}

function instanceKey(o: { protocol: string; appName: string; instanceId: string }): string {
  return JSON.stringify([o.protocol, o.appName, o.instanceId]);
}

/*
 * Cell keys. A report adds to some 100 to 150 cells (50 slices, both paths, its followers), 500
 * times a second with a fleet of 1,000 watching instances, so no key is made per cell: the cells
 * of one kind, minute, path (or segment) and app are held together under a group key made once per
 * report, and within a group by slice key (a string the parsed report holds already). Group keys
 * join their parts by NUL, the app name last: a kind, a number, a path or a segment key
 * (SEGMENT_KEY_PATTERN) hold no NUL, so no two groups share a key whatever the app name.
 */
function countsGroupOf(bucketStart: number, path: TrafficPath, appName: string): string {
  return `${bucketStart}\u0000${path}\u0000${appName}`;
}

function outcomesGroupOf(kind: OutcomeCell['kind'], bucketStart: number, pathOrSegment: string | null, appName: string): string {
  return `${kind}\u0000${bucketStart}\u0000${pathOrSegment ?? ''}\u0000${appName}`;
}

/** Values by group key, then by slice key (see above), with their count. */
class GroupedCells<V> {
  private readonly groups = new Map<string, Map<string, V>>();
  size = 0;

  /** The group's values by slice key; undefined when it holds none. */
  group(groupKey: string): ReadonlyMap<string, V> | undefined {
    return this.groups.get(groupKey);
  }

  get(groupKey: string, sliceKey: string): V | undefined {
    return this.groups.get(groupKey)?.get(sliceKey);
  }

  /** Holds a value, or replaces the one held. */
  set(groupKey: string, sliceKey: string, value: V): void {
    const group = this.groups.get(groupKey);
    if (group !== undefined && group.has(sliceKey)) group.set(sliceKey, value);
    else this.hold(groupKey, sliceKey, value);
  }

  /** Holds a value not held yet. */
  hold(groupKey: string, sliceKey: string, value: V): void {
    let group = this.groups.get(groupKey);
    if (group === undefined) {
      group = new Map();
      this.groups.set(groupKey, group);
    }
    group.set(sliceKey, value);
    this.size++;
  }

  *values(): IterableIterator<V> {
    for (const group of this.groups.values()) yield* group.values();
  }
}

/** Whether `group` lacks `sliceKey`: a cell a report would add. */
const lacks = (group: ReadonlyMap<string, unknown> | undefined, sliceKey: string): boolean => group === undefined || !group.has(sliceKey);

/** A decision cell while it is held: its count a number while it is a safe integer (see addCount). */
interface HeldCell extends Omit<BufferedCell, 'count'> {
  count: Sum;
}

export class TrafficBuffer {
  private cells = new GroupedCells<HeldCell>();
  private instances = new Map<string, InstanceObservation>();
  /** By instance key, then slice key. */
  private followers = new GroupedCells<BufferedFollower>();
  /**
   * Follower marks taken out to be written (drain), with their time, in two generations of
   * FOLLOWER_MARK_REFRESH_MS by the marks' own times: a report's mark of a slice is kept only when
   * neither generation holds one of that instance and slice within the refresh (see the constant).
   */
  private marks = new GroupedCells<number>();
  private earlierMarks = new GroupedCells<number>();
  private marksSince = Number.NEGATIVE_INFINITY;
  /** Cells held per app name and per owner token: the shares the limits bound. */
  private cellsPerApp = new Map<string, number>();
  private cellsPerToken = new Map<string, number>();
  private outcomeCells = new GroupedCells<HeldOutcomeCell>();
  /** Outcome and comparison cells among them (not coverage): see holdsOutcomes. */
  private urgentOutcomeCells = 0;
  private samples: BufferedSample[] = [];
  private samplesPerSlice = new Map<string, number>();
  /** Samples not kept since start (the buffer's sample room full). */
  droppedSamples = 0;

  constructor(private readonly limits: BufferLimits = DEFAULT_BUFFER_LIMITS) {}

  get isEmpty(): boolean {
    return this.cells.size === 0 && this.instances.size === 0 && this.followers.size === 0 && this.outcomeCells.size === 0 && this.samples.length === 0;
  }

  /**
   * Whether outcomes or comparisons are waiting: the service writes those sooner
   * (SWITCHYARD_OUTCOMES_FLUSH_MS). Not segment coverage: nothing waits on it, and nearly every
   * report carries some, which would put every write on the faster cadence.
   */
  get holdsOutcomes(): boolean {
    return this.urgentOutcomeCells > 0 || this.samples.length > 0;
  }

  /** Entries held, per kind. */
  get size(): { readonly cells: number; readonly instances: number; readonly followers: number } {
    return { cells: this.cells.size, instances: this.instances.size, followers: this.followers.size };
  }

  /** Outcome cells (of every kind) and mismatch samples held. */
  get outcomeSize(): { readonly outcomeCells: number; readonly samples: number } {
    return { outcomeCells: this.outcomeCells.size, samples: this.samples.length };
  }

  /** Cells of every kind: what maxCells bounds. */
  private get allCells(): number {
    return this.cells.size + this.outcomeCells.size;
  }

  /** The fullest of the three, from 0 to 1: the service flushes early past one half. */
  get fill(): number {
    return Math.max(this.allCells / this.limits.maxCells, this.instances.size / this.limits.maxInstances, this.followers.size / this.limits.maxFollowers);
  }

  /** Cells held now for one app, and for one token. */
  cellsOf(share: { readonly app?: string; readonly token?: string }): number {
    return share.app !== undefined ? (this.cellsPerApp.get(share.app) ?? 0) : (this.cellsPerToken.get(share.token ?? '') ?? 0);
  }

  /**
   * Adds an observation of an instance and, optionally, the decisions it reported under `token`
   * (zero counts are skipped; a slice with decisions makes the instance its follower as of
   * `seenAt`). Changes nothing unless the outcome is `accepted`: `cell_limit` when the app's or
   * the token's share of cells would go over its cap, `buffer_full` when the buffer would.
   *
   * Two passes over the report: the first counts the entries it would add (against the limits),
   * the second adds its figures. Both find a report's cells by the same group keys, made once.
   */
  add(instance: InstanceObservation, counts: CountsEntry | undefined, token: string, outcomes?: OutcomesEntry): AddOutcome {
    const appName = instance.appName;
    const iKey = instanceKey(instance);
    const newGroup = counts === undefined ? '' : countsGroupOf(counts.bucketStart, 'NEW', appName);
    const legacyGroup = counts === undefined ? '' : countsGroupOf(counts.bucketStart, 'LEGACY', appName);
    const groups = outcomes === undefined ? undefined : outcomeGroupsOf(outcomes.bucketStart, appName);

    let newCells = 0;
    let newFollowers = 0;
    if (counts !== undefined) {
      const heldNew = this.cells.group(newGroup);
      const heldLegacy = this.cells.group(legacyGroup);
      const followed = this.followers.group(iKey);
      for (const [sliceKey, c] of counts.slices) {
        if (c.NEW + c.LEGACY === 0) continue;
        if (c.NEW > 0 && lacks(heldNew, sliceKey)) newCells++;
        if (c.LEGACY > 0 && lacks(heldLegacy, sliceKey)) newCells++;
        if (lacks(followed, sliceKey) && !this.markedRecently(iKey, sliceKey, instance.seenAt)) newFollowers++;
      }
    }
    if (outcomes !== undefined) newCells += this.newOutcomeCells(outcomes, groups!, appName);
    const newInstance = this.instances.has(iKey) ? 0 : 1;
    if (newCells > 0 && (this.cellsOf({ app: appName }) + newCells > this.limits.maxCellsPerApp || this.cellsOf({ token }) + newCells > this.limits.maxCellsPerToken)) {
      return 'cell_limit';
    }
    if (
      this.allCells + newCells > this.limits.maxCells ||
      this.followers.size + newFollowers > this.limits.maxFollowers ||
      this.instances.size + newInstance > this.limits.maxInstances
    ) {
      return 'buffer_full';
    }

    const known = this.instances.get(iKey);
    this.instances.set(iKey, known === undefined ? instance : mergeInstance(known, instance));
    if (counts !== undefined) {
      for (const [sliceKey, c] of counts.slices) {
        if (c.NEW + c.LEGACY === 0) continue;
        if (c.NEW > 0) this.addToCell(newGroup, sliceKey, 'NEW', c.NEW, appName, counts.bucketStart, token);
        if (c.LEGACY > 0) this.addToCell(legacyGroup, sliceKey, 'LEGACY', c.LEGACY, appName, counts.bucketStart, token);
        const follower = this.followers.get(iKey, sliceKey);
        if (follower !== undefined) follower.reportedAt = Math.max(follower.reportedAt, instance.seenAt);
        else if (!this.markedRecently(iKey, sliceKey, instance.seenAt))
          this.followers.hold(iKey, sliceKey, { sliceKey, protocol: instance.protocol, appName, instanceId: instance.instanceId, reportedAt: instance.seenAt });
      }
    }
    if (outcomes !== undefined) {
      this.addOutcomes(outcomes, groups!, appName, token);
      for (const [sliceKey, c] of outcomes.comparisons) {
        for (const sample of c.samples) {
          this.addSample({ sliceKey, appName, receivedAt: outcomes.receivedAt, at: sample.at, served: sample.served, subject: sample.subject, diff: sample.diff });
        }
      }
    }
    return 'accepted';
  }

  /** Whether a mark of this instance and slice was taken out to be written less than FOLLOWER_MARK_REFRESH_MS before `at`. */
  private markedRecently(iKey: string, sliceKey: string, at: number): boolean {
    const marked = this.marks.get(iKey, sliceKey) ?? this.earlierMarks.get(iKey, sliceKey);
    return marked !== undefined && at - marked < FOLLOWER_MARK_REFRESH_MS && at >= marked;
  }

  /** Remembers the marks of a drained batch as written (a batch put back is held again, whatever this says). */
  private rememberMarks(followers: readonly BufferedFollower[]): void {
    for (const f of followers) {
      if (f.reportedAt - this.marksSince >= FOLLOWER_MARK_REFRESH_MS) {
        this.earlierMarks = this.marks;
        this.marks = new GroupedCells();
        this.marksSince = f.reportedAt;
      }
      if (this.marks.size < MAX_REMEMBERED_MARKS) this.marks.set(instanceKey(f), f.sliceKey, f.reportedAt);
    }
  }

  private addToCell(group: string, sliceKey: string, path: TrafficPath, count: number, appName: string, bucketStart: number, owner: string): void {
    const cell = this.cells.get(group, sliceKey);
    if (cell !== undefined) cell.count = addCount(cell.count, count);
    else this.putCell(group, sliceKey, { sliceKey, appName, path, bucketStart, count, owner });
  }

  /** The outcome, comparison and coverage cells a report would add (zero counts skipped, as addOutcomes does). */
  private newOutcomeCells(entry: OutcomesEntry, groups: OutcomeGroups, appName: string): number {
    let added = 0;
    const heldNew = this.outcomeCells.group(groups.NEW);
    const heldLegacy = this.outcomeCells.group(groups.LEGACY);
    for (const [sliceKey, slice] of entry.outcomes) {
      if (slice.NEW !== undefined && slice.NEW.calls > 0 && lacks(heldNew, sliceKey)) added++;
      if (slice.LEGACY !== undefined && slice.LEGACY.calls > 0 && lacks(heldLegacy, sliceKey)) added++;
    }
    const heldComparisons = this.outcomeCells.group(groups.comparison);
    for (const [sliceKey, c] of entry.comparisons) if (isComparing(c) && lacks(heldComparisons, sliceKey)) added++;
    for (const [sliceKey, c] of entry.coverage ?? []) {
      if (c.sampled === 0) continue;
      for (const segmentKey of c.segments.keys()) if (lacks(this.outcomeCells.group(outcomesGroupOf('coverage', entry.bucketStart, segmentKey, appName)), sliceKey)) added++;
    }
    return added;
  }

  /**
   * Adds a report's figures to their cells, holding new cells as needed: straight from the report,
   * nothing of it copied.
   */
  private addOutcomes(entry: OutcomesEntry, groups: OutcomeGroups, appName: string, owner: string): void {
    const at = { appName, bucketStart: entry.bucketStart, owner };
    for (const [sliceKey, slice] of entry.outcomes) {
      const next = slice.NEW;
      if (next !== undefined && next.calls > 0) addPathOutcome(this.outcomeCell(groups.NEW, 'outcome', sliceKey, 'NEW', at), next);
      const legacy = slice.LEGACY;
      if (legacy !== undefined && legacy.calls > 0) addPathOutcome(this.outcomeCell(groups.LEGACY, 'outcome', sliceKey, 'LEGACY', at), legacy);
    }
    for (const [sliceKey, c] of entry.comparisons) {
      if (!isComparing(c)) continue;
      const sums = this.outcomeCell(groups.comparison, 'comparison', sliceKey, null, at).sums;
      sums[0] = addCount(sums[0]!, c.compared);
      sums[1] = addCount(sums[1]!, c.mismatches);
      sums[2] = addCount(sums[2]!, c.otherFailures);
      sums[3] = addCount(sums[3]!, c.timeouts);
    }
    for (const [sliceKey, c] of entry.coverage ?? []) {
      if (c.sampled === 0) continue;
      for (const [segmentKey, inSegment] of c.segments) {
        const group = outcomesGroupOf('coverage', entry.bucketStart, segmentKey, appName);
        const sums = this.outcomeCell(group, 'coverage', sliceKey, null, at, segmentKey).sums;
        sums[0] = addCount(sums[0]!, c.sampled);
        sums[1] = addCount(sums[1]!, inSegment);
      }
    }
  }

  /** The held cell, or a new one held (its share counted). */
  private outcomeCell(
    group: string,
    kind: OutcomeCell['kind'],
    sliceKey: string,
    path: TrafficPath | null,
    at: { readonly appName: string; readonly bucketStart: number; readonly owner: string },
    segmentKey?: string,
  ): HeldOutcomeCell {
    const held = this.outcomeCells.get(group, sliceKey);
    if (held !== undefined) return held;
    const cell: HeldOutcomeCell = {
      kind,
      ...(segmentKey === undefined ? {} : { segmentKey }),
      sliceKey,
      appName: at.appName,
      bucketStart: at.bucketStart,
      path,
      sums: kind === 'comparison' ? [0, 0, 0, 0] : [0, 0],
      latency: new Map(),
      owner: at.owner,
    };
    this.holdOutcomeCell(group, cell);
    return cell;
  }

  private holdOutcomeCell(group: string, cell: HeldOutcomeCell): void {
    this.outcomeCells.hold(group, cell.sliceKey, cell);
    if (cell.kind !== 'coverage') this.urgentOutcomeCells++;
    this.countShare(cell.appName, cell.owner);
  }

  /** Adds a cell to a held one, or holds a copy of it (its share counted): how a batch is put back. */
  private addOutcomeCell(group: string, cell: OutcomeCell): void {
    const held = this.outcomeCells.get(group, cell.sliceKey);
    if (held !== undefined) {
      for (let i = 0; i < held.sums.length; i++) held.sums[i] = saturatedSum(BigInt(held.sums[i]!), cell.sums[i]!);
      for (const [bucket, count] of cell.latency) held.latency.set(bucket, saturatedSum(BigInt(held.latency.get(bucket) ?? 0), count));
      return;
    }
    this.holdOutcomeCell(group, { ...cell, sums: cell.sums.map((n) => saturatedSum(0n, n)), latency: new Map(cell.latency) });
  }

  /** Keeps the newest SAMPLES_KEPT_PER_SLICE of a slice, MAX_BUFFERED_SAMPLES in all (then drops and counts). */
  private addSample(sample: BufferedSample): void {
    const held = this.samplesPerSlice.get(sample.sliceKey) ?? 0;
    if (held >= SAMPLES_KEPT_PER_SLICE) {
      const oldest = this.samples.findIndex((s) => s.sliceKey === sample.sliceKey);
      this.samples.splice(oldest, 1);
      this.samples.push(sample);
      this.droppedSamples++;
      return;
    }
    if (this.samples.length >= MAX_BUFFERED_SAMPLES) {
      this.droppedSamples++;
      return;
    }
    this.samples.push(sample);
    this.samplesPerSlice.set(sample.sliceKey, held + 1);
  }

  private putCell(group: string, sliceKey: string, cell: HeldCell): void {
    this.cells.hold(group, sliceKey, cell);
    this.countShare(cell.appName, cell.owner);
  }

  private countShare(appName: string, owner: string): void {
    this.cellsPerApp.set(appName, (this.cellsPerApp.get(appName) ?? 0) + 1);
    this.cellsPerToken.set(owner, (this.cellsPerToken.get(owner) ?? 0) + 1);
  }

  /** Takes everything out, sorted by primary key, and leaves the buffer empty. */
  drain(): TrafficBatch {
    const batch: TrafficBatch = {
      cells: [...this.cells.values()]
        .map((cell): BufferedCell => ({ ...cell, count: BigInt(cell.count) }))
        .sort((a, b) => cmp(a.sliceKey, b.sliceKey) || a.bucketStart - b.bucketStart || cmp(a.appName, b.appName) || cmp(a.path, b.path)),
      instances: [...this.instances.values()].sort((a, b) => cmp(a.protocol, b.protocol) || cmp(a.appName, b.appName) || cmp(a.instanceId, b.instanceId)),
      followers: [...this.followers.values()].sort(
        (a, b) => cmp(a.sliceKey, b.sliceKey) || cmp(a.protocol, b.protocol) || cmp(a.appName, b.appName) || cmp(a.instanceId, b.instanceId),
      ),
      outcomeCells: [...this.outcomeCells.values()]
        .map(asBigints)
        .sort(
          (a, b) =>
            cmp(a.kind, b.kind) ||
            cmp(a.sliceKey, b.sliceKey) ||
            a.bucketStart - b.bucketStart ||
            cmp(a.appName, b.appName) ||
            cmp(a.path ?? a.segmentKey ?? '', b.path ?? b.segmentKey ?? ''),
        ),
      samples: this.samples,
    };
    this.rememberMarks(batch.followers);
    this.outcomeCells = new GroupedCells();
    this.urgentOutcomeCells = 0;
    this.samples = [];
    this.samplesPerSlice = new Map();
    this.cells = new GroupedCells();
    this.instances = new Map();
    this.followers = new GroupedCells();
    this.cellsPerApp = new Map();
    this.cellsPerToken = new Map();
    return batch;
  }

  /**
   * Puts back a batch that could not be written (the database is down), merged with what arrived
   * since, as far as the buffer's bounds allow. Returns the decisions that did not fit (dropped).
   * The per-app and per-token caps are not applied to what was taken once (its cells count
   * towards them again, so new reports of a full share wait for the database).
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
      const group = countsGroupOf(cell.bucketStart, cell.path, cell.appName);
      const held = this.cells.get(group, cell.sliceKey);
      if (held !== undefined) held.count = saturatedSum(BigInt(held.count), cell.count);
      else if (this.cells.size < this.limits.maxCells) this.putCell(group, cell.sliceKey, { ...cell });
      else dropped += cell.count;
    }
    for (const follower of batch.followers) {
      const group = instanceKey(follower);
      const held = this.followers.get(group, follower.sliceKey);
      if (held !== undefined) held.reportedAt = Math.max(held.reportedAt, follower.reportedAt);
      else if (this.followers.size < this.limits.maxFollowers) this.followers.hold(group, follower.sliceKey, { ...follower });
    }
    for (const cell of batch.outcomeCells ?? []) {
      const group = outcomesGroupOf(cell.kind, cell.bucketStart, cell.path ?? cell.segmentKey ?? null, cell.appName);
      if (this.outcomeCells.get(group, cell.sliceKey) !== undefined || this.allCells < this.limits.maxCells) this.addOutcomeCell(group, cell);
    }
    for (const sample of batch.samples ?? []) this.addSample(sample);
    return dropped;
  }
}

/** Code-unit order: the same on every service instance, whatever its locale (see TrafficRepository.write). */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * An outcome cell while it is held: its sums are numbers as long as they are safe integers (a
 * bigint operation allocates, and a report adds to some 100 cells), bigints beyond (see addCount).
 * `drain` hands out OutcomeCells, all bigints.
 */
interface HeldOutcomeCell extends Omit<OutcomeCell, 'sums' | 'latency'> {
  readonly sums: Sum[];
  readonly latency: Map<number, Sum>;
}
type Sum = number | bigint;

/**
 * `held + count` (a count: a safe integer ≥ 0), exactly: a number while the sum is a safe integer
 * (the floating-point sum of two safe integers is exact when it is at most 2^53 - 1, and at least
 * 2^53 when the exact sum is), then a bigint saturating at MAX_CELL_COUNT.
 */
export function addCount(held: Sum, count: number): Sum {
  if (typeof held === 'number') {
    const sum = held + count;
    if (sum <= Number.MAX_SAFE_INTEGER) return sum;
    return saturatedSum(BigInt(held), BigInt(count));
  }
  return saturatedSum(held, BigInt(count));
}

function asBigints(cell: HeldOutcomeCell): OutcomeCell {
  const latency = new Map<number, bigint>();
  for (const [bucket, count] of cell.latency) latency.set(bucket, BigInt(count));
  return { ...cell, sums: cell.sums.map((n) => BigInt(n)), latency };
}

/** `a + b`, at most MAX_CELL_COUNT (counts are never negative). */
export function saturatedSum(a: bigint, b: bigint): bigint {
  const sum = a + b;
  return sum > MAX_CELL_COUNT ? MAX_CELL_COUNT : sum;
}

/** Rows in a batch, all tables together. */
export function rowsIn(batch: TrafficBatch): number {
  return batch.cells.length + batch.instances.length + batch.followers.length + (batch.outcomeCells?.length ?? 0) + (batch.samples?.length ?? 0);
}

/** The group keys of a report's outcome and comparison cells (see GroupedCells). */
interface OutcomeGroups {
  readonly NEW: string;
  readonly LEGACY: string;
  readonly comparison: string;
}

function outcomeGroupsOf(bucketStart: number, appName: string): OutcomeGroups {
  return {
    NEW: outcomesGroupOf('outcome', bucketStart, 'NEW', appName),
    LEGACY: outcomesGroupOf('outcome', bucketStart, 'LEGACY', appName),
    comparison: outcomesGroupOf('comparison', bucketStart, null, appName),
  };
}

/** A comparison report with anything to add (all zero: skipped). */
function isComparing(c: ComparisonReport): boolean {
  return c.compared + c.otherFailures + c.timeouts > 0;
}

/** Adds one path's calls, failures and histogram to its cell. */
function addPathOutcome(cell: HeldOutcomeCell, outcome: PathOutcomeReport): void {
  const sums = cell.sums;
  sums[0] = addCount(sums[0]!, outcome.calls);
  if (outcome.failures > 0) sums[1] = addCount(sums[1]!, outcome.failures);
  const latency = cell.latency;
  for (const [bucket, count] of outcome.latency) latency.set(bucket, addCount(latency.get(bucket) ?? 0, count));
}

/**
 * Two batches of about half the rows each, every list still in primary-key order (see
 * TrafficRepository.write): how a batch the database refused is narrowed down to the rows it
 * refuses (TrafficIngestService), so that one bad row cannot cost the others.
 */
export function splitBatch(batch: TrafficBatch): [TrafficBatch, TrafficBatch] {
  let room = Math.ceil(rowsIn(batch) / 2);
  const take = <T>(list: readonly T[]): [T[], T[]] => {
    const n = Math.min(room, list.length);
    room -= n;
    return [list.slice(0, n), list.slice(n)];
  };
  const [instancesA, instancesB] = take(batch.instances);
  const [followersA, followersB] = take(batch.followers);
  const [cellsA, cellsB] = take(batch.cells);
  const [outcomesA, outcomesB] = take(batch.outcomeCells ?? []);
  const [samplesA, samplesB] = take(batch.samples ?? []);
  return [
    { instances: instancesA, followers: followersA, cells: cellsA, outcomeCells: outcomesA, samples: samplesA },
    { instances: instancesB, followers: followersB, cells: cellsB, outcomeCells: outcomesB, samples: samplesB },
  ];
}

/** The decisions a batch holds. */
export function decisionsIn(batch: TrafficBatch): bigint {
  let total = 0n;
  for (const cell of batch.cells) total += cell.count;
  return total;
}
