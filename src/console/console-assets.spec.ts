import { staticGraph } from './console-assets.js';

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
});
