/**
 * The import rules of STYLE.md ("Import rules"), checked by `npm run lint:deps` (and CI) on the
 * server (src/) and the SDK (client-sdk/src/). Spec files are left out: tests may reach anything.
 * Two rules that are not about imports stay in test/architecture.spec.ts: SQL only in repositories
 * (and the other adapters it names), and process.env read only in src/config.
 *
 * No rule here has an exceptions list: when one fails, move the code, not the rule.
 */

/**
 * The server's modules (folders of src/; '' is the app root, src/*.ts: the wiring), from the bottom
 * up: each may import only those listed before it. Such an order exists exactly when the module
 * graph has no cycle, so this is the "no cycles between modules" rule, written so that a failure
 * names the edge to remove. A new import that contradicts the order without closing a cycle only
 * needs its line moved; a folder missing here fails `src-module-unlisted`.
 * A nested entry (history/proof) is a module of its own, apart from its parent.
 */
const MODULES = [
  'common', // errors, GraphQL plumbing, HTTP, validation: no feature
  'access', // roles, permissions, Requires/Public/CurrentActor: what every feature's handlers declare
  'plans/evaluation', // pure: what a running plan step should do, given its evidence (no I/O, no clock)
  'history/proof', // the pure chain, checkpoint and export formats (Node only; the CLI and verifiers use them)
  'config', // env validated once into AppConfig
  'database', // DataSource, engines, migrations runner
  'history', // the record: read, verify, checkpoints
  'changes', // the write pipeline: ChangeService, idempotency, checkpoint schedule
  'metrics', // Prometheus: reads state through its own interfaces (state-sources.ts)
  'auth', // tokens and the guard
  'segments',
  'slices',
  'rollback',
  'freeze', // freeze windows: their configuration and the exposure guard they register with slices
  'decision',
  'delivery', // snapshot, change feeds, SDK streams, HTTP fast path
  'traffic', // SDK usage reports
  'compat', // Unleash client API
  'plans', // cutover plans: model, API, the guard and the runner (imports slices, rollback, traffic)
  'health',
  'console', // serves the web console's files and its sign-in (the page itself is console/src: see console-public-api-only)
  '', // the app root: app.module.ts, graphql.config.ts, entities.ts, main.ts, admin recovery
  'scripts', // entry points (schema, migrations, admin:recover)
  'cli', // its own program: GraphQL over HTTP (see cli-public-api-only)
];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A regex for the files of one module, without those of modules nested in it. */
function filesOf(module) {
  if (module === '') return '^src/[^/]+$';
  const nested = MODULES.filter((m) => m !== module && m.startsWith(`${module}/`)).map((m) => escape(m.slice(module.length + 1)) + '/');
  return `^src/${escape(module)}/${nested.length > 0 ? `(?!${nested.join('|')})` : ''}`;
}

const moduleOrder = MODULES.slice(0, -1).map((module, i) => ({
  name: 'src-module-order',
  severity: 'error',
  comment:
    `src/${module || '*.ts (app root)'} may import only modules listed before it in MODULES ` +
    '(.dependency-cruiser.cjs): no cycles between src/ modules. Move the code that needs the import, or, when no cycle results, the line.',
  from: { path: filesOf(module) },
  to: {
    path: MODULES.slice(i + 1)
      .map(filesOf)
      .join('|'),
  },
}));

module.exports = {
  forbidden: [
    ...moduleOrder,
    {
      name: 'src-module-unlisted',
      severity: 'error',
      comment: 'Every folder of src/ that imports or is imported is listed in MODULES (.dependency-cruiser.cjs), in order.',
      from: { path: '^src/', pathNot: MODULES.map(filesOf).join('|') },
      to: {},
    },
    {
      name: 'src-module-unlisted',
      severity: 'error',
      comment: 'Every folder of src/ that imports or is imported is listed in MODULES (.dependency-cruiser.cjs), in order.',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: MODULES.map(filesOf).join('|') },
    },
    {
      name: 'common-imports-no-feature',
      severity: 'error',
      comment: 'src/common/ is plumbing every module uses: it imports nothing else of src/ (app wiring goes in the app root).',
      from: { path: '^src/common/' },
      to: { path: '^src/', pathNot: '^src/common/' },
    },
    {
      name: 'resolvers-not-repositories',
      severity: 'error',
      comment: 'Resolvers adapt and call services; only services use repositories (STYLE.md).',
      from: { path: '\\.resolver\\.ts$' },
      to: { path: '\\.repository\\.ts$' },
    },
    {
      name: 'typeorm-in-adapters-only',
      severity: 'error',
      comment:
        "TypeORM's DataSource, EntityManager and decorators are used by repositories, entities, database/, " +
        'the one unit of work (ChangeService opens the transaction) and the app wiring and entry points. ' +
        'Elsewhere only as a type (`import type { EntityManager }`: a transaction handed on to a repository).',
      from: {
        path: '^src/',
        pathNot: ['\\.repository\\.ts$', '\\.entity\\.ts$', '^src/database/', '^src/changes/change\\.service\\.ts$', '^src/[^/]+\\.ts$', '^src/scripts/'],
      },
      to: { path: '^node_modules/(typeorm|@nestjs/typeorm)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'console-public-api-only',
      severity: 'error',
      comment:
        'The web console (console/src) is a client of the public GraphQL API and the documented streams: it imports itself, Preact and @tanstack/virtual-core (the vendor modules src/console/console-assets.ts serves), no service or SDK code.',
      from: { path: '^console/src/' },
      to: { pathNot: ['^console/src/', '^node_modules/preact/', '^node_modules/@tanstack/virtual-core/'] },
    },
    {
      name: 'cli-public-api-only',
      severity: 'error',
      comment: 'The CLI speaks GraphQL over HTTP: it imports itself and the pure history proof modules (offline verification), no service code.',
      from: { path: '^src/cli/' },
      to: { path: '^(src|client-sdk)/', pathNot: ['^src/cli/', '^src/history/proof/'] },
    },
    {
      name: 'history-proof-pure',
      severity: 'error',
      comment: 'The history proof modules import only Node and each other: the CLI and offline verifiers load them without the service.',
      from: { path: '^src/history/proof/' },
      to: { pathNot: '^src/history/proof/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'sdk-core-self-contained',
      severity: 'error',
      comment: 'client-sdk/src/core is pure: no Node, no npm package, nothing outside itself (the server reuses it, in any runtime).',
      from: { path: '^client-sdk/src/core/' },
      to: { pathNot: '^client-sdk/src/core/' },
    },
    {
      name: 'openfeature-public-api-only',
      severity: 'error',
      comment: "The OpenFeature provider uses the SDK as any host does, through its public entry (client-sdk/src/index.ts, the package's '.' export), and its own files.",
      from: { path: '^client-sdk/src/openfeature/' },
      to: { path: '^client-sdk/', pathNot: ['^client-sdk/src/openfeature/', '^client-sdk/src/index\\.ts$'] },
    },
    {
      name: 'server-uses-sdk-core-only',
      severity: 'error',
      comment: 'The server reuses the decision core (the @switchyard/client-sdk/core entry), never the client or a copy.',
      from: { path: '^src/' },
      to: { path: '^client-sdk/', pathNot: '^client-sdk/src/core/index\\.ts$' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve cannot be checked (nor run).',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: '^node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
    // Pure type imports count: a type-only import still ties the modules' designs together.
    tsPreCompilationDeps: true,
    // tsconfig.deps.json maps @switchyard/client-sdk/* to the SDK's sources (as Jest does), so the
    // server's imports of the core resolve on a clean clone, before anything is built; with
    // "module": "nodenext", TypeScript's `.js` specifiers resolve to the `.ts` files.
    tsConfig: { fileName: 'tsconfig.deps.json' },
    skipAnalysisNotInRules: true,
  },
};
