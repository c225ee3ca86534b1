import { join } from 'node:path';
import { parsePrivateKey } from '../history/history-checkpoint.js';

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
   * How long a verified token is trusted without asking the database again. A revocation reaches
   * other instances within this time (the revoking instance forgets at once); while the database
   * is unreachable, tokens seen before keep working, so SDK delivery goes on.
   */
  readonly tokenCacheMs: number;
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
  const checkpointFile =
    env.SWITCHYARD_CHECKPOINT_FILE?.trim() || (databaseUrl === null && !isInMemoryDataDir(dataDir) ? join(dataDir, 'checkpoints.ndjson') : null);
  const logFormat = env.LOG_FORMAT?.trim() || 'json';
  if (logFormat !== 'json' && logFormat !== 'text') {
    problems.push(`LOG_FORMAT must be json or text, got "${logFormat}"`);
  }

  const config: AppConfig = {
    port: int('PORT', 4000, 0, 65535),
    databaseUrl,
    dataDir,
    runMigrations: bool('SWITCHYARD_RUN_MIGRATIONS', true),
    adminToken,
    logFormat: logFormat === 'text' ? 'text' : 'json',
    maxQueryDepth: int('SWITCHYARD_MAX_QUERY_DEPTH', 10, 2, 100),
    maxBodyBytes: int('SWITCHYARD_MAX_BODY_BYTES', 2 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    streamHeartbeatMs: int('SWITCHYARD_STREAM_HEARTBEAT_MS', 10_000, 50, 300_000),
    snapshotResyncMs: int('SWITCHYARD_SNAPSHOT_RESYNC_MS', 30_000, 100, 3_600_000),
    tokenCacheMs: int('SWITCHYARD_TOKEN_CACHE_MS', 10_000, 0, 300_000),
    trafficFlushMs: int('SWITCHYARD_TRAFFIC_FLUSH_MS', 5_000, 50, 600_000),
    trafficRetentionDays: int('SWITCHYARD_TRAFFIC_RETENTION_DAYS', 7, 1, 3_650),
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
