import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import pg from 'pg';

/** A Switchyard service in a child process, as production runs it (`node dist/src/main.js`). */
export interface BenchServer {
  readonly engine: 'embedded' | 'postgres';
  readonly baseUrl: string;
  readonly token: string;
  /** The service process, e.g. to read its RSS from /proc/<pid>/status. */
  readonly pid: number;
  /** The PostgreSQL database it runs on (null on the embedded engine). */
  readonly databaseUrl: string | null;
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * Run over the database of this (PostgreSQL) server instead of creating one: a second instance
   * of the same service, with the same admin token. The database is dropped by whoever created it.
   */
  readonly sameDatabaseAs?: BenchServer;
  /** Extra flags for the service's node process (e.g. `--cpu-prof`, `--cpu-prof-dir=...`). */
  readonly nodeArgs?: readonly string[];
  /** Extra environment for the service. */
  readonly env?: Readonly<Record<string, string>>;
}

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const BENCH_CHECKPOINT_KEY = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

export async function startServer(engine: 'embedded' | 'postgres', pgUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_PG_URL, options: StartOptions = {}): Promise<BenchServer> {
  const shared = options.sameDatabaseAs;
  if (shared !== undefined && (engine !== 'postgres' || shared.databaseUrl === null)) {
    throw new Error('only a PostgreSQL server can share its database');
  }
  const token = shared?.token ?? `sy_bench_${randomBytes(16).toString('hex')}`;
  const port = await freePort();
  let databaseUrl: string | null = shared?.databaseUrl ?? null;
  let dbName: string | null = null;
  if (engine === 'postgres' && shared === undefined) {
    dbName = `switchyard_bench_test_${randomBytes(4).toString('hex')}`;
    await adminQuery(pgUrl, `CREATE DATABASE ${dbName}`);
    const url = new URL(pgUrl);
    url.pathname = `/${dbName}`;
    databaseUrl = url.toString();
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    // Signs history checkpoints as production does (a PostgreSQL server refuses to start without a key).
    SWITCHYARD_CHECKPOINT_KEY: BENCH_CHECKPOINT_KEY,
    SWITCHYARD_ADMIN_TOKEN: token,
    SWITCHYARD_DATA_DIR: 'memory:',
    LOG_FORMAT: 'json',
    ...options.env,
  };
  delete env.DATABASE_URL;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), resolve('dist/src/main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitReady(baseUrl, child);
  } catch (error) {
    child.kill('SIGKILL');
    if (dbName) await adminQuery(pgUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    throw error;
  }
  return {
    engine,
    baseUrl,
    token,
    pid: child.pid!,
    databaseUrl,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((done) => {
          // Graceful first; a service that does not exit within 15 s is killed (bench runs stay bounded).
          const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
          child.once('exit', () => {
            clearTimeout(force);
            done();
          });
          child.kill('SIGTERM');
        });
      }
      if (dbName) await adminQuery(pgUrl, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    },
  };
}

export async function graphql<T>(server: BenchServer, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${server.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data as T;
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function waitReady(baseUrl: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${baseUrl}/health/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server not ready in 180 s');
}

/** Runs one statement on the maintenance database (CREATE / DROP DATABASE). */
export async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}
