import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { InstanceCell, InstancePathSums } from './instance-evidence.js';

/** One instance's figures for a slice over a window (sums of its minutes). */
export interface InstanceSums {
  readonly appName: string;
  readonly instanceId: string;
  readonly next: { readonly calls: number; readonly failures: number; readonly latency: readonly [number, number][] };
  readonly legacy: { readonly calls: number; readonly failures: number; readonly latency: readonly [number, number][] };
  readonly compared: number;
  readonly mismatches: number;
  readonly newDecisions: number;
  readonly legacyDecisions: number;
}

const MAX_BIGINT = '9223372036854775807';

/** A histogram's merge on conflict: counts added bucket by bucket, saturating (as outcome_buckets). */
const mergeHistogram = (prefix: string) => `(${prefix}_latency_buckets, ${prefix}_latency_counts) = (
  SELECT COALESCE(array_agg(m.bucket ORDER BY m.bucket), '{}'), COALESCE(array_agg(m.count ORDER BY m.bucket), '{}')
  FROM (SELECT x.bucket, LEAST(sum(x.count::numeric), ${MAX_BIGINT})::bigint AS count
        FROM unnest(b.${prefix}_latency_buckets || EXCLUDED.${prefix}_latency_buckets, b.${prefix}_latency_counts || EXCLUDED.${prefix}_latency_counts) AS x(bucket, count)
        GROUP BY x.bucket) m)`;
const addColumn = (column: string) => `${column} = LEAST(b.${column}::numeric + EXCLUDED.${column}, ${MAX_BIGINT})::bigint`;

const buckets = (p: InstancePathSums) => `{${[...p.latency.keys()].sort((a, b) => a - b).join(',')}}`;
const counts = (p: InstancePathSums) =>
  `{${[...p.latency.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, c]) => c)
    .join(',')}}`;

/**
 * instance_outcome_buckets (migrations/1765400000000-CreateInstanceOutcomes.ts): written by
 * InstanceEvidenceService, read by a plan's evidence (src/plans/plan-evidence.ts), pruned by age.
 */
/** Each instance's latency histograms per path, summed over the window `w` (the look's `sums`). */
const HISTOGRAMS = `,
         (SELECT json_agg(json_build_array(h.bucket, h.count::text) ORDER BY h.bucket) FROM (
            SELECT x.bucket, sum(x.count) AS count FROM w CROSS JOIN LATERAL unnest(w.new_latency_buckets, w.new_latency_counts) AS x(bucket, count)
            WHERE w.app_name = t.app_name AND w.instance_id = t.instance_id GROUP BY x.bucket) h) AS new_latency,
         (SELECT json_agg(json_build_array(h.bucket, h.count::text) ORDER BY h.bucket) FROM (
            SELECT x.bucket, sum(x.count) AS count FROM w CROSS JOIN LATERAL unnest(w.legacy_latency_buckets, w.legacy_latency_counts) AS x(bucket, count)
            WHERE w.app_name = t.app_name AND w.instance_id = t.instance_id GROUP BY x.bucket) h) AS legacy_latency`;

@Injectable()
export class InstanceEvidenceRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Upserts that add, in primary-key order (the cells come sorted), rows of existing slices only. */
  async write(cells: readonly InstanceCell[]): Promise<void> {
    if (cells.length === 0) return;
    const column = <T>(f: (c: InstanceCell) => T) => cells.map(f);
    await this.dataSource.query(
      `INSERT INTO instance_outcome_buckets AS b (slice_key, bucket_start, app_name, instance_id,
         new_calls, new_failures, new_latency_buckets, new_latency_counts,
         legacy_calls, legacy_failures, legacy_latency_buckets, legacy_latency_counts,
         compared, mismatches, new_decisions, legacy_decisions)
       SELECT u.slice_key, u.bucket_start, u.app_name, u.instance_id,
              u.new_calls, u.new_failures, u.nb::smallint[], u.nc::bigint[],
              u.legacy_calls, u.legacy_failures, u.lb::smallint[], u.lc::bigint[],
              u.compared, u.mismatches, u.new_decisions, u.legacy_decisions
       FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::text[],
                   $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[]) WITH ORDINALITY
            AS u(slice_key, bucket_start, app_name, instance_id, new_calls, new_failures, nb, nc, legacy_calls, legacy_failures, lb, lc,
                 compared, mismatches, new_decisions, legacy_decisions, n)
       WHERE EXISTS (SELECT 1 FROM slices s WHERE s.key = u.slice_key)
       ORDER BY u.n
       ON CONFLICT (slice_key, bucket_start, app_name, instance_id) DO UPDATE SET
         ${['new_calls', 'new_failures', 'legacy_calls', 'legacy_failures', 'compared', 'mismatches', 'new_decisions', 'legacy_decisions'].map(addColumn).join(', ')},
         ${mergeHistogram('new')}, ${mergeHistogram('legacy')}`,
      [
        column((c) => c.sliceKey),
        column((c) => new Date(c.bucketStart).toISOString()),
        column((c) => c.appName),
        column((c) => c.instanceId),
        column((c) => String(c.next.calls)),
        column((c) => String(c.next.failures)),
        column((c) => buckets(c.next)),
        column((c) => counts(c.next)),
        column((c) => String(c.legacy.calls)),
        column((c) => String(c.legacy.failures)),
        column((c) => buckets(c.legacy)),
        column((c) => counts(c.legacy)),
        column((c) => String(c.compared)),
        column((c) => String(c.mismatches)),
        column((c) => String(c.newDecisions)),
        column((c) => String(c.legacyDecisions)),
      ],
    );
  }

  /**
   * One slice's figures per app and instance over minutes [from, until), at most `limit`
   * instances (those with the most NEW calls first): what a plan's look weighs. `latency` false
   * leaves the histograms out (empty), for a plan without a latency gate.
   */
  async sums(sliceKey: string, from: Date, until: Date, limit: number, latency = true): Promise<InstanceSums[]> {
    const rows = await this.dataSource.query<
      {
        app_name: string;
        instance_id: string;
        new_calls: string;
        new_failures: string;
        legacy_calls: string;
        legacy_failures: string;
        compared: string;
        mismatches: string;
        new_decisions: string;
        legacy_decisions: string;
        new_latency: [number, string][] | null;
        legacy_latency: [number, string][] | null;
      }[]
    >(
      `WITH w AS (SELECT * FROM instance_outcome_buckets WHERE slice_key = $1 AND bucket_start >= $2 AND bucket_start < $3),
       t AS (
         SELECT app_name, instance_id, sum(new_calls)::text AS new_calls, sum(new_failures)::text AS new_failures,
                sum(legacy_calls)::text AS legacy_calls, sum(legacy_failures)::text AS legacy_failures,
                sum(compared)::text AS compared, sum(mismatches)::text AS mismatches,
                sum(new_decisions)::text AS new_decisions, sum(legacy_decisions)::text AS legacy_decisions
         FROM w GROUP BY app_name, instance_id
         ORDER BY sum(new_calls) DESC, app_name COLLATE "C", instance_id COLLATE "C" LIMIT $4)
       SELECT t.*${latency ? HISTOGRAMS : ', NULL AS new_latency, NULL AS legacy_latency'}
       FROM t`,
      [sliceKey, from, until, limit],
    );
    const histogram = (h: [number, string][] | null) => (h ?? []).map(([bucket, count]) => [Number(bucket), Number(count)] as [number, number]);
    return rows.map((r) => ({
      appName: r.app_name,
      instanceId: r.instance_id,
      next: { calls: Number(r.new_calls), failures: Number(r.new_failures), latency: histogram(r.new_latency) },
      legacy: { calls: Number(r.legacy_calls), failures: Number(r.legacy_failures), latency: histogram(r.legacy_latency) },
      compared: Number(r.compared),
      mismatches: Number(r.mismatches),
      newDecisions: Number(r.new_decisions),
      legacyDecisions: Number(r.legacy_decisions),
    }));
  }

  async prune(before: Date): Promise<number> {
    const rows = await this.dataSource.query<{ n: string }[]>(
      `WITH d AS (DELETE FROM instance_outcome_buckets WHERE bucket_start < $1 RETURNING 1) SELECT count(*)::text AS n FROM d`,
      [before],
    );
    return Number(rows[0]!.n);
  }
}
