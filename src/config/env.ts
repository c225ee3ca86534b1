import { join } from 'node:path';
import { SLICE_KEY_PATTERN } from '@switchyard/client-sdk/core';
import { parsePrivateKey } from '../history/proof/history-checkpoint.js';

/**
 * The service's configuration: read from the environment once, validated, frozen.
 * Nothing else in the service reads `process.env` (see STYLE.md): inject `AppConfig` instead.
 */

/** SWITCHYARD_METRICS_OUTCOME_SLICES names at most this many slices. */
export const MAX_METRICS_OUTCOME_SLICES = 50;

export interface AppConfig {
  readonly port: number;
  /** PostgreSQL server; null means the embedded engine (PGlite). */
  readonly databaseUrl: string | null;
  /** Embedded engine's directory; `memory:` keeps it in memory (tests, throwaway runs). */
  readonly dataDir: string;
  /** Apply pending migrations at start-up (turn off when a deploy step runs them). */
  readonly runMigrations: boolean;
  /** Bootstrap admin token, honoured only while no token exists yet. */
  readonly adminToken: string | null;
  readonly logFormat: 'json' | 'text';
  /**
   * Changes to who is on NEW (`setRollout`, `setTargeting`, `resume`, `archiveSlice`) must say why:
   * a missing or blank `reason` is refused (INVALID_INPUT on `reason`), as rollback's always is.
   * On by default (regulated teams must record why exposure changed); `false` makes those reasons
   * optional again. Rollback and rollbackAll need one whatever this says.
   */
  readonly requireReason: boolean;
  /**
   * GraphQL documents nested deeper than this many fields are refused before execution
   * (QUERY_TOO_DEEP). Our own deepest document is 4 levels; introspection counts too (graphql-js's
   * full introspection query is 15 deep: tools read the committed src/schema.graphql instead).
   */
  readonly maxQueryDepth: number;
  /** More aliased fields than this in one operation are refused (TOO_MANY_ALIASES); `__typename` is free. */
  readonly maxQueryAliases: number;
  /** More directives (`@include`, `@skip`...) than this in one operation are refused (TOO_MANY_DIRECTIVES). */
  readonly maxQueryDirectives: number;
  /**
   * Documents of more lexical tokens than this are refused while parsing (TOO_MANY_TOKENS). Every
   * value of a literal list is a token: send big lists (a 10,000-id segment) as variables, which
   * do not count. At most 10,000: graphql-js compares fields that share a response name pairwise
   * (up to a work budget of its own), and at 10,000 tokens that takes about 0.3 s.
   */
  readonly maxQueryTokens: number;
  /**
   * Operations whose estimated cost exceeds this are refused before they run (QUERY_TOO_COMPLEX).
   * A field costs 1 plus its selections; pages and series multiply by their size, expensive
   * fields declare more (docs/query-limits.md has the table).
   */
  readonly maxQueryCost: number;
  /** Largest accepted request body, in bytes (a 10,000-id segment fits comfortably). */
  readonly maxBodyBytes: number;
  /** SDK streams get a heartbeat this often, so dead connections are noticed on both ends. */
  readonly streamHeartbeatMs: number;
  /**
   * The snapshot is rebuilt on every change notification; this is the safety net that also
   * compares revisions this often, in case a notification was lost.
   */
  readonly snapshotResyncMs: number;
  /**
   * Tokens verified before are answered from memory, and re-verified against the database in the
   * background this often (all in one query). A revocation or expiry reaches other instances, and
   * closes the streams opened with that token, within this time (the revoking instance acts at
   * once); while the database is unreachable, tokens seen before keep working, so SDK delivery
   * goes on. 0 turns the cache off: every request asks the database (delivery then waits on it),
   * and the tokens of open streams are re-verified every second.
   */
  readonly tokenCacheMs: number;
  /**
   * How long a console sign-in lasts (a token exchanged for a session cookie), in hours, and at
   * most as long as its token. Sign-out, or revoking the token, ends it sooner.
   */
  readonly consoleSessionHours: number;
  /**
   * Mark the console's session cookie `Secure` even when the request reached the service over
   * plain HTTP: set it behind a proxy that terminates TLS. (Requests over TLS get it anyway.)
   */
  readonly consoleSecureCookie: boolean;
  /**
   * PostgreSQL server only: how long opening a connection, or waiting for a free one in the pool,
   * may take before the request gets SERVICE_UNAVAILABLE. Also bounds the readiness probe.
   */
  readonly databaseConnectTimeoutMs: number;
  /**
   * PostgreSQL server only: the server cancels a statement running longer than this
   * (`statement_timeout`), and a statement with no answer at all this long plus one second (a
   * frozen network) is abandoned and its connection discarded. Either way: SERVICE_UNAVAILABLE.
   * The server also ends a session left idle inside a transaction this long
   * (`idle_in_transaction_session_timeout`): the service never waits on anything else between two
   * statements of a transaction, so such a session's client is gone or cut off, and the locks it
   * holds (a change's) are freed.
   */
  readonly databaseStatementTimeoutMs: number;
  /**
   * PostgreSQL server only: the most a change's whole transaction (which holds the lock every
   * change takes) may last before it is abandoned and SERVICE_UNAVAILABLE answered.
   */
  readonly databaseTransactionTimeoutMs: number;
  /**
   * PostgreSQL server only: how often the change feed's LISTEN connection is probed. A probe
   * unanswered within the statement timeout (plus 1 s) means the connection is frozen: it is
   * replaced, at once.
   */
  readonly changeFeedProbeMs: number;
  /**
   * Traffic reports (POST /sdk/v1/metrics, Unleash /api/client/metrics) are buffered in memory and
   * written to the database this often, in one statement per table (docs/traffic.md).
   */
  readonly trafficFlushMs: number;
  /** Traffic buckets and SDK instances older than this many days are deleted (checked hourly). */
  readonly trafficRetentionDays: number;
  /**
   * The most decisions one SDK instance is believed to make per second, over all its slices: a
   * usage report claiming more than this times the span it covers (1 s to 1 day), for one slice or
   * in all, is refused whole (docs/traffic.md, "Untrusted reports"). Default 1,000,000.
   */
  readonly trafficMaxDecisionsPerSecond: number;
  /**
   * Distinct SDK instances of one app that one service instance records per window
   * (`trafficInstanceWindowMinutes`); the rest are ignored and counted until the next window.
   * Default 10,000 (a fleet of 2,000 restarted twice within the window fits).
   */
  readonly trafficMaxInstancesPerApp: number;
  /** Distinct SDK instances, of any app, reported with one token per window. Default 20,000. */
  readonly trafficMaxInstancesPerToken: number;
  /** The window of the two instance caps above, in minutes. Default 60. */
  readonly trafficInstanceWindowMinutes: number;
  /**
   * Count cells (slice x app x path x minute) one app may hold in the traffic buffer between two
   * flushes; a report needing more is dropped and counted. Default 20,000 (one report of the
   * largest size: 10,000 slices on both paths). The whole buffer holds 100,000.
   */
  readonly trafficMaxCellsPerApp: number;
  /** Count cells the reports of one token may hold in the traffic buffer. Default 50,000. */
  readonly trafficMaxCellsPerToken: number;
  /**
   * While outcomes or shadow comparisons are buffered (docs/outcomes.md), the buffer is written at
   * least this often, so that evidence shows in GraphQL within seconds (a buffer holding only
   * decision counts waits for SWITCHYARD_TRAFFIC_FLUSH_MS). Default 1,000.
   */
  readonly outcomesFlushMs: number;
  /**
   * How long an SDK's report stream (client-sdk/PROTOCOL.md, "The report stream") stays open before
   * the service ends it and the SDK opens another: under Node's request timeout (300 s), which cuts
   * a request still sending, and under any proxy's. From SWITCHYARD_REPORT_STREAM_LIFETIME_MS;
   * default 120,000.
   */
  readonly reportStreamLifetimeMs: number;
  /**
   * Whether SDKs are offered the report stream (its path named in the 202s of POST /sdk/v1/metrics,
   * and served). Off: they report by POST only, e.g. behind a proxy that holds request bodies until
   * they end, where each SDK would otherwise wait for the stream now and then before going back to
   * POSTs. From SWITCHYARD_REPORT_STREAM; default true.
   */
  readonly reportStream: boolean;
  /**
   * Slices whose outcomes are exported to Prometheus (docs/metrics.md), from the comma-separated
   * SWITCHYARD_METRICS_OUTCOME_SLICES: at most 50 slice keys; none by default (bounded cardinality).
   */
  readonly metricsOutcomeSlices: readonly string[];
  /**
   * Idempotency keys (the first result of a mutation sent with one) are kept this many days, then
   * deleted (checked hourly): a retry within that time returns the first result; after it, the
   * key is free again.
   */
  readonly idempotencyRetentionDays: number;
  /**
   * When set, GET /metrics requires `Authorization: Bearer <metricsToken>`; when null it is open
   * (scraped from inside the network). Not an API token: it grants nothing else.
   */
  readonly metricsToken: string | null;
  /**
   * Where migrations run, when not over `databaseUrl`: the role that owns the tables (and may
   * disable the history triggers), so that the service's own role owns nothing and may only
   * INSERT and SELECT history (docs/history.md, least privilege). PostgreSQL only.
   */
  readonly migrationsDatabaseUrl: string | null;
  /**
   * Sign and publish history checkpoints (docs/history.md). On (the default), a PostgreSQL server
   * needs a key (`checkpointKey` or `checkpointKeyFile`) or the service refuses to start; off
   * must be said explicitly.
   */
  readonly checkpoints: boolean;
  /** The Ed25519 signing key: PKCS#8 PEM, or the same DER in base64. Never stored in the database. */
  readonly checkpointKey: string | null;
  /**
   * A file holding the signing key (PKCS#8 PEM). With neither this nor `checkpointKey`, the
   * embedded engine generates one into its data directory (and warns that it should be moved);
   * in memory, an ephemeral one.
   */
  readonly checkpointKeyFile: string | null;
  /** Sign the head once it is this many rows past the last checkpoint... */
  readonly checkpointEveryChanges: number;
  /** ...and every this many minutes when the head moved. */
  readonly checkpointEveryMinutes: number;
  /**
   * Each checkpoint is appended to this file as one JSON line. Default: `checkpoints.ndjson` in
   * the embedded engine's data directory; none on PostgreSQL (the log carries every checkpoint).
   */
  readonly checkpointFile: string | null;
  /** Each checkpoint is also POSTed here as JSON (bounded time, never waited for by a change). */
  readonly checkpointWebhookUrl: string | null;
}

export const APP_CONFIG = Symbol('APP_CONFIG');

/** Whether the embedded engine keeps this data directory in memory only (`memory:`): no files at all. */
export function isInMemoryDataDir(dataDir: string): boolean {
  return dataDir === 'memory:' || dataDir.startsWith('memory://');
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name]?.trim().toLowerCase();
    if (raw === undefined || raw === '') return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name} must be true or false, got "${env[name]}"`);
    return fallback;
  };

  const databaseUrl = env.DATABASE_URL?.trim() || null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const adminToken = env.SWITCHYARD_ADMIN_TOKEN?.trim() || null;
  if (adminToken !== null && adminToken.length < 24) {
    problems.push('SWITCHYARD_ADMIN_TOKEN must be at least 24 characters');
  }
  const metricsToken = env.METRICS_TOKEN?.trim() || null;
  if (metricsToken !== null && (metricsToken.length < 24 || metricsToken.length > 512 || /\s/.test(metricsToken))) {
    problems.push('METRICS_TOKEN must be 24 to 512 characters without spaces');
  }
  const migrationsDatabaseUrl = env.SWITCHYARD_MIGRATIONS_DATABASE_URL?.trim() || null;
  if (migrationsDatabaseUrl !== null && !/^postgres(ql)?:\/\//.test(migrationsDatabaseUrl)) {
    problems.push('SWITCHYARD_MIGRATIONS_DATABASE_URL must be a postgres:// or postgresql:// URL');
  } else if (migrationsDatabaseUrl !== null && databaseUrl === null) {
    problems.push('SWITCHYARD_MIGRATIONS_DATABASE_URL needs DATABASE_URL (the embedded engine has one role)');
  }
  const checkpointKey = env.SWITCHYARD_CHECKPOINT_KEY?.trim() || null;
  const checkpointKeyFile = env.SWITCHYARD_CHECKPOINT_KEY_FILE?.trim() || null;
  if (checkpointKey !== null && checkpointKeyFile !== null) {
    problems.push('set SWITCHYARD_CHECKPOINT_KEY or SWITCHYARD_CHECKPOINT_KEY_FILE, not both');
  } else if (checkpointKey !== null) {
    try {
      parsePrivateKey(checkpointKey);
    } catch (error) {
      // Never echo the value: it is a secret.
      problems.push(`SWITCHYARD_CHECKPOINT_KEY must be an Ed25519 private key, PKCS#8 PEM or base64 DER (${(error as Error).message})`);
    }
  }
  const checkpointWebhookUrl = env.SWITCHYARD_CHECKPOINT_WEBHOOK_URL?.trim() || null;
  if (checkpointWebhookUrl !== null && !/^https?:\/\/[^\s]+$/.test(checkpointWebhookUrl)) {
    problems.push('SWITCHYARD_CHECKPOINT_WEBHOOK_URL must be an http:// or https:// URL');
  }
  const dataDir = env.SWITCHYARD_DATA_DIR?.trim() || './.switchyard-data';
  const checkpointFile = env.SWITCHYARD_CHECKPOINT_FILE?.trim() || (databaseUrl === null && !isInMemoryDataDir(dataDir) ? join(dataDir, 'checkpoints.ndjson') : null);
  const logFormat = env.LOG_FORMAT?.trim() || 'json';
  if (logFormat !== 'json' && logFormat !== 'text') {
    problems.push(`LOG_FORMAT must be json or text, got "${logFormat}"`);
  }

  const metricsOutcomeSlices = [
    ...new Set(
      (env.SWITCHYARD_METRICS_OUTCOME_SLICES ?? '')
        .split(',')
        .map((key) => key.trim())
        .filter((key) => key !== ''),
    ),
  ];
  const badOutcomeSlice = metricsOutcomeSlices.find((key) => !SLICE_KEY_PATTERN.test(key));
  if (badOutcomeSlice !== undefined) problems.push(`SWITCHYARD_METRICS_OUTCOME_SLICES must list slice keys, got "${badOutcomeSlice}"`);
  if (metricsOutcomeSlices.length > MAX_METRICS_OUTCOME_SLICES) {
    problems.push(`SWITCHYARD_METRICS_OUTCOME_SLICES lists at most ${MAX_METRICS_OUTCOME_SLICES} slices (each adds some 60 series per app), got ${metricsOutcomeSlices.length}`);
  }

  const config: AppConfig = {
    port: int('PORT', 4000, 0, 65535),
    databaseUrl,
    dataDir,
    runMigrations: bool('SWITCHYARD_RUN_MIGRATIONS', true),
    adminToken,
    logFormat: logFormat === 'text' ? 'text' : 'json',
    requireReason: bool('SWITCHYARD_REQUIRE_REASON', true),
    maxQueryDepth: int('SWITCHYARD_MAX_QUERY_DEPTH', 10, 2, 100),
    maxQueryAliases: int('SWITCHYARD_MAX_QUERY_ALIASES', 20, 0, 1_000),
    maxQueryDirectives: int('SWITCHYARD_MAX_QUERY_DIRECTIVES', 20, 0, 1_000),
    maxQueryTokens: int('SWITCHYARD_MAX_QUERY_TOKENS', 1_000, 100, 10_000),
    maxQueryCost: int('SWITCHYARD_MAX_QUERY_COST', 20_000, 100, 10_000_000),
    maxBodyBytes: int('SWITCHYARD_MAX_BODY_BYTES', 2 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    streamHeartbeatMs: int('SWITCHYARD_STREAM_HEARTBEAT_MS', 10_000, 50, 300_000),
    snapshotResyncMs: int('SWITCHYARD_SNAPSHOT_RESYNC_MS', 30_000, 100, 3_600_000),
    tokenCacheMs: int('SWITCHYARD_TOKEN_CACHE_MS', 10_000, 0, 300_000),
    consoleSessionHours: int('SWITCHYARD_CONSOLE_SESSION_HOURS', 12, 1, 720),
    consoleSecureCookie: bool('SWITCHYARD_CONSOLE_SECURE_COOKIE', false),
    databaseConnectTimeoutMs: int('SWITCHYARD_DB_CONNECT_TIMEOUT_MS', 2_000, 100, 60_000),
    databaseStatementTimeoutMs: int('SWITCHYARD_DB_STATEMENT_TIMEOUT_MS', 3_000, 100, 600_000),
    databaseTransactionTimeoutMs: int('SWITCHYARD_DB_TRANSACTION_TIMEOUT_MS', 5_000, 100, 600_000),
    changeFeedProbeMs: int('SWITCHYARD_CHANGE_FEED_PROBE_MS', 5_000, 50, 600_000),
    trafficFlushMs: int('SWITCHYARD_TRAFFIC_FLUSH_MS', 5_000, 50, 600_000),
    trafficRetentionDays: int('SWITCHYARD_TRAFFIC_RETENTION_DAYS', 7, 1, 3_650),
    trafficMaxDecisionsPerSecond: int('SWITCHYARD_TRAFFIC_MAX_DECISIONS_PER_SECOND', 1_000_000, 1, 1_000_000_000_000),
    trafficMaxInstancesPerApp: int('SWITCHYARD_TRAFFIC_MAX_INSTANCES_PER_APP', 10_000, 1, 1_000_000),
    trafficMaxInstancesPerToken: int('SWITCHYARD_TRAFFIC_MAX_INSTANCES_PER_TOKEN', 20_000, 1, 1_000_000),
    trafficInstanceWindowMinutes: int('SWITCHYARD_TRAFFIC_INSTANCE_WINDOW_MINUTES', 60, 1, 10_080),
    trafficMaxCellsPerApp: int('SWITCHYARD_TRAFFIC_MAX_CELLS_PER_APP', 20_000, 1, 100_000),
    trafficMaxCellsPerToken: int('SWITCHYARD_TRAFFIC_MAX_CELLS_PER_TOKEN', 50_000, 1, 100_000),
    outcomesFlushMs: int('SWITCHYARD_OUTCOMES_FLUSH_MS', 1_000, 50, 60_000),
    reportStreamLifetimeMs: int('SWITCHYARD_REPORT_STREAM_LIFETIME_MS', 120_000, 1_000, 290_000),
    reportStream: bool('SWITCHYARD_REPORT_STREAM', true),
    metricsOutcomeSlices,
    idempotencyRetentionDays: int('SWITCHYARD_IDEMPOTENCY_RETENTION_DAYS', 7, 1, 3_650),
    metricsToken,
    migrationsDatabaseUrl,
    checkpoints: bool('SWITCHYARD_CHECKPOINTS', true),
    checkpointKey,
    checkpointKeyFile,
    checkpointEveryChanges: int('SWITCHYARD_CHECKPOINT_EVERY_CHANGES', 100, 1, 1_000_000),
    checkpointEveryMinutes: int('SWITCHYARD_CHECKPOINT_EVERY_MINUTES', 5, 1, 24 * 60),
    checkpointFile,
    checkpointWebhookUrl,
  };
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n- ${problems.join('\n- ')}`);
  }
  return Object.freeze(config);
}
