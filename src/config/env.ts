/**
 * The service's configuration: read from the environment once, validated, frozen.
 * Nothing else in the service reads `process.env` (see STYLE.md): inject `AppConfig` instead.
 */

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
  /** GraphQL documents nested deeper than this are refused before execution. */
  readonly maxQueryDepth: number;
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
}

export const APP_CONFIG = Symbol('APP_CONFIG');

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
  const logFormat = env.LOG_FORMAT?.trim() || 'json';
  if (logFormat !== 'json' && logFormat !== 'text') {
    problems.push(`LOG_FORMAT must be json or text, got "${logFormat}"`);
  }

  const config: AppConfig = {
    port: int('PORT', 4000, 0, 65535),
    databaseUrl,
    dataDir: env.SWITCHYARD_DATA_DIR?.trim() || './.switchyard-data',
    runMigrations: bool('SWITCHYARD_RUN_MIGRATIONS', true),
    adminToken,
    logFormat: logFormat === 'text' ? 'text' : 'json',
    maxQueryDepth: int('SWITCHYARD_MAX_QUERY_DEPTH', 10, 2, 100),
    maxBodyBytes: int('SWITCHYARD_MAX_BODY_BYTES', 2 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    streamHeartbeatMs: int('SWITCHYARD_STREAM_HEARTBEAT_MS', 10_000, 50, 300_000),
    snapshotResyncMs: int('SWITCHYARD_SNAPSHOT_RESYNC_MS', 30_000, 100, 3_600_000),
    tokenCacheMs: int('SWITCHYARD_TOKEN_CACHE_MS', 10_000, 0, 300_000),
    databaseConnectTimeoutMs: int('SWITCHYARD_DB_CONNECT_TIMEOUT_MS', 2_000, 100, 60_000),
    databaseStatementTimeoutMs: int('SWITCHYARD_DB_STATEMENT_TIMEOUT_MS', 3_000, 100, 600_000),
    databaseTransactionTimeoutMs: int('SWITCHYARD_DB_TRANSACTION_TIMEOUT_MS', 5_000, 100, 600_000),
    changeFeedProbeMs: int('SWITCHYARD_CHANGE_FEED_PROBE_MS', 5_000, 50, 600_000),
    trafficFlushMs: int('SWITCHYARD_TRAFFIC_FLUSH_MS', 5_000, 50, 600_000),
    trafficRetentionDays: int('SWITCHYARD_TRAFFIC_RETENTION_DAYS', 7, 1, 3_650),
    idempotencyRetentionDays: int('SWITCHYARD_IDEMPOTENCY_RETENTION_DAYS', 7, 1, 3_650),
    metricsToken,
  };
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n- ${problems.join('\n- ')}`);
  }
  return Object.freeze(config);
}
