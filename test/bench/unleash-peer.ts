/**
 * The real peer of the benchmarks: an Unleash server (the `unleash-server` package from the npm
 * registry) in a child process, on the local PostgreSQL server, in a scratch database of its own.
 *
 * The package is installed at bench time into `.bench-peers/unleash-server@<version>/` (git-ignored),
 * once; later runs reuse it. It is not a dependency of the repository: `npm ci` stays lean, and a
 * clone that never runs the peer never downloads it.
 *
 * Everything the benchmarks do to the peer goes through its admin API with an admin token given at
 * start (`INIT_ADMIN_API_TOKENS`), as an operator's automation would.
 *
 * The peer is stopped and its database dropped by `stop()`, which the benchmarks call in `finally`;
 * SIGINT / SIGTERM stop every running peer (and drop its database) before the process exits. A
 * process that exits any other way still kills the peer's process; only its scratch database
 * (`unleash_bench_peer_*`) is then left behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { adminQuery, DEFAULT_PG_URL, freePort } from './bench-server.js';

/**
 * The newest release whose `engines` accepts Node 20 (7.6 and 8.x require Node 22; the repository
 * runs on Node 20). BENCH_PEER_VERSION overrides it.
 */
export const UNLEASH_SERVER_VERSION = process.env.BENCH_PEER_VERSION ?? '7.5.1';

/**
 * Unleash refuses constraints with more than 250 values by default (UNLEASH_CONSTRAINT_VALUES_LIMIT);
 * the benchmarks' configuration has a 1,000-id list, which Switchyard serves as one constraint.
 */
const CONSTRAINT_VALUES_LIMIT = 10_000;

/** The environment the peer's client token is scoped to and every toggle is configured in. */
export const PEER_ENVIRONMENT = 'development';

export interface UnleashPeer {
  readonly version: string;
  readonly baseUrl: string;
  readonly pid: number;
  /** The scratch database the peer runs on (dropped by stop()). */
  readonly databaseName: string;
  readonly databaseUrl: string;
  /** Calls the admin API with the admin token; throws on a status other than 2xx. */
  admin<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** A new client (backend) token for PEER_ENVIRONMENT, all projects, created through the admin API. */
  createClientToken(name?: string): Promise<string>;
  stop(): Promise<void>;
}

/** One constraint as Unleash's admin API takes it (the wire shape Switchyard also serves to SDKs). */
export interface PeerConstraint {
  readonly contextName: string;
  readonly operator: string;
  readonly values?: readonly string[];
  readonly value?: string;
  readonly inverted?: boolean;
  readonly caseInsensitive?: boolean;
}

export interface PeerStrategy {
  readonly name: string;
  readonly constraints: readonly PeerConstraint[];
  readonly parameters: Readonly<Record<string, string>>;
}

/** A toggle as GET /api/client/features describes it: what the peer is given to serve the same. */
export interface PeerToggle {
  readonly name: string;
  readonly description?: string;
  readonly enabled: boolean;
  readonly strategies: readonly PeerStrategy[];
}

const running = new Set<UnleashPeer>();
let handlersInstalled = false;

/** Installs the package if this version is not in the cache yet; returns the path of its server entry. */
export async function ensureInstalled(version = UNLEASH_SERVER_VERSION): Promise<string> {
  const prefix = resolve('.bench-peers', `unleash-server@${version}`);
  const entry = join(prefix, 'node_modules', 'unleash-server', 'dist', 'server.js');
  if (existsSync(entry)) return entry;
  mkdirSync(prefix, { recursive: true });
  process.stderr.write(`[unleash] installing unleash-server@${version} into ${prefix} (once; later runs reuse it)\n`);
  await run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--omit=dev', '--prefix', prefix, `unleash-server@${version}`]);
  if (!existsSync(entry)) throw new Error(`unleash-server@${version} installed, but ${entry} is missing`);
  return entry;
}

export async function startUnleashPeer(pgUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_PG_URL): Promise<UnleashPeer> {
  const version = UNLEASH_SERVER_VERSION;
  const entry = await ensureInstalled(version);
  installSignalHandlers();
  const databaseName = `unleash_bench_peer_${randomBytes(4).toString('hex')}`;
  await adminQuery(pgUrl, `CREATE DATABASE ${databaseName}`);
  const dropDatabase = () => adminQuery(pgUrl, `DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
  const databaseUrl = new URL(pgUrl);
  databaseUrl.pathname = `/${databaseName}`;
  const adminToken = `*:*.bench-admin-${randomBytes(16).toString('hex')}`;
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl.toString(),
    // The local server speaks plain TCP; Unleash tries TLS first unless told.
    DATABASE_SSL: 'false',
    HTTP_HOST: '127.0.0.1',
    PORT: String(port),
    INIT_ADMIN_API_TOKENS: adminToken,
    UNLEASH_CONSTRAINT_VALUES_LIMIT: String(CONSTRAINT_VALUES_LIMIT),
    // No calls home during a measurement.
    CHECK_VERSION: 'false',
    SEND_TELEMETRY: 'false',
    SCARF_ANALYTICS: 'false',
    LOG_LEVEL: 'warn',
    TZ: 'UTC',
    NODE_ENV: 'production',
  };
  delete env.DATABASE_NAME;
  const child = spawn(process.execPath, [entry], { cwd: resolve('.bench-peers', `unleash-server@${version}`), env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = tail(child);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopped = false;
  const peer: UnleashPeer = {
    version,
    baseUrl,
    pid: child.pid!,
    databaseName,
    databaseUrl: databaseUrl.toString(),
    admin: (method, path, body) => adminCall(baseUrl, adminToken, method, path, body),
    createClientToken: async (name = `bench-client-${Date.now()}`) => {
      const created = await adminCall<{ secret: string }>(baseUrl, adminToken, 'POST', '/api/admin/api-tokens', {
        tokenName: name,
        type: 'client',
        environment: PEER_ENVIRONMENT,
        projects: ['*'],
      });
      return created.secret;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      running.delete(peer);
      process.off('exit', killOnExit);
      try {
        await stopChild(child);
      } finally {
        await dropDatabase();
      }
    },
  };
  running.add(peer);
  try {
    await waitHealthy(baseUrl, child, output);
    // /health answers before the admin API accepts the initial token on a slow first start.
    await waitFor(async () => (await fetch(`${baseUrl}/api/admin/projects`, { headers: { authorization: adminToken } })).ok, 30_000, 'admin API');
  } catch (error) {
    await peer.stop();
    throw error;
  }
  process.stderr.write(`[unleash] unleash-server@${version} on ${baseUrl}, database ${databaseName}\n`);
  return peer;
}

/**
 * Creates `toggles` in the peer through its admin API: each toggle, its strategies in
 * PEER_ENVIRONMENT (constraints and parameters as given), and turns the environment on for the
 * enabled ones. A few toggles at a time; setup, not measured.
 */
export async function createToggles(peer: UnleashPeer, toggles: readonly PeerToggle[]): Promise<void> {
  const project = '/api/admin/projects/default/features';
  for (let i = 0; i < toggles.length; i += 10) {
    await Promise.all(
      toggles.slice(i, i + 10).map(async (toggle) => {
        await peer.admin('POST', project, { name: toggle.name, type: 'release', description: toggle.description ?? '', impressionData: false });
        for (const strategy of toggle.strategies) {
          await peer.admin('POST', `${project}/${encodeURIComponent(toggle.name)}/environments/${PEER_ENVIRONMENT}/strategies`, {
            name: strategy.name,
            constraints: strategy.constraints,
            parameters: strategy.parameters,
          });
        }
        if (toggle.enabled) await peer.admin('POST', `${project}/${encodeURIComponent(toggle.name)}/environments/${PEER_ENVIRONMENT}/on`);
      }),
    );
  }
}

async function adminCall<T>(baseUrl: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: token, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`Unleash ${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** Keeps the last lines the peer printed, to show them when it fails to start. */
function tail(child: ChildProcess): () => string {
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return () => lines.join('\n');
}

async function waitHealthy(baseUrl: string, child: ChildProcess, output: () => string): Promise<void> {
  // The first start runs Unleash's migrations (a few hundred) before it listens.
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`unleash-server exited with ${child.exitCode}:\n${output()}`);
      return (await fetch(`${baseUrl}/health`)).ok;
    },
    120_000,
    `unleash-server's /health\n${output()}`,
  );
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('unleash-server exited')) throw error;
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not ready in ${timeoutMs / 1000} s`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((done) => {
    // Graceful first (Unleash closes its pool); killed after 15 s so a bench run stays bounded.
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(force);
      done();
    });
    child.kill('SIGTERM');
  });
}

/** Ctrl-C or a SIGTERM during a run still stops the peers and drops their databases. */
function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n[unleash] ${signal}: stopping the peer and dropping its database\n`);
      void Promise.allSettled([...running].map((peer) => peer.stop())).finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));
    });
  }
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((done, fail) => {
    // npm's output goes to stderr: stdout carries only the benchmark's figures.
    const child = spawn(command, args, { stdio: ['ignore', 2, 2] });
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`${command} ${args.join(' ')} exited with ${code}`))));
  });
}
