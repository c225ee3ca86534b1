import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The two rules of STYLE.md that are not about imports, checked on the source text. The import
 * rules (modules without cycles, common/ importing no feature, resolvers not importing
 * repositories, the pure SDK core, the CLI and the OpenFeature provider on public APIs only, TypeORM
 * in the adapters) are dependency-cruiser's: `npm run lint:deps`, .dependency-cruiser.cjs.
 *  - SQL and transactions live in repositories, change feeds, database/ and migrations/ only
 *    (ChangeService, the one unit of work, opens the transaction);
 *  - only src/config reads the environment: everything else gets AppConfig (an entry point may hand
 *    `process.env` whole to a loader, which is not reading a variable).
 */
const ROOT = process.cwd();

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

describe('architecture', () => {
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

  it('only src/config reads environment variables', () => {
    // `process.env.X`, `process.env['X']`, `process.env?.X` or destructuring `{ X } = process.env`.
    const reads = /process\.env\s*(?:\??\.|\[)|=\s*process\.env\b/;
    const offenders = sources('src').filter((f) => !f.startsWith('src/config/') && reads.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
