import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../common/scheduling/clock.js';
import { HistoryRepository } from '../history/history.repository.js';
import { BatchLoader } from '../common/graphql/batch-loader.js';
import { type FollowerStatus, followerStatus, reportIntervalOf } from './follower-status.js';
import { type SegmentCoverageFigures, segmentCoverageOf } from './segment-coverage.js';
import { type ServedForm, ServedForms } from './served-forms.js';
import { MINUTE_MS, minuteOf } from './traffic-buffer.js';
import { type FollowerRow, TrafficRepository, type WindowTotals } from './traffic.repository.js';

/** Followers listed per slice at most (the list has no pages; 5,000 instances is a big fleet). */
export const MAX_FOLLOWERS = 5_000;

export interface MinuteBucket {
  readonly start: Date;
  readonly new: number;
  readonly legacy: number;
}

export interface Follower extends Omit<FollowerRow, 'reportIntervalMs'> {
  readonly upToDate: boolean;
  readonly status: FollowerStatus;
  /** The interval its status is computed with: what it said (bounded), else the default. */
  readonly reportIntervalMs: number;
  /** The form of the slice it is served (ServedForms); null when unknown. */
  readonly servedForm: ServedForm | null;
  readonly degradedReason: string | null;
}

const NO_TRAFFIC: WindowTotals = Object.freeze({
  last5Minutes: Object.freeze({ new: 0, legacy: 0 }),
  lastHour: Object.freeze({ new: 0, legacy: 0 }),
  last24Hours: Object.freeze({ new: 0, legacy: 0 }),
});

/**
 * The read side of traffic for one GraphQL request: every window ends with the current minute (as
 * of `now`, fixed for the request so that all fields agree), and the per-slice reads that a list
 * asks for once per slice are batched (BatchLoader).
 */
export class TrafficReader {
  private readonly until: number;
  private readonly totals: BatchLoader<WindowTotals>;
  private readonly changes: BatchLoader<number>;
  private readonly followerLoaders = new Map<number, BatchLoader<FollowerRow[]>>();

  constructor(
    private readonly traffic: TrafficRepository,
    private readonly history: HistoryRepository,
    private readonly forms: ServedForms,
    readonly now: number,
  ) {
    // Bucket starts before `until` count: the current minute is included, still filling.
    this.until = minuteOf(now) + MINUTE_MS;
    this.totals = new BatchLoader(
      (keys) =>
        this.traffic.windowTotals(keys, {
          last5Minutes: this.since(5),
          lastHour: this.since(60),
          last24Hours: this.since(1440),
          until: new Date(this.until),
        }),
      NO_TRAFFIC,
    );
    this.changes = new BatchLoader(async (keys) => {
      const revisions = await this.history.decisionRevisions(keys);
      return new Map([...revisions].map(([key, revision]) => [key, Number(revision)]));
    }, 0);
  }

  /** NEW / LEGACY over the last 5 minutes, hour and 24 hours. */
  windowTotals(sliceKey: string): Promise<WindowTotals> {
    return this.totals.load(sliceKey);
  }

  /** The configuration revision at which the slice's decisions last changed (HistoryRepository.decisionRevisions). */
  changedAtRevision(sliceKey: string): Promise<number> {
    return this.changes.load(sliceKey);
  }

  /** One bucket per minute of the last `minutes`, oldest first, minutes without traffic as zeros. */
  async buckets(sliceKey: string, minutes: number): Promise<MinuteBucket[]> {
    const from = this.until - minutes * MINUTE_MS;
    const rows = await this.traffic.minuteTotals(sliceKey, new Date(from), new Date(this.until));
    const byMinute = new Map<number, { new: number; legacy: number }>();
    for (const r of rows) {
      const at = r.bucketStart.getTime();
      const b = byMinute.get(at) ?? { new: 0, legacy: 0 };
      if (r.path === 'NEW') b.new += r.count;
      else b.legacy += r.count;
      byMinute.set(at, b);
    }
    const out: MinuteBucket[] = [];
    for (let at = from; at < this.until; at += MINUTE_MS) {
      const b = byMinute.get(at);
      out.push({ start: new Date(at), new: b?.new ?? 0, legacy: b?.legacy ?? 0 });
    }
    return out;
  }

  /** Totals per app over the last `minutes`, by app name. */
  byApp(sliceKey: string, minutes: number): Promise<{ appName: string; new: number; legacy: number }[]> {
    return this.traffic.appTotals(sliceKey, this.since(minutes), new Date(this.until));
  }

  /**
   * Instances that reported decisions for the slice within `withinMinutes`, whether each holds its
   * last change, whether it is still there (follower-status.ts), and the form of the slice each is
   * served.
   */
  async followers(sliceKey: string, withinMinutes: number): Promise<Follower[]> {
    let loader = this.followerLoaders.get(withinMinutes);
    if (loader === undefined) {
      const since = new Date(this.now - withinMinutes * MINUTE_MS);
      loader = new BatchLoader(async (keys) => {
        const grouped = new Map<string, FollowerRow[]>();
        for (const row of await this.traffic.followers(keys, since, MAX_FOLLOWERS)) {
          const list = grouped.get(row.sliceKey) ?? [];
          list.push(row);
          grouped.set(row.sliceKey, list);
        }
        return grouped;
      }, []);
      this.followerLoaders.set(withinMinutes, loader);
    }
    const [rows, changedAt] = await Promise.all([loader.load(sliceKey), this.changedAtRevision(sliceKey)]);
    return rows.map((row) => {
      // An Unleash SDK with no revision was never served by the service: its form is unknown.
      const served = this.forms.formOf(row.protocol, sliceKey, row.revision !== null, row.clientSpec);
      return {
        ...row,
        upToDate: row.revision !== null && row.revision >= changedAt,
        status: followerStatus(
          { revision: row.revision, lastSeenAt: row.lastSeenAt.getTime(), closedAt: row.closedAt?.getTime() ?? null, reportIntervalMs: row.reportIntervalMs },
          changedAt,
          this.now,
        ),
        reportIntervalMs: reportIntervalOf(row.reportIntervalMs),
        servedForm: served?.form ?? null,
        degradedReason: served?.reason ?? null,
      };
    });
  }

  /** Per segment in `segmentKeys`: how many of the slice's decisions of the last `minutes` it covered (segment-coverage.ts). */
  async segmentCoverage(sliceKey: string, segmentKeys: readonly string[], minutes: number): Promise<SegmentCoverageFigures[]> {
    const from = this.since(minutes);
    const until = new Date(this.until);
    const [sums, minutesTotals] = await Promise.all([this.traffic.segmentCoverage(sliceKey, from, until), this.traffic.minuteTotals(sliceKey, from, until)]);
    const decisions = minutesTotals.reduce((sum, r) => sum + r.count, 0);
    return segmentCoverageOf(segmentKeys, sums, decisions);
  }

  /** The start of the window of the last `minutes` minutes. */
  private since(minutes: number): Date {
    return new Date(this.until - minutes * MINUTE_MS);
  }
}

/** Traffic reads (GraphQL Slice.traffic, Slice.followers, Slice.changedAtRevision). */
@Injectable()
export class TrafficService {
  constructor(
    private readonly traffic: TrafficRepository,
    private readonly history: HistoryRepository,
    private readonly forms: ServedForms,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** A reader for one request (batches its loads; fixes its `now`, by the service's clock). */
  reader(now: number = this.clock.now().getTime()): TrafficReader {
    return new TrafficReader(this.traffic, this.history, this.forms, now);
  }
}
