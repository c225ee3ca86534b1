import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { TrafficPath } from './traffic-buffer.js';

/** Calls and failures of one app on one path (in a window, or in one step of a series). */
export interface PathSums {
  readonly appName: string;
  readonly path: TrafficPath;
  readonly calls: number;
  readonly failures: number;
}

/** One latency bucket's count of one app on one path. */
export interface LatencySums {
  readonly appName: string;
  readonly path: TrafficPath;
  readonly bucket: number;
  readonly count: number;
}

export interface ComparisonSums {
  readonly appName: string;
  readonly compared: number;
  readonly mismatches: number;
  readonly otherFailures: number;
  readonly timeouts: number;
}

/** The same, over the recent part of the window only (`sums` with `recentFrom`). */
export interface RecentPathSums extends PathSums {
  readonly recentCalls: number;
  readonly recentFailures: number;
}

/** Everything of one slice in one window, per app. */
export interface OutcomeSums {
  readonly paths: readonly PathSums[];
  readonly latency: readonly LatencySums[];
  readonly comparisons: readonly ComparisonSums[];
}

/** The same per step of a series (all apps, or the one asked for, summed); `start` is the step's. */
export interface SeriesSums {
  readonly paths: readonly (Omit<PathSums, 'appName'> & { readonly start: number })[];
  readonly latency: readonly (Omit<LatencySums, 'appName'> & { readonly start: number })[];
  readonly comparisons: readonly { readonly start: number; readonly compared: number; readonly mismatches: number }[];
}

export interface SampleRow {
  readonly at: string;
  readonly receivedAt: Date;
  readonly appName: string;
  readonly served: TrafficPath;
  readonly subject: string;
  readonly diff: string;
}

/** One slice's outcome rows over minutes [$2, $3), of app $4 (null: every app). */
const WHERE = `slice_key = $1 AND bucket_start >= $2 AND bucket_start < $3 AND ($4::text IS NULL OR app_name = $4)`;
/** A query's rows as one JSON array (a column of a statement that reads several in one snapshot). */
const asJson = (sql: string) => `(SELECT COALESCE(json_agg(q), '[]'::json) FROM (${sql}) q)`;
/** Calls and failures per app and path; with `recent`, also over minutes [$5, $3) (a FILTER on the same rows). */
const pathsSql = (recent: boolean) =>
  `SELECT app_name, path, sum(calls)::text AS calls, sum(failures)::text AS failures${
    recent
      ? `, COALESCE(sum(calls) FILTER (WHERE bucket_start >= $5), 0)::text AS recent_calls, COALESCE(sum(failures) FILTER (WHERE bucket_start >= $5), 0)::text AS recent_failures`
      : ''
  } FROM outcome_buckets WHERE ${WHERE} GROUP BY app_name, path`;
const LATENCY_SQL = `SELECT app_name, path, x.bucket, sum(x.count)::text AS count
  FROM outcome_buckets CROSS JOIN LATERAL unnest(latency_buckets, latency_counts) AS x(bucket, count)
  WHERE ${WHERE} GROUP BY app_name, path, x.bucket ORDER BY x.bucket`;
const COMPARISONS_SQL = `SELECT app_name, sum(compared)::text AS compared, sum(mismatches)::text AS mismatches, sum(other_failures)::text AS other_failures, sum(timeouts)::text AS timeouts
  FROM comparison_buckets WHERE ${WHERE} GROUP BY app_name`;
/** Decisions per app over minutes [$2, $3) (usage reports). */
const DECISIONS_SQL = `SELECT app_name, COALESCE(sum(count) FILTER (WHERE path = 'NEW'), 0)::text AS new, COALESCE(sum(count) FILTER (WHERE path = 'LEGACY'), 0)::text AS legacy
  FROM traffic_buckets WHERE slice_key = $1 AND bucket_start >= $2 AND bucket_start < $3 GROUP BY app_name`;
/** The apps with an instance that reported the slice at or after $6 (at most 1,000). */
const FOLLOWERS_SQL = `SELECT app_name FROM traffic_followers WHERE slice_key = $1 AND last_reported_at >= $6 GROUP BY app_name ORDER BY app_name COLLATE "C" LIMIT 1000`;

interface PathRow {
  app_name: string;
  path: TrafficPath;
  calls: string;
  failures: string;
  recent_calls?: string;
  recent_failures?: string;
}
interface LatencyRow {
  app_name: string;
  path: TrafficPath;
  bucket: number;
  count: string;
}
interface ComparisonRow {
  app_name: string;
  compared: string;
  mismatches: string;
  other_failures: string;
  timeouts: string;
}

function pathSums(r: PathRow, recent: boolean): PathSums | RecentPathSums {
  const sums = { appName: r.app_name, path: r.path, calls: Number(r.calls), failures: Number(r.failures) };
  return recent ? { ...sums, recentCalls: Number(r.recent_calls), recentFailures: Number(r.recent_failures) } : sums;
}
const latencySums = (r: LatencyRow): LatencySums => ({ appName: r.app_name, path: r.path, bucket: Number(r.bucket), count: Number(r.count) });
const comparisonSums = (r: ComparisonRow): ComparisonSums => ({
  appName: r.app_name,
  compared: Number(r.compared),
  mismatches: Number(r.mismatches),
  otherFailures: Number(r.other_failures),
  timeouts: Number(r.timeouts),
});

/**
 * Reads of the outcome tables (migrations/1765100000000-CreateOutcomes.ts; TrafficRepository
 * writes and prunes them with the rest of a traffic batch). Sums come back as text and are read as
 * numbers: exact up to 2^53 (see traffic.model.ts). `appName` null means every app.
 */
@Injectable()
export class OutcomesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A slice's mismatch threshold in parts per million (`setObservation`); null for an unknown slice. */
  async mismatchThresholdPpm(sliceKey: string): Promise<number | null> {
    const rows = await this.dataSource.query<{ ppm: number }[]>('SELECT mismatch_threshold_ppm AS ppm FROM slices WHERE key = $1', [sliceKey]);
    return rows[0] === undefined ? null : Number(rows[0].ppm);
  }

  /**
   * Sums of one slice per app over minutes [from, until). With `recentFrom`, each path's row also
   * carries its sums over minutes [recentFrom, until) (a plan's recent window), from the same
   * statement (a FILTER on the same rows: no second read). `latency` false leaves the histograms
   * out (`latency` empty): the statement that unnests them is the costliest of the three, and a plan
   * without a latency gate reads its evidence every time new outcomes are written.
   */
  async sums(sliceKey: string, from: Date, until: Date, appName: string | null, recentFrom?: undefined, latency?: boolean): Promise<OutcomeSums>;
  async sums(
    sliceKey: string,
    from: Date,
    until: Date,
    appName: string | null,
    recentFrom: Date,
    latency?: boolean,
  ): Promise<OutcomeSums & { readonly paths: readonly RecentPathSums[] }>;
  async sums(sliceKey: string, from: Date, until: Date, appName: string | null, recentFrom?: Date, withLatency = true): Promise<OutcomeSums> {
    const params = [sliceKey, from, until, appName];
    const recent = recentFrom !== undefined;
    // One statement, so one snapshot: read as three queries on three connections, a flush
    // committing between them gave calls without their latencies (a percentile of null).
    const [row] = await this.dataSource.query<{ paths: PathRow[]; latency: LatencyRow[]; comparisons: ComparisonRow[] }[]>(
      `SELECT ${asJson(pathsSql(recent))} AS paths, ${withLatency ? asJson(LATENCY_SQL) : `'[]'::json`} AS latency, ${asJson(COMPARISONS_SQL)} AS comparisons`,
      recent ? [...params, recentFrom] : params,
    );
    return { paths: row!.paths.map((r) => pathSums(r, recent)), latency: row!.latency.map(latencySums), comparisons: row!.comparisons.map(comparisonSums) };
  }

  /**
   * Everything a plan's look reads of the slice's traffic, in one statement (one round trip: a
   * look follows every flush of the slice's outcomes, and on a loopback socket each statement's
   * write costs more than its rows): `sums` over [from, until) with the recent window from
   * `recentFrom` (histograms only when `latency`: a latency gate reads them), the decisions each
   * app reported (usage reports: the observed NEW share), and the apps that follow the slice:
   * those with an instance that reported it at or after `followingSince`.
   */
  async planEvidence(
    sliceKey: string,
    from: Date,
    until: Date,
    recentFrom: Date,
    followingSince: Date,
    latency: boolean,
  ): Promise<{
    sums: OutcomeSums & { readonly paths: readonly RecentPathSums[] };
    decisions: { appName: string; new: number; legacy: number }[];
    followers: string[];
  }> {
    const [row] = await this.dataSource.query<
      { paths: PathRow[]; latency: LatencyRow[]; comparisons: ComparisonRow[]; decisions: { app_name: string; new: string; legacy: string }[]; followers: string[] }[]
    >(
      `SELECT ${asJson(pathsSql(true))} AS paths, ${latency ? asJson(LATENCY_SQL) : `'[]'::json`} AS latency, ${asJson(COMPARISONS_SQL)} AS comparisons,
         ${asJson(DECISIONS_SQL)} AS decisions,
         (SELECT COALESCE(json_agg(f.app_name ORDER BY f.app_name COLLATE "C"), '[]'::json) FROM (${FOLLOWERS_SQL}) f) AS followers`,
      [sliceKey, from, until, null, recentFrom, followingSince],
    );
    return {
      sums: { paths: row!.paths.map((r) => pathSums(r, true) as RecentPathSums), latency: row!.latency.map(latencySums), comparisons: row!.comparisons.map(comparisonSums) },
      decisions: row!.decisions.map((r) => ({ appName: r.app_name, new: Number(r.new), legacy: Number(r.legacy) })),
      followers: row!.followers,
    };
  }

  /** Sums of one slice per step of `stepMinutes`, steps starting at `from`, over [from, until). Steps without rows are absent. */
  async series(sliceKey: string, from: Date, until: Date, stepMinutes: number, appName: string | null): Promise<SeriesSums> {
    const params = [sliceKey, from, until, appName, stepMinutes];
    const where = `slice_key = $1 AND bucket_start >= $2 AND bucket_start < $3 AND ($4::text IS NULL OR app_name = $4)`;
    const step = `date_bin(make_interval(mins => $5::int), bucket_start, $2::timestamptz)`;
    const [paths, latency, comparisons] = await Promise.all([
      this.dataSource.query<{ start: Date; path: TrafficPath; calls: string; failures: string }[]>(
        `SELECT ${step} AS start, path, sum(calls)::text AS calls, sum(failures)::text AS failures FROM outcome_buckets WHERE ${where} GROUP BY 1, path`,
        params,
      ),
      this.dataSource.query<{ start: Date; path: TrafficPath; bucket: number; count: string }[]>(
        `SELECT ${step} AS start, path, x.bucket, sum(x.count)::text AS count
         FROM outcome_buckets CROSS JOIN LATERAL unnest(latency_buckets, latency_counts) AS x(bucket, count)
         WHERE ${where} GROUP BY 1, path, x.bucket ORDER BY x.bucket`,
        params,
      ),
      this.dataSource.query<{ start: Date; compared: string; mismatches: string }[]>(
        `SELECT ${step} AS start, sum(compared)::text AS compared, sum(mismatches)::text AS mismatches FROM comparison_buckets WHERE ${where} GROUP BY 1`,
        params,
      ),
    ]);
    return {
      paths: paths.map((r) => ({ start: new Date(r.start).getTime(), path: r.path, calls: Number(r.calls), failures: Number(r.failures) })),
      latency: latency.map((r) => ({ start: new Date(r.start).getTime(), path: r.path, bucket: Number(r.bucket), count: Number(r.count) })),
      comparisons: comparisons.map((r) => ({ start: new Date(r.start).getTime(), compared: Number(r.compared), mismatches: Number(r.mismatches) })),
    };
  }

  /** The newest mismatch samples of one slice, newest first. */
  async samples(sliceKey: string, limit: number, appName: string | null): Promise<SampleRow[]> {
    const rows: { at: string; received_at: Date; app_name: string; served: TrafficPath; subject: string; diff: string }[] = await this.dataSource.query(
      `SELECT at, received_at, app_name, served, subject, diff FROM mismatch_samples
       WHERE slice_key = $1 AND ($3::text IS NULL OR app_name = $3)
       ORDER BY received_at DESC, id DESC LIMIT $2`,
      [sliceKey, limit, appName],
    );
    return rows.map((r) => ({ at: r.at, receivedAt: new Date(r.received_at), appName: r.app_name, served: r.served, subject: r.subject, diff: r.diff }));
  }
}
