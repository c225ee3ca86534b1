/**
 * Builds the package as it is published (`npm run build`, and `prepack` before `npm pack` /
 * `npm publish`): the ES build in dist/ (what `tsc -b` builds for the monorepo too) and the
 * CommonJS build in dist/cjs/ (tsconfig.cjs.json), from scratch.
 *
 * From scratch because a tarball must hold exactly what the sources give: `tsc -b` alone leaves
 * the output of a deleted or renamed source file in dist/, and would pack it. `--force` because the
 * build info files (beside the tsconfigs, not in dist/) would otherwise say "up to date" after
 * dist/ is gone.
 *
 * TypeScript is resolved from here, so this works in the monorepo (hoisted to the root's
 * node_modules) and in a copy of client-sdk/ with its own `npm install` alike.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

function run(...args) {
  const result = spawnSync(process.execPath, [tsc, ...args], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
run('-b', '--force', 'tsconfig.json');
run('-p', 'tsconfig.cjs.json');
// The package is "type": "module": without this marker Node would read dist/cjs/*.js as ES modules,
// and TypeScript would read dist/cjs/*.d.ts as ES declarations.
writeFileSync(new URL('../dist/cjs/package.json', import.meta.url), `${JSON.stringify({ type: 'commonjs' })}\n`);
