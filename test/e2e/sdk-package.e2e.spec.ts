import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compileSnapshot, type SnapshotDefinition } from '@switchyard/client-sdk/core';
import { waitFor } from '../../client-sdk/src/testing/wait-for.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSegment, createSlice, uniqueKey } from '../utils/operations.js';

/**
 * The SDK as a service outside this repository gets it (issue 11, part 1): packed with
 * `npm pack -w client-sdk` (its prepack builds it from scratch), installed from the tarball into a
 * scratch application in the system's temp directory, and used from there against the real
 * service: imported as an ES module, required from CommonJS, type-checked as a TypeScript
 * consumer under `node16` (ES and CommonJS files), `bundler` and the legacy `node10` resolution.
 *
 * No network: the tarball has no dependencies (installed `--offline`), the host's own
 * @openfeature/server-sdk is copied from this repository's node_modules, and tsc is this
 * repository's TypeScript.
 */
const ROOT = process.cwd();
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const PACKAGE = '@switchyard/client-sdk';
const run = promisify(execFile);

/** Runs a command; on failure the error carries its output (a failed tsc says what it found). */
async function sh(command: string, args: readonly string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(command, args, { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, { cause: error });
  }
}

/**
 * What the scratch application does with the package, once as an ES module and once as CommonJS:
 * decide for 200 subjects from a client of the running service, through OpenFeature too, and check
 * that the in-memory client decides the same from the snapshot the service serves.
 */
const BODY = `
  const [url, token, slicesJson] = process.argv.slice(2);
  const slices = JSON.parse(slicesJson);
  const subjects = Array.from({ length: 200 }, (_, i) => ({ userId: 'user-' + i }));
  const client = await createClient({ url, token, appName: 'scratch-host', initTimeoutMs: 15000, metrics: false });
  const decisions = Object.fromEntries(slices.map((slice) => [slice, subjects.map((subject) => client.decide(slice, subject))]));
  await OpenFeature.setProviderAndWait(new SwitchyardProvider(client));
  const openFeature = await Promise.all(slices.map((slice) => OpenFeature.getClient().getBooleanValue(slice, false, { targetingKey: 'user-7' })));
  const snapshot = await (await fetch(url + '/sdk/v1/snapshot', { headers: { authorization: 'Bearer ' + token } })).json();
  const inMemory = new InMemoryClient(snapshot);
  const core = compileSnapshot(snapshot);
  const agree = (other) => slices.every((slice) => subjects.every((subject, i) => other.decide(slice, subject) === decisions[slice][i]));
  console.log(JSON.stringify({ resolved, status: client.status(), decisions, openFeature, inMemoryAgrees: agree(inMemory), coreAgrees: agree(core), version: SDK_VERSION }));
  await OpenFeature.close();
  await client.close();
`;

const ESM_SCRIPT = `
import { createClient, SDK_VERSION } from '${PACKAGE}';
import { compileSnapshot } from '${PACKAGE}/core';
import { SwitchyardProvider } from '${PACKAGE}/openfeature';
import { InMemoryClient } from '${PACKAGE}/testing';
import { OpenFeature } from '@openfeature/server-sdk';
const resolved = import.meta.resolve('${PACKAGE}');
${BODY}
`;

const CJS_SCRIPT = `
const { createClient, SDK_VERSION } = require('${PACKAGE}');
const { compileSnapshot } = require('${PACKAGE}/core');
const { SwitchyardProvider } = require('${PACKAGE}/openfeature');
const { InMemoryClient } = require('${PACKAGE}/testing');
const { OpenFeature } = require('@openfeature/server-sdk');
const resolved = require.resolve('${PACKAGE}');
(async () => {
${BODY}
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

/**
 * A TypeScript consumer of every entry point. `@ts-expect-error` proves the types are real: were
 * the package's types unresolved or \`any\`, tsc would report the unused directive.
 */
function consumer(topLevelAwait: boolean): string {
  return `
import { createClient, SwitchyardError, type Decision, type SwitchyardClient } from '${PACKAGE}';
import { compileSnapshot } from '${PACKAGE}/core';
import { SwitchyardProvider } from '${PACKAGE}/openfeature';
import { InMemoryClient } from '${PACKAGE}/testing';

${topLevelAwait ? `export const client: SwitchyardClient = await createClient({ url: 'https://switchyard.internal', token: 't', appName: 'a' });` : `export const pending: Promise<SwitchyardClient> = createClient({ url: 'https://switchyard.internal', token: 't', appName: 'a' });`}
export const double: SwitchyardClient = new InMemoryClient({ slices: { 'payments.provider.mpesa': { percent: 5 } } });
export const decision: Decision = compileSnapshot({ revision: 1, slices: [], segments: [] }).explain('a', { userId: '42' });
export const provider = new SwitchyardProvider(double);
export const error: Error = new SwitchyardError('HTTP_ERROR', 'poll', 'x', { httpStatus: 503 });
// @ts-expect-error a slice key is a string
double.decide(42, {});
// @ts-expect-error percent, not basisPoints, in the in-memory shorthand
new InMemoryClient({ slices: { a: { basisPoints: 5 } } });
`;
}

describe('the SDK package, installed in a service outside this repository', () => {
  let t: TestApp;
  let token: string;
  let scratch: string;
  let host: string;
  let tarball: { filename: string; files: { path: string }[] };
  const slices = { all: uniqueKey('pkg.all'), none: uniqueKey('pkg.none'), part: uniqueKey('pkg.part') };
  let expected: Record<string, string[]>;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'switchyard-sdk-package-'));
    host = join(scratch, 'host');
    // Packing (a child process, mostly tsc) and starting the service overlap.
    await Promise.all([packAndInstall(), startService()]);
  }, 180_000);

  async function packAndInstall(): Promise<void> {
    // The tarball as a publisher makes it (README, "Publishing"), from whatever state client-sdk/dist is in.
    const packed = JSON.parse(await sh('npm', ['pack', '-w', 'client-sdk', '--pack-destination', scratch, '--json'], ROOT)) as (typeof tarball)[];
    tarball = packed[0]!;
    mkdirSync(host);
    writeFileSync(join(host, 'package.json'), JSON.stringify({ name: 'scratch-host', version: '1.0.0', private: true }));
    await sh('npm', ['install', join(scratch, tarball.filename), '--offline', '--no-audit', '--no-fund'], host);
    // The host's own OpenFeature (an optional peer dependency of the SDK), as if it had installed it.
    for (const name of ['server-sdk', 'core']) cpSync(join(ROOT, 'node_modules/@openfeature', name), join(host, 'node_modules/@openfeature', name), { recursive: true });
  }

  async function startService(): Promise<void> {
    t = await createTestApp();
    token = await t.tokenFor('sdk');
    const staff = uniqueKey('pkg.staff');
    await createSegment(t.admin, staff, [{ attribute: 'userId', operator: 'IN', values: ['user-1', 'user-2'] }]);
    await createSlice(t.admin, { key: slices.all, percent: 100 });
    await createSlice(t.admin, { key: slices.none, percent: 0 });
    await createSlice(t.admin, { key: slices.part, percent: 30, targeting: { include: [], exclude: [staff], rules: [] } });
    // The service's snapshot follows commits asynchronously (LISTEN/NOTIFY on PostgreSQL): wait until it holds all three.
    let snapshot: SnapshotDefinition | undefined;
    await waitFor(
      async () => {
        const res = await fetch(`${t.baseUrl}/sdk/v1/snapshot`, { headers: { authorization: `Bearer ${token}` } });
        snapshot = (await res.json()) as SnapshotDefinition;
        return Object.values(slices).every((key) => snapshot!.slices.some((slice) => slice.key === key));
      },
      10_000,
      'the served snapshot to hold the new slices',
      50,
    );
    const served = compileSnapshot(snapshot!);
    const subjects = Array.from({ length: 200 }, (_, i) => ({ userId: `user-${i}` }));
    expected = Object.fromEntries(Object.values(slices).map((slice) => [slice, subjects.map((s) => served.decide(slice, s))]));
  }

  afterAll(async () => {
    await t?.close();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it('packs a complete tarball: both builds of every entry point with their types, the docs, nothing of the repository', () => {
    const files = tarball.files.map((f) => f.path).sort();
    for (const entry of ['', 'core/', 'openfeature/', 'testing/']) {
      for (const build of ['dist/', 'dist/cjs/']) for (const file of ['index.js', 'index.d.ts']) expect(files).toContain(`${build}${entry}${file}`);
    }
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'PROTOCOL.md', 'dist/cjs/package.json']));
    const outside = files.filter((f) => !f.startsWith('dist/') && !['package.json', 'README.md', 'PROTOCOL.md'].includes(f));
    expect(outside).toEqual([]);
    // No tests, no build info, none of the repository's own test helpers (src/testing/ but the public client).
    expect(files.filter((f) => /\.spec\.|tsbuildinfo|\/(fixtures|protocol-server|wait-for)\./.test(f))).toEqual([]);
  });

  it('describes itself as published: exports resolve to files in the tarball, engines, repository, no dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(host, 'node_modules', PACKAGE, 'package.json'), 'utf8')) as Record<string, unknown>;
    const targets: string[] = [];
    const walk = (value: unknown): void => {
      if (typeof value === 'string') targets.push(value.replace(/^\.\//, ''));
      else if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk);
    };
    walk(pkg.exports);
    walk(pkg.typesVersions);
    walk([pkg.main, pkg.types]);
    const files = tarball.files.map((f) => f.path);
    expect(targets.filter((target) => !files.includes(target))).toEqual([]);
    expect(Object.keys(pkg.exports as object).sort()).toEqual(['.', './core', './openfeature', './package.json', './testing']);
    expect(JSON.stringify(pkg.exports)).not.toContain('switchyard-source');
    expect(pkg).toMatchObject({
      type: 'module',
      sideEffects: false,
      engines: { node: expect.any(String) },
      repository: { directory: 'client-sdk' },
      publishConfig: expect.any(Object),
    });
    expect(pkg.dependencies).toBeUndefined();
  });

  async function runScript(file: string, source: string) {
    writeFileSync(join(host, file), source);
    const stdout = await sh(process.execPath, [file, t.baseUrl, token, JSON.stringify(Object.values(slices))], host);
    return JSON.parse(stdout) as {
      resolved: string;
      status: { source: string; connected: boolean };
      decisions: Record<string, string[]>;
      openFeature: boolean[];
      inMemoryAgrees: boolean;
      coreAgrees: boolean;
      version: string;
    };
  }

  function expectDecisionsOfTheService(result: Awaited<ReturnType<typeof runScript>>): void {
    expect(result.status).toMatchObject({ source: 'service', connected: true });
    expect(result.decisions).toEqual(expected);
    expect(result.decisions[slices.all]!.every((p) => p === 'NEW')).toBe(true);
    expect(result.decisions[slices.none]!.every((p) => p === 'LEGACY')).toBe(true);
    expect(result.decisions[slices.part]![1]).toBe('LEGACY'); // user-1 is excluded
    expect(new Set(result.decisions[slices.part])).toEqual(new Set(['NEW', 'LEGACY']));
    expect(result.openFeature).toEqual(Object.values(slices).map((slice) => expected[slice]![7] === 'NEW'));
    expect(result).toMatchObject({ inMemoryAgrees: true, coreAgrees: true });
  }

  it('is imported as an ES module from the host, and decides as the running service says', async () => {
    const result = await runScript('decide.mjs', ESM_SCRIPT);
    expect(result.resolved).toBe(`file://${join(host, 'node_modules', PACKAGE, 'dist/index.js')}`);
    expectDecisionsOfTheService(result);
  });

  it('is required from CommonJS (the CommonJS build, on any Node 20), and decides the same', async () => {
    const result = await runScript('decide.cjs', CJS_SCRIPT);
    expect(result.resolved).toBe(join(host, 'node_modules', PACKAGE, 'dist/cjs/index.js'));
    expectDecisionsOfTheService(result);
  });

  it('type-checks TypeScript consumers: node16 (ES and CommonJS files), bundler, node10; each against the matching build', async () => {
    writeFileSync(join(host, 'consumer.mts'), consumer(true));
    writeFileSync(join(host, 'consumer.cts'), consumer(false));
    writeFileSync(join(host, 'consumer-bundler.ts'), consumer(true));
    writeFileSync(join(host, 'consumer-node10.ts'), consumer(false));
    const projects = {
      node16: { options: { module: 'node16', moduleResolution: 'node16' }, files: ['consumer.mts', 'consumer.cts'] },
      bundler: { options: { module: 'preserve', moduleResolution: 'bundler' }, files: ['consumer-bundler.ts'] },
      // Deprecated in TypeScript 6, still the default of `module: commonjs` in TypeScript 5: package.json's typesVersions serve it.
      node10: { options: { module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0' }, files: ['consumer-node10.ts'] },
    };
    for (const [name, project] of Object.entries(projects)) {
      const compilerOptions = {
        ...project.options,
        target: 'es2022',
        lib: ['es2023'],
        strict: true,
        noEmit: true,
        // The package's own .d.ts files are checked too, as a consumer's strictest setting would.
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules/@types')],
      };
      writeFileSync(join(host, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions, files: project.files }));
    }
    // One tsc for the three (build mode parses the shared declarations once); --verbose names each
    // project before the files it lists, so each resolution's choice of build can be checked.
    const listed = await sh(process.execPath, [TSC, '-b', '--verbose', '--listFiles', ...Object.keys(projects).map((name) => `tsconfig.${name}.json`)], host);
    const declarations: Record<string, string[]> = {};
    let project = '';
    for (const line of listed.split('\n')) {
      const building = /Building project '.*tsconfig\.(\w+)\.json'/.exec(line);
      if (building !== null) project = building[1]!;
      else if (line.includes(`node_modules/${PACKAGE}/`) && line.endsWith('index.d.ts')) {
        (declarations[project] ??= []).push(line.slice(line.indexOf(`${PACKAGE}/`) + PACKAGE.length + 1));
      }
    }
    for (const files of Object.values(declarations)) files.sort();
    const esm = ['dist/core/index.d.ts', 'dist/index.d.ts', 'dist/openfeature/index.d.ts', 'dist/testing/index.d.ts'];
    const cjs = esm.map((f) => f.replace('dist/', 'dist/cjs/'));
    expect(declarations).toEqual({ node16: [...cjs, ...esm].sort(), bundler: esm, node10: cjs });
  });
});
