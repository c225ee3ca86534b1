import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** One file of the console, ready to send: its bytes, compressed forms and ETag. */
export interface ConsoleAsset {
  readonly contentType: string;
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly brotli: Buffer;
  readonly etag: string;
}

/** What the console is made of, by URL path under /console/, and the policy its page runs under. */
export interface ConsoleBundle {
  readonly assets: ReadonlyMap<string, ConsoleAsset>;
  /** The Content-Security-Policy of every console response. */
  readonly contentSecurityPolicy: string;
  /** Whether the compiled application was found (`npm run build` makes it). */
  readonly built: boolean;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/**
 * The console's files, read once at start-up into memory: the page and stylesheet (console/),
 * the compiled application (dist/console/app, from console/src by `tsc -b`), and the ES modules of
 * Preact and @tanstack/virtual-core from node_modules (console/vendor/), which the page's import map names. Nothing else is
 * ever served under /console/: the set of paths is closed, so no request can reach another file.
 *
 * The policy allows scripts from this origin only, plus the page's one inline element, its import
 * map, by its hash (computed here from the page itself, so editing the map cannot break it).
 */
export function loadConsoleBundle(root: string = packageRoot()): ConsoleBundle {
  const assets = new Map<string, ConsoleAsset>();
  const add = (path: string, file: string) => {
    const contentType = CONTENT_TYPES[extname(file)];
    if (contentType !== undefined) assets.set(path, prepare(readFileSync(file), contentType));
  };
  const page = join(root, 'console');
  add('console.css', join(page, 'console.css'));
  const app = join(root, 'dist', 'console', 'app');
  const built = existsSync(join(app, 'main.js'));
  const modules = built
    ? filesUnder(app)
        .filter((file) => file.endsWith('.js'))
        .map((file) => `app/${relative(app, file).split(sep).join('/')}`)
    : [];
  for (const path of modules) add(path, join(app, path.slice('app/'.length)));
  // Every module main.js needs before it runs (its static imports, all the way down) is named in
  // the page, so the browser fetches them all at once rather than a level of imports at a time
  // (three round trips before anything renders). The screens main.js loads with `import()` when
  // first opened are not: the slice list does not wait for them. Those the page names itself
  // (boot.js and what it imports, first) are not named twice.
  const preact = join(root, 'node_modules', 'preact');
  add('vendor/preact.mjs', join(preact, 'dist', 'preact.mjs'));
  add('vendor/hooks.mjs', join(preact, 'hooks', 'dist', 'hooks.mjs'));
  add('vendor/jsx-runtime.mjs', join(preact, 'jsx-runtime', 'dist', 'jsxRuntime.mjs'));
  // The slice list's windowing (slice-list.tsx): its ES modules import each other by relative path,
  // so they are served side by side under vendor/virtual-core/, the import map naming its entry.
  const virtualCore = join(root, 'node_modules', '@tanstack', 'virtual-core', 'dist', 'esm');
  const vendorModules = readdirSync(virtualCore)
    .filter((file) => file.endsWith('.js'))
    .map((file) => {
      // Its dist reads NODE_ENV from Node's process environment (for debug names), which a browser
      // has not: the read is replaced by "production" here, as a bundler's define would.
      const path = `vendor/virtual-core/${file}`;
      const source = readFileSync(join(virtualCore, file), 'utf8').replace(/\bprocess\.env\.NODE_ENV\b/g, '"production"');
      assets.set(path, prepare(Buffer.from(source, 'utf8'), CONTENT_TYPES['.js']!));
      return path;
    });

  const pageSource = readFileSync(join(page, 'index.html'), 'utf8');
  const needed = staticGraph('app/main.js', (path) => assets.get(path)?.body.toString('utf8') ?? null, importMapOf(pageSource));
  // Named as a script or a preload (the import map names modules too, but fetches nothing).
  const namedByPage = (path: string) => pageSource.includes(`src="/console/${path}"`) || pageSource.includes(`href="/console/${path}"`);
  const preloads = [...modules, ...vendorModules]
    .filter((path) => path !== 'app/main.js' && needed.has(path) && !namedByPage(path))
    .sort()
    .map((path) => `<link rel="modulepreload" href="/console/${path}">\n`)
    .join('');
  const pageHtml = pageSource.replace('<script type="module" src="/console/app/main.js">', `${preloads}$&`);
  assets.set('index.html', prepare(Buffer.from(pageHtml, 'utf8'), CONTENT_TYPES['.html']!));

  const html = assets.get('index.html')?.body.toString('utf8') ?? '';
  const importMap = importMapText(html);
  const scriptSources = ["'self'", ...(importMap === undefined ? [] : [`'sha256-${createHash('sha256').update(importMap, 'utf8').digest('base64')}'`])];
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${scriptSources.join(' ')}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { assets, contentSecurityPolicy, built };
}

/**
 * The modules `entry` imports statically (`import ... from './x.js'`, `import './x.js'`,
 * `export ... from`), and theirs, by path under /console/ ('app/...'); `import()` is not followed.
 * Bare specifiers are followed where `bare` (the page's import map, as paths under /console/) names
 * them, and left out otherwise.
 */
export function staticGraph(entry: string, sourceOf: (path: string) => string | null, bare: ReadonlyMap<string, string> = new Map()): Set<string> {
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    const source = sourceOf(path);
    if (source === null) return;
    for (const match of source.matchAll(/^\s*(?:import|export)\s[^;()]*?\sfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm)) {
      const specifier = match[1] ?? match[2]!;
      if (specifier.startsWith('./') || specifier.startsWith('../')) visit(posix.join(posix.dirname(path), specifier));
      else if (bare.has(specifier)) visit(bare.get(specifier)!);
    }
  };
  visit(entry);
  return seen;
}

function prepare(body: Buffer, contentType: string): ConsoleAsset {
  return {
    contentType,
    body,
    gzip: gzipSync(body, { level: 9 }),
    brotli: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The repository's root: where package.json names this package (src/console/ in tests, dist/src/console/ when built). */
function packageRoot(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'switchyard') return dir;
    } catch {
      // no package.json here: go up
    }
    dir = join(dir, '..');
  }
  throw new Error('the switchyard package root was not found above src/console');
}

/** The text of the page's import map element (what its CSP hash covers), if it has one. */
function importMapText(page: string): string | undefined {
  return /<script type="importmap">([\s\S]*?)<\/script>/.exec(page)?.[1];
}

/** The page's import map, as bare specifier -> path under /console/ ('vendor/...'). */
function importMapOf(page: string): Map<string, string> {
  const map = importMapText(page);
  const imports = map === undefined ? {} : ((JSON.parse(map) as { imports?: Record<string, string> }).imports ?? {});
  return new Map(Object.entries(imports).map(([specifier, url]) => [specifier, url.replace(/^\/console\//, '')]));
}
