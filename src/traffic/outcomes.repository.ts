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
    const where = `slice_key = $1 AND bucket_start >= $2 AND bucket_start < $3 AND ($4::text IS NULL OR app_name = $4)`;
    const recent =
      recentFrom === undefined
        ? ''
        : `, COALESCE(sum(calls) FILTER (WHERE bucket_start >= $5), 0)::text AS recent_calls, COALESCE(sum(failures) FILTER (WHERE bucket_start >= $5), 0)::text AS recent_failures`;
    const [paths, latency, comparisons] = await Promise.all([
      this.dataSource.query<{ app_name: string; path: TrafficPath; calls: string; failures: string; recent_calls?: string; recent_failures?: string }[]>(
        `SELECT app_name, path, sum(calls)::text AS calls, sum(failures)::text AS failures${recent} FROM outcome_buckets WHERE ${where} GROUP BY app_name, path`,
        recentFrom === undefined ? params : [...params, recentFrom],
      ),
      withLatency
        ? this.dataSource.query<{ app_name: string; path: TrafficPath; bucket: number; count: string }[]>(
            `SELECT app_name, path, x.bucket, sum(x.count)::text AS count
             FROM outcome_buckets CROSS JOIN LATERAL unnest(latency_buckets, latency_counts) AS x(bucket, count)
             WHERE ${where} GROUP BY app_name, path, x.bucket ORDER BY x.bucket`,
            params,
          )
        : [],
      this.dataSource.query<{ app_name: string; compared: string; mismatches: string; other_failures: string; timeouts: string }[]>(
        `SELECT app_name, sum(compared)::text AS compared, sum(mismatches)::text AS mismatches, sum(other_failures)::text AS other_failures, sum(timeouts)::text AS timeouts
         FROM comparison_buckets WHERE ${where} GROUP BY app_name`,
        params,
      ),
    ]);
    return {
      paths: paths.map((r) => ({
        appName: r.app_name,
        path: r.path,
        calls: Number(r.calls),
        failures: Number(r.failures),
        ...(recentFrom === undefined ? {} : { recentCalls: Number(r.recent_calls), recentFailures: Number(r.recent_failures) }),
      })),
      latency: latency.map((r) => ({ appName: r.app_name, path: r.path, bucket: Number(r.bucket), count: Number(r.count) })),
      comparisons: comparisons.map((r) => ({
        appName: r.app_name,
        compared: Number(r.compared),
        mismatches: Number(r.mismatches),
        otherFailures: Number(r.other_failures),
        timeouts: Number(r.timeouts),
      })),
    };
  }

  /**
   * What a plan's runner weighs besides the outcomes (src/plans): the decisions each app reported on
   * the slice over minutes [from, until) (usage reports: the observed NEW share), and the apps that
   * follow it: those with an instance that reported the slice at or after `followingSince`.
   */
  async decisionsAndFollowers(
    sliceKey: string,
    from: Date,
    until: Date,
    followingSince: Date,
  ): Promise<{ decisions: { appName: string; new: number; legacy: number }[]; followers: string[] }> {
    const [decisions, followers] = await Promise.all([
      this.dataSource.query<{ app_name: string; new: string; legacy: string }[]>(
        `SELECT app_name, COALESCE(sum(count) FILTER (WHERE path = 'NEW'), 0)::text AS new, COALESCE(sum(count) FILTER (WHERE path = 'LEGACY'), 0)::text AS legacy
         FROM traffic_buckets WHERE slice_key = $1 AND bucket_start >= $2 AND bucket_start < $3 GROUP BY app_name`,
        [sliceKey, from, until],
      ),
      this.dataSource.query<{ app_name: string }[]>(
        `SELECT app_name FROM traffic_followers WHERE slice_key = $1 AND last_reported_at >= $2 GROUP BY app_name ORDER BY app_name COLLATE "C" LIMIT 1000`,
        [sliceKey, followingSince],
      ),
    ]);
    return {
      decisions: decisions.map((r) => ({ appName: r.app_name, new: Number(r.new), legacy: Number(r.legacy) })),
      followers: followers.map((r) => r.app_name),
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
