import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { MAX_CELL_COUNT, type OutcomeCell, SAMPLES_KEPT_PER_SLICE, type TrafficBatch, type TrafficPath } from './traffic-buffer.js';
import type { TrafficProtocol } from './traffic-report.js';

/** Sums per path; numbers (a sum above 2^53 would lose precision: some 9 × 10^15 decisions). */
export interface PathTotals {
  new: number;
  legacy: number;
}

/** The three windows the Slice.traffic totals show, in one read. */
export interface WindowTotals {
  readonly last5Minutes: PathTotals;
  readonly lastHour: PathTotals;
  readonly last24Hours: PathTotals;
}

export interface WindowBounds {
  /** Bucket starts at or after these are in the window; `until` (exclusive) ends all three. */
  readonly last5Minutes: Date;
  readonly lastHour: Date;
  readonly last24Hours: Date;
  readonly until: Date;
}

export interface FollowerRow {
  readonly sliceKey: string;
  readonly protocol: TrafficProtocol;
  readonly appName: string;
  readonly instanceId: string;
  readonly sdkName: string | null;
  readonly sdkVersion: string | null;
  readonly revision: number | null;
  readonly lastSyncedAt: Date | null;
  /** The Unleash client specification it declared when last served (null: none, or not served). */
  readonly clientSpec: string | null;
  readonly lastSeenAt: Date;
  /** When it said goodbye (its SDK closed), if that is the last thing heard from it. */
  readonly closedAt: Date | null;
  /** How often it reports, as it said; null when it never said. */
  readonly reportIntervalMs: number | null;
}

/** The traffic tables (migrations/1764100000000-CreateTraffic.ts). The only code that queries them. */
@Injectable()
export class TrafficRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Writes a drained buffer: one statement per table (arrays through unnest, so the statement and
   * its 5 to 9 parameters stay the same size whatever the batch), in one transaction.
   *
   * - Rows go in primary-key order (the buffer sorts them), so that two service instances
   *   flushing overlapping rows at once lock them in the same order instead of deadlocking.
   * - Counts and follower marks of keys that are not slices are not kept (the join on `slices`):
   *   a host asking for a misspelt or long-gone slice must not fill the tables. (The service drops
   *   them before buffering already, against its snapshot; this is the database's own word.)
   * - A cell's count saturates at the largest bigint (as in the buffer: MAX_CELL_COUNT), summed
   *   as numeric, so that no sum of reports can fail the statement with "bigint out of range"
   *   and take the rest of the batch with it.
   * - Not idempotent: if the commit succeeds but its acknowledgement is lost, the caller puts the
   *   batch back and its counts are written twice. Counts are an observation, not a ledger; the
   *   alternative (dropping on every ambiguous failure) would lose far more.
   */
  async write(batch: TrafficBatch): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      if (batch.instances.length > 0) {
        const i = batch.instances;
        // The same rule as mergeInstance (traffic-buffer.ts): another instance of the service may
        // have written a newer observation of this SDK instance in the meantime.
        await tx.query(
          `INSERT INTO sdk_instances AS i (protocol, app_name, instance_id, sdk_name, sdk_version, revision, last_synced_at, last_seen_at, closed_at, report_interval_ms, client_spec)
           SELECT u.protocol, u.app_name, u.instance_id, u.sdk_name, u.sdk_version, u.revision, u.last_synced_at, u.last_seen_at, u.closed_at, u.report_interval_ms, u.client_spec
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::integer[], $11::text[])
                WITH ORDINALITY AS u(protocol, app_name, instance_id, sdk_name, sdk_version, revision, last_synced_at, last_seen_at, closed_at, report_interval_ms, client_spec, n)
           ORDER BY u.n
           ON CONFLICT (protocol, app_name, instance_id) DO UPDATE SET
             sdk_name = CASE WHEN EXCLUDED.sdk_name IS NOT NULL AND (i.sdk_name IS NULL OR EXCLUDED.last_seen_at >= i.last_seen_at)
                             THEN EXCLUDED.sdk_name ELSE i.sdk_name END,
             sdk_version = CASE WHEN EXCLUDED.sdk_name IS NOT NULL AND (i.sdk_name IS NULL OR EXCLUDED.last_seen_at >= i.last_seen_at)
                                THEN EXCLUDED.sdk_version ELSE i.sdk_version END,
             revision = CASE WHEN ${NEWER_SYNC} THEN EXCLUDED.revision ELSE i.revision END,
             last_synced_at = CASE WHEN ${NEWER_SYNC} THEN EXCLUDED.last_synced_at ELSE i.last_synced_at END,
             closed_at = CASE WHEN EXCLUDED.last_seen_at > i.last_seen_at THEN EXCLUDED.closed_at
                              WHEN EXCLUDED.last_seen_at < i.last_seen_at THEN i.closed_at
                              ELSE COALESCE(EXCLUDED.closed_at, i.closed_at) END,
             report_interval_ms = CASE WHEN EXCLUDED.report_interval_ms IS NOT NULL AND (i.report_interval_ms IS NULL OR EXCLUDED.last_seen_at >= i.last_seen_at)
                                       THEN EXCLUDED.report_interval_ms ELSE i.report_interval_ms END,
             client_spec = CASE WHEN ${NEWER_SYNC} THEN EXCLUDED.client_spec ELSE i.client_spec END,
             last_seen_at = GREATEST(i.last_seen_at, EXCLUDED.last_seen_at)`,
          [
            i.map((o) => o.protocol),
            i.map((o) => o.appName),
            i.map((o) => o.instanceId),
            i.map((o) => o.sdkName),
            i.map((o) => o.sdkVersion),
            i.map((o) => (o.revision === null ? null : String(o.revision))),
            i.map((o) => (o.syncedAt === null ? null : new Date(o.syncedAt).toISOString())),
            i.map((o) => new Date(o.seenAt).toISOString()),
            i.map((o) => (o.closedAt === null ? null : new Date(o.closedAt).toISOString())),
            i.map((o) => (o.reportIntervalMs === null ? null : Math.min(o.reportIntervalMs, MAX_STORED_INTERVAL_MS))),
            i.map((o) => o.clientSpec),
          ],
        );
      }
      if (batch.followers.length > 0) {
        const f = batch.followers;
        await tx.query(
          `INSERT INTO traffic_followers AS f (slice_key, protocol, app_name, instance_id, last_reported_at)
           SELECT u.slice_key, u.protocol, u.app_name, u.instance_id, u.last_reported_at
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) WITH ORDINALITY
                AS u(slice_key, protocol, app_name, instance_id, last_reported_at, n)
           WHERE EXISTS (SELECT 1 FROM slices s WHERE s.key = u.slice_key)
           ORDER BY u.n
           ON CONFLICT (slice_key, protocol, app_name, instance_id) DO UPDATE SET last_reported_at = EXCLUDED.last_reported_at
             WHERE f.last_reported_at < EXCLUDED.last_reported_at`,
          [f.map((r) => r.sliceKey), f.map((r) => r.protocol), f.map((r) => r.appName), f.map((r) => r.instanceId), f.map((r) => new Date(r.reportedAt).toISOString())],
        );
      }
      if (batch.cells.length > 0) {
        const c = batch.cells;
        await tx.query(
          `INSERT INTO traffic_buckets AS b (slice_key, app_name, path, bucket_start, count)
           SELECT u.slice_key, u.app_name, u.path, u.bucket_start, u.count
           FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bigint[]) WITH ORDINALITY
                AS u(slice_key, app_name, path, bucket_start, count, n)
           WHERE EXISTS (SELECT 1 FROM slices s WHERE s.key = u.slice_key)
           ORDER BY u.n
           ON CONFLICT (slice_key, bucket_start, app_name, path) DO UPDATE SET count = LEAST(b.count::numeric + EXCLUDED.count, ${MAX_CELL_COUNT})::bigint`,
          [c.map((r) => r.sliceKey), c.map((r) => r.appName), c.map((r) => r.path), c.map((r) => new Date(r.bucketStart).toISOString()), c.map((r) => r.count.toString())],
        );
      }
      await this.writeOutcomes(tx, batch);
    });
  }

  /**
   * The outcome tables (migrations/1765100000000-CreateOutcomes.ts), in the same transaction and
   * by the same rules as the decision counts: primary-key order, rows of existing slices only,
   * sums saturating at the largest bigint. Samples are inserted in the order received, then each
   * slice written to keeps its newest SAMPLES_KEPT_PER_SLICE.
   */
  private async writeOutcomes(tx: EntityManager, batch: TrafficBatch): Promise<void> {
    const cells = batch.outcomeCells ?? [];
    const of = (kind: OutcomeCell['kind']) => cells.filter((c) => c.kind === kind);
    const starts = (list: readonly OutcomeCell[]) => list.map((r) => new Date(r.bucketStart).toISOString());
    const sums = (list: readonly OutcomeCell[], i: number) => list.map((r) => r.sums[i]!.toString());
    const add = (column: string, alias: string) => `${column} = LEAST(${alias}.${column}::numeric + EXCLUDED.${column}, ${MAX_CELL_COUNT})::bigint`;
    // A path's histogram travels as two arrays (buckets, counts) in text form, one element per
    // row: unnest cannot take jagged arrays. Merging adds counts bucket by bucket, as the buffer does.
    const outcomes = of('outcome');
    if (outcomes.length > 0) {
      const histogram = (r: OutcomeCell) => [...r.latency].sort((a, b) => a[0] - b[0]);
      await tx.query(
        `INSERT INTO outcome_buckets AS b (slice_key, app_name, path, bucket_start, calls, failures, latency_buckets, latency_counts)
         SELECT u.slice_key, u.app_name, u.path, u.bucket_start, u.calls, u.failures, u.latency_buckets::smallint[], u.latency_counts::bigint[]
         FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bigint[], $6::bigint[], $7::text[], $8::text[]) WITH ORDINALITY
              AS u(slice_key, app_name, path, bucket_start, calls, failures, latency_buckets, latency_counts, n)
         WHERE EXISTS (SELECT 1 FROM slices s WHERE s.key = u.slice_key)
         ORDER BY u.n
         ON CONFLICT (slice_key, bucket_start, app_name, path) DO UPDATE SET ${add('calls', 'b')}, ${add('failures', 'b')},
           (latency_buckets, latency_counts) = (
             SELECT COALESCE(array_agg(m.bucket ORDER BY m.bucket), '{}'), COALESCE(array_agg(m.count ORDER BY m.bucket), '{}')
             FROM (SELECT x.bucket, LEAST(sum(x.count::numeric), ${MAX_CELL_COUNT})::bigint AS count
                   FROM unnest(b.latency_buckets || EXCLUDED.latency_buckets, b.latency_counts || EXCLUDED.latency_counts) AS x(bucket, count)
                   GROUP BY x.bucket) m)`,
        [
          outcomes.map((r) => r.sliceKey),
          outcomes.map((r) => r.appName),
          outcomes.map((r) => r.path),
          starts(outcomes),
          sums(outcomes, 0),
          sums(outcomes, 1),
          outcomes.map(
            (r) =>
              `{${histogram(r)
                .map(([bucket]) => bucket)
                .join(',')}}`,
          ),
          outcomes.map(
            (r) =>
              `{${histogram(r)
                .map(([, count]) => count.toString())
                .join(',')}}`,
          ),
        ],
      );
    }
    const comparisons = of('comparison');
    if (comparisons.length > 0) {
      await tx.query(
        `INSERT INTO comparison_buckets AS b (slice_key, app_name, bucket_start, compared, mismatches, other_failures, timeouts)
         SELECT u.slice_key, u.app_name, u.bucket_start, u.compared, u.mismatches, u.other_failures, u.timeouts
         FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) WITH ORDINALITY
              AS u(slice_key, app_name, bucket_start, compared, mismatches, other_failures, timeouts, n)
         WHERE EXISTS (SELECT 1 FROM slices s WHERE s.key = u.slice_key)
         ORDER BY u.n
         ON CONFLICT (slice_key, bucket_start, app_name) DO UPDATE SET
           ${add('compared', 'b')}, ${add('mismatches', 'b')}, ${add('other_failures', 'b')}, ${add('timeouts', 'b')}`,
        [
          comparisons.map((r) => r.sliceKey),
          comparisons.map((r) => r.appName),
          starts(comparisons),
          sums(comparisons, 0),
          sums(comparisons, 1),
          sums(comparisons, 2),
          sums(comparisons, 3),
        ],
      );
    }
    const coverage = of('coverage');
    if (coverage.length > 0) {
      // Both sums saturate alike, so in_segment <= sampled (the table's check) holds after a merge.
      await tx.query(
        `INSERT INTO segment_coverage_buckets AS b (slice_key, bucket_start, app_name, segment_key, sampled, in_segment)
         SELECT u.slice_key, u.bucket_start, u.app_name, u.segment_key, u.sampled, u.in_segment
         FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::bigint[], $6::bigint[]) WITH ORDINALITY
              AS u(slice_key, bucket_start, app_name, segment_key, sampled, in_segment, n)
         WHERE EXISTS (SELECT 1 FROM slices s WHERE s.key = u.slice_key)
         ORDER BY u.n
         ON CONFLICT (slice_key, bucket_start, app_name, segment_key) DO UPDATE SET ${add('sampled', 'b')}, ${add('in_segment', 'b')}`,
        [coverage.map((r) => r.sliceKey), starts(coverage), coverage.map((r) => r.appName), coverage.map((r) => r.segmentKey ?? ''), sums(coverage, 0), sums(coverage, 1)],
      );
    }
    const samples = batch.samples ?? [];
    if (samples.length > 0) {
      await tx.query(
        `INSERT INTO mismatch_samples (slice_key, app_name, received_at, at, served, subject, diff)
         SELECT u.slice_key, u.app_name, u.received_at, u.at, u.served, u.subject, u.diff
         FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[]) WITH ORDINALITY
              AS u(slice_key, app_name, received_at, at, served, subject, diff, n)
         WHERE EXISTS (SELECT 1 FROM slices s WHERE s.key = u.slice_key)
         ORDER BY u.n`,
        [
          samples.map((r) => r.sliceKey),
          samples.map((r) => r.appName),
          samples.map((r) => new Date(r.receivedAt).toISOString()),
          samples.map((r) => r.at),
          samples.map((r) => r.served),
          samples.map((r) => r.subject),
          samples.map((r) => r.diff),
        ],
      );
      await tx.query(
        `DELETE FROM mismatch_samples m
         USING (SELECT id, row_number() OVER (PARTITION BY slice_key ORDER BY received_at DESC, id DESC) AS r
                FROM mismatch_samples WHERE slice_key = ANY($1::text[])) old
         WHERE m.id = old.id AND old.r > $2`,
        [[...new Set(samples.map((r) => r.sliceKey))], SAMPLES_KEPT_PER_SLICE],
      );
    }
  }

  /** Deletes what is older than `before`. Returns the rows deleted per table. */
  async prune(before: Date): Promise<{ buckets: number; followers: number; instances: number; outcomes: number }> {
    const count = async (sql: string): Promise<number> => {
      const rows: { n: string }[] = await this.dataSource.query(`WITH d AS (${sql} RETURNING 1) SELECT count(*)::text AS n FROM d`, [before]);
      return Number(rows[0]!.n);
    };
    return {
      buckets: await count('DELETE FROM traffic_buckets WHERE bucket_start < $1'),
      followers: await count('DELETE FROM traffic_followers WHERE last_reported_at < $1'),
      instances: await count('DELETE FROM sdk_instances WHERE last_seen_at < $1'),
      outcomes:
        (await count('DELETE FROM outcome_buckets WHERE bucket_start < $1')) +
        (await count('DELETE FROM comparison_buckets WHERE bucket_start < $1')) +
        (await count('DELETE FROM mismatch_samples WHERE received_at < $1')) +
        (await count('DELETE FROM segment_coverage_buckets WHERE bucket_start < $1')),
    };
  }

  /** Sampled decisions and those in each segment, per segment of one slice, in [from, until). Segments without rows are absent. */
  async segmentCoverage(sliceKey: string, from: Date, until: Date): Promise<Map<string, { sampled: number; inSegment: number }>> {
    const rows: { segment_key: string; sampled: string; in_segment: string }[] = await this.dataSource.query(
      `SELECT c.segment_key, sum(c.sampled)::text AS sampled, sum(c.in_segment)::text AS in_segment
       FROM segment_coverage_buckets c
       WHERE c.slice_key = $1 AND c.bucket_start >= $2 AND c.bucket_start < $3
       GROUP BY c.segment_key`,
      [sliceKey, from, until],
    );
    return new Map(rows.map((r) => [r.segment_key, { sampled: Number(r.sampled), inSegment: Number(r.in_segment) }]));
  }

  /** NEW / LEGACY sums of each slice in three windows (one scan of the widest). Slices without traffic are absent. */
  async windowTotals(sliceKeys: readonly string[], bounds: WindowBounds): Promise<Map<string, WindowTotals>> {
    const rows: { slice_key: string; path: TrafficPath; m5: string; h1: string; d1: string }[] = await this.dataSource.query(
      `SELECT b.slice_key, b.path,
              COALESCE(sum(b.count) FILTER (WHERE b.bucket_start >= $2), 0)::text AS m5,
              COALESCE(sum(b.count) FILTER (WHERE b.bucket_start >= $3), 0)::text AS h1,
              sum(b.count)::text AS d1
       FROM traffic_buckets b
       WHERE b.slice_key = ANY($1::text[]) AND b.bucket_start >= $4 AND b.bucket_start < $5
       GROUP BY b.slice_key, b.path`,
      [sliceKeys, bounds.last5Minutes, bounds.lastHour, bounds.last24Hours, bounds.until],
    );
    const out = new Map<string, WindowTotals>();
    for (const r of rows) {
      let totals = out.get(r.slice_key);
      if (totals === undefined) {
        totals = { last5Minutes: zero(), lastHour: zero(), last24Hours: zero() };
        out.set(r.slice_key, totals);
      }
      const field = r.path === 'NEW' ? 'new' : 'legacy';
      totals.last5Minutes[field] = Number(r.m5);
      totals.lastHour[field] = Number(r.h1);
      totals.last24Hours[field] = Number(r.d1);
    }
    return out;
  }

  /** Per-minute sums of one slice in [from, until), only the minutes that have any. */
  async minuteTotals(sliceKey: string, from: Date, until: Date): Promise<{ bucketStart: Date; path: TrafficPath; count: number }[]> {
    const rows: { bucket_start: Date; path: TrafficPath; count: string }[] = await this.dataSource.query(
      `SELECT b.bucket_start, b.path, sum(b.count)::text AS count
       FROM traffic_buckets b
       WHERE b.slice_key = $1 AND b.bucket_start >= $2 AND b.bucket_start < $3
       GROUP BY b.bucket_start, b.path`,
      [sliceKey, from, until],
    );
    return rows.map((r) => ({ bucketStart: new Date(r.bucket_start), path: r.path, count: Number(r.count) }));
  }

  /** Sums of one slice per app in [from, until), by app name. */
  async appTotals(sliceKey: string, from: Date, until: Date): Promise<{ appName: string; new: number; legacy: number }[]> {
    const rows: { app_name: string; new: string; legacy: string }[] = await this.dataSource.query(
      `SELECT b.app_name,
              COALESCE(sum(b.count) FILTER (WHERE b.path = 'NEW'), 0)::text AS new,
              COALESCE(sum(b.count) FILTER (WHERE b.path = 'LEGACY'), 0)::text AS legacy
       FROM traffic_buckets b
       WHERE b.slice_key = $1 AND b.bucket_start >= $2 AND b.bucket_start < $3
       GROUP BY b.app_name
       ORDER BY b.app_name COLLATE "C"`,
      [sliceKey, from, until],
    );
    return rows.map((r) => ({ appName: r.app_name, new: Number(r.new), legacy: Number(r.legacy) }));
  }

  /**
   * The instances that reported decisions for these slices since `since`, with what is known of
   * each: at most `limit` per slice, ordered by app, then instance.
   */
  async followers(sliceKeys: readonly string[], since: Date, limit: number): Promise<FollowerRow[]> {
    const rows: {
      slice_key: string;
      protocol: TrafficProtocol;
      app_name: string;
      instance_id: string;
      sdk_name: string | null;
      sdk_version: string | null;
      revision: string | null;
      last_synced_at: Date | null;
      client_spec: string | null;
      last_seen_at: Date;
      closed_at: Date | null;
      report_interval_ms: number | null;
    }[] = await this.dataSource.query(
      `SELECT k.key AS slice_key, i.protocol, i.app_name, i.instance_id, i.sdk_name, i.sdk_version,
              i.revision::text AS revision, i.last_synced_at, i.last_seen_at, i.closed_at, i.report_interval_ms, i.client_spec
       FROM unnest($1::text[]) AS k(key)
       CROSS JOIN LATERAL (
         SELECT i.*
         FROM traffic_followers f
         JOIN sdk_instances i ON i.protocol = f.protocol AND i.app_name = f.app_name AND i.instance_id = f.instance_id
         WHERE f.slice_key = k.key AND f.last_reported_at >= $2
         ORDER BY i.app_name COLLATE "C", i.instance_id COLLATE "C", i.protocol
         LIMIT $3
       ) i`,
      [sliceKeys, since, limit],
    );
    return rows.map((r) => ({
      sliceKey: r.slice_key,
      protocol: r.protocol,
      appName: r.app_name,
      instanceId: r.instance_id,
      sdkName: r.sdk_name,
      sdkVersion: r.sdk_version,
      revision: r.revision === null ? null : Number(r.revision),
      lastSyncedAt: r.last_synced_at === null ? null : new Date(r.last_synced_at),
      clientSpec: r.client_spec,
      lastSeenAt: new Date(r.last_seen_at),
      closedAt: r.closed_at === null ? null : new Date(r.closed_at),
      reportIntervalMs: r.report_interval_ms,
    }));
  }
}

/** An interval is stored up to PostgreSQL's integer (some 24 days): longer ones mean the same (see follower-status.ts). */
const MAX_STORED_INTERVAL_MS = 2 ** 31 - 1;

/**
 * Whether the incoming observation's revision is the one to keep (see mergeInstance): it says a
 * revision, and its sync is the later one, or neither has a sync and it was seen later.
 */
const NEWER_SYNC = `(EXCLUDED.revision IS NOT NULL AND (
  (EXCLUDED.last_synced_at IS NOT NULL AND (i.last_synced_at IS NULL OR EXCLUDED.last_synced_at >= i.last_synced_at))
  OR (EXCLUDED.last_synced_at IS NULL AND i.last_synced_at IS NULL AND EXCLUDED.last_seen_at >= i.last_seen_at)))`;

function zero(): PathTotals {
  return { new: 0, legacy: 0 };
}
