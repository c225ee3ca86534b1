/**
 * The entry-point boundaries of the OpenFeature provider, checked on the source text:
 * - nothing outside src/openfeature imports @openfeature (it is an optional peer: the main entry
 *   must load without it);
 * - the provider uses the SDK's public API only (../index.js), besides its own modules.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts'))
    .map((e) => join(e.parentPath, e.name));
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g), ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!);
}

describe('the openfeature entry point', () => {
  it('is the only part of the SDK that imports @openfeature', () => {
    const offenders = sources(SRC)
      .filter((f) => !relative(SRC, f).startsWith('openfeature/'))
      .flatMap((f) =>
        importsOf(f)
          .filter((spec) => spec.startsWith('@openfeature'))
          .map((spec) => `${relative(SRC, f)} -> ${spec}`),
      );
    expect(offenders).toEqual([]);
  });

  it('uses the public API only', () => {
    const files = sources(join(SRC, 'openfeature'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    const offenders = files.flatMap((f) =>
      importsOf(f)
        .filter((spec) => spec !== '@openfeature/server-sdk' && spec !== '../index.js' && !/^\.\/[a-z0-9-]+\.js$/.test(spec))
        .map((spec) => `${relative(SRC, f)} -> ${spec}`),
    );
    expect(offenders).toEqual([]);
  });
});
