import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The layering rules of STYLE.md, checked on the source text (no dependency needed):
 *  - the decision core imports nothing outside itself (no Node, no npm, no service code);
 *  - SQL and transactions live in repositories, change feeds, database/ and migrations/ only
 *    (ChangeService, the one unit of work, opens the transaction);
 *  - resolvers call services, never repositories;
 *  - the CLI speaks only the public API: it imports no service code but the pure history proof
 *    modules (chain, checkpoints, export format), which verify offline and import only Node.
 */
const ROOT = process.cwd();

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g), ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (m) => m[1]!,
  );
}

describe('architecture', () => {
  it('client-sdk/src/core imports only its own modules', () => {
    const files = sources('client-sdk/src/core');
    expect(files.length).toBeGreaterThan(5);
    const escapes = files.flatMap((f) => importsOf(f).filter((spec) => !/^\.\/[a-z0-9-]+\.js$/.test(spec)).map((spec) => `${f} -> ${spec}`));
    expect(escapes).toEqual([]);
  });

  it('only repositories, database/ and migrations run SQL or open transactions', () => {
    const allowed = (f: string) =>
      f.endsWith('.repository.ts') ||
      f.endsWith('-change-feed.ts') || // LISTEN on its own connection: an adapter, like a repository
      f.startsWith('src/database/') ||
      f.startsWith('src/scripts/') ||
      f === 'src/changes/change.service.ts';
    const offenders = sources('src').filter((f) => !allowed(f) && /\.(query|transaction|createQueryBuilder)\(/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('the CLI imports only itself and the pure history proof modules, which import only Node and each other', () => {
    const PROOF = ['src/history/proof/hash-chain.ts', 'src/history/proof/history-checkpoint.ts', 'src/history/proof/history-export.ts'];
    const resolve = (from: string, spec: string) => relative(ROOT, join(ROOT, from, '..', spec)).replace(/\.js$/, '.ts');
    const cliEscapes = sources('src/cli').flatMap((f) =>
      importsOf(f)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => resolve(f, spec))
        .filter((target) => !target.startsWith('src/cli/') && !PROOF.includes(target))
        .map((target) => `${f} -> ${target}`),
    );
    expect(cliEscapes).toEqual([]);
    const proofEscapes = PROOF.flatMap((f) =>
      importsOf(f)
        .filter((spec) => !spec.startsWith('node:') && !PROOF.includes(resolve(f, spec)))
        .map((spec) => `${f} -> ${spec}`),
    );
    expect(proofEscapes).toEqual([]);
  });

  it('resolvers do not import repositories', () => {
    const offenders = sources('src')
      .filter((f) => f.endsWith('.resolver.ts'))
      .flatMap((f) => importsOf(f).filter((spec) => spec.endsWith('.repository.js')).map((spec) => `${f} -> ${spec}`));
    expect(offenders).toEqual([]);
  });
});
