import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { loadConsoleBundle, staticGraph } from './console-assets.js';

describe('staticGraph (what the console page preloads)', () => {
  const sources: Record<string, string> = {
    'app/main.js': [
      "import { jsx as _jsx } from 'preact/jsx-runtime';",
      "import { render } from 'preact';",
      "import { SliceList } from './slice-list.js';",
      "import './boot.js';",
      "export { x } from './re-export.js';",
      "const PAGES = { slice: () => import('./slice-page.js') };",
    ].join('\n'),
    'app/slice-list.js': "import {\n  a,\n  b\n} from './format.js';\nimport { c } from './sub/deep.js';",
    'app/sub/deep.js': "import { d } from '../format.js';",
    'app/slice-page.js': "import { e } from './targeting-editor.js';",
  };
  const graph = staticGraph('app/main.js', (path) => sources[path] ?? '');

  it('follows static imports and re-exports all the way down, relative paths resolved', () => {
    expect([...graph].sort()).toEqual(['app/boot.js', 'app/format.js', 'app/main.js', 'app/re-export.js', 'app/slice-list.js', 'app/sub/deep.js']);
  });

  it('leaves out what is loaded with import() when first needed, and bare specifiers (the import map)', () => {
    expect(graph.has('app/slice-page.js')).toBe(false);
    expect(graph.has('app/targeting-editor.js')).toBe(false);
    expect([...graph].some((path) => path.includes('preact'))).toBe(false);
  });

  it('follows a bare specifier where the import map names it, into that module and its own imports', () => {
    const vendor: Record<string, string> = {
      'app/main.js': "import { render } from 'preact';\nimport { V } from 'windowing';\nimport { x } from 'unmapped';",
      'vendor/w/index.js': 'import { u } from "./utils.js";',
    };
    const mapped = staticGraph('app/main.js', (path) => vendor[path] ?? '', new Map([['windowing', 'vendor/w/index.js']]));
    expect([...mapped].sort()).toEqual(['app/main.js', 'vendor/w/index.js', 'vendor/w/utils.js']);
  });
});

describe('the vendor modules the console serves', () => {
  const bundle = loadConsoleBundle();
  const text = (path: string) => bundle.assets.get(path)!.body.toString('utf8');
  const page = text('index.html');
  const importMap = JSON.parse(/<script type="importmap">([\s\S]*?)<\/script>/.exec(page)![1]!) as { imports: Record<string, string> };
  const vendor = [...bundle.assets.keys()].filter((path) => path.startsWith('vendor/'));

  it('serves every module the import map names, and every module those import by relative path', () => {
    for (const url of Object.values(importMap.imports)) expect(bundle.assets.has(url.replace(/^\/console\//, ''))).toBe(true);
    for (const path of vendor) {
      for (const match of text(path).matchAll(/\bfrom\s*["'](\.{1,2}\/[^"']+)["']/g)) {
        expect(bundle.assets.has(posix.join(posix.dirname(path), match[1]!))).toBe(true);
      }
    }
  });

  it('leaves no Node global in them (a browser has no process: the windowing would throw on the list)', () => {
    expect(vendor.length).toBeGreaterThanOrEqual(4);
    for (const path of vendor) expect(text(path)).not.toMatch(/\bprocess\.env\b/);
  });
});

describe('the page loadConsoleBundle serves', () => {
  // A root of its own: the page and stylesheet of this repository, node_modules linked, and a
  // compiled application of three modules, the list importing the windowing by its bare name.
  const root = mkdtempSync(join(tmpdir(), 'console-assets-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'console'));
  cpSync(join(process.cwd(), 'console', 'index.html'), join(root, 'console', 'index.html'));
  cpSync(join(process.cwd(), 'console', 'console.css'), join(root, 'console', 'console.css'));
  symlinkSync(join(process.cwd(), 'node_modules'), join(root, 'node_modules'), 'dir');
  const app = join(root, 'dist', 'console', 'app');
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'main.js'), "import { render } from 'preact';\nimport { SliceList } from './slice-list.js';\nconst later = () => import('./slice-page.js');\n");
  writeFileSync(join(app, 'slice-list.js'), "import { Virtualizer } from '@tanstack/virtual-core';\n");
  writeFileSync(join(app, 'slice-page.js'), 'export const page = 1;\n');
  const page = loadConsoleBundle(root).assets.get('index.html')!.body.toString('utf8');
  const preloaded = [...page.matchAll(/<link rel="modulepreload" href="\/console\/([^"]+)"/g)].map((m) => m[1]!);

  it('preloads the list and every module of the windowing it imports (its entry too, which the import map also names), not the screens loaded later', () => {
    expect(preloaded).toEqual(expect.arrayContaining(['app/slice-list.js', 'vendor/virtual-core/index.js', 'vendor/virtual-core/utils.js']));
    expect(preloaded).not.toContain('app/slice-page.js');
    expect(preloaded).not.toContain('app/main.js');
  });

  it('names no module twice', () => {
    expect(new Set(preloaded).size).toBe(preloaded.length);
  });
});
