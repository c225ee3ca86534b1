/**
 * npm run bench:console
 *
 * The console's slice list at 1,000 slices, in Debian's Chromium (playwright-core), against the
 * built service on the embedded engine in its own process:
 *  - from navigation start to the list holding all 1,000 slices (its count says "1000 of 1000" and
 *    its first rows are drawn: the list renders only the rows in and near the viewport,
 *    console/src/window-rows.ts), and to it being interactive (the search box typed into has
 *    filtered the list to the one slice it names, the last one): median and max over BENCH_RUNS
 *    page loads, each in a fresh browser context (cold cache, signed in beforehand), target under 1 s;
 *  - then, the search cleared, the stats columns (NEW seen, followers behind) filled in the rows drawn;
 *  - what the browser downloaded for one such load, as transferred (compressed where the service
 *    compresses), by kind, target under 300 KB.
 * Prints figures; asserts nothing (machines are shared and noisy).
 */
import { type Browser, type CDPSession, chromium, type Page } from 'playwright-core';
import { type BenchServer, graphql, percentile, startServer } from './bench-server.js';

const SLICES = 1000;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TARGET = { interactiveMs: 1000, bytes: 300 * 1024 };

async function seed(server: BenchServer): Promise<void> {
  const tags = ['payments', 'ledger', 'checkout', 'search', 'kenya'];
  for (let i = 0; i < SLICES; i += 25) {
    await Promise.all(
      Array.from({ length: 25 }, (_, j) => {
        const n = i + j;
        return graphql(
          server,
          'mutation($key: String!, $tags: [String!]!, $p: Float!) { createSlice(key: $key, tags: $tags, percent: $p, owner: "bench-team", description: "a route of the legacy monolith", reason: "bench") { key } }',
          {
            key: `bench.route-${String(n).padStart(4, '0')}`,
            tags: [tags[n % tags.length]!, tags[(n + 2) % tags.length]!],
            p: n % 101,
          },
        );
      }),
    );
  }
}

/** Bytes as they crossed the wire (headers included), per request, from Chromium's network events; the event stream's by its messages. */
class TransferMeter {
  private readonly finished = new Map<string, number>();
  private readonly streaming = new Map<string, number>();
  private readonly kinds = new Map<string, string>();
  /** Events the page's EventSource received: the first is the stream's snapshot. */
  streamEvents = 0;

  static async attach(page: Page): Promise<TransferMeter> {
    const meter = new TransferMeter();
    const cdp: CDPSession = await page.context().newCDPSession(page);
    cdp.on('Network.requestWillBeSent', (e: { requestId: string; request: { url: string } }) => meter.kinds.set(e.requestId, kindOf(e.request.url)));
    cdp.on('Network.loadingFinished', (e: { requestId: string; encodedDataLength: number }) => meter.finished.set(e.requestId, e.encodedDataLength));
    // An event stream never finishes, and Chromium reports its bytes unreliably before it does:
    // count the data of its messages instead (the stream is not compressed; its framing is a few bytes).
    cdp.on('Network.eventSourceMessageReceived', (e: { requestId: string; data: string }) => {
      meter.streamEvents++;
      meter.streaming.set(e.requestId, (meter.streaming.get(e.requestId) ?? 0) + Buffer.byteLength(e.data));
    });
    await cdp.send('Network.enable');
    return meter;
  }

  byKind(): Record<string, number> {
    const totals: Record<string, number> = {};
    for (const [id, kind] of this.kinds) totals[kind] = (totals[kind] ?? 0) + (this.finished.get(id) ?? this.streaming.get(id) ?? 0);
    return totals;
  }
}

function kindOf(url: string): string {
  const path = new URL(url).pathname;
  if (path === '/graphql') return 'graphql';
  if (path.startsWith('/sdk/')) return 'stream';
  if (path === '/console/session') return 'session';
  return 'assets';
}

// What the function measuring in the page uses of the DOM (it runs there, passed as a function, not a
// string: the console's CSP forbids eval). This bench compiles without the DOM library.
declare const document: {
  querySelectorAll(selector: string): { length: number; [index: number]: { textContent: string | null; getAttribute(name: string): string | null } };
  querySelector(selector: string): { value: string; textContent: string | null; dispatchEvent(event: unknown): boolean } | null;
};
declare function requestAnimationFrame(callback: () => void): number;
declare const Event: new (type: string, init: { bubbles: boolean }) => unknown;

interface Run {
  rowsMs: number;
  interactiveMs: number;
  statsMs: number;
  bytes: Record<string, number>;
}

async function load(browser: Browser, server: BenchServer): Promise<Run> {
  const context = await browser.newContext();
  try {
    // Signed in beforehand: the cookie is in the context, as for someone who opens the console again.
    const signIn = await context.request.post(`${server.baseUrl}/console/session`, { data: { token: server.token } });
    if (!signIn.ok()) throw new Error(`sign-in: HTTP ${signIn.status()}`);
    const page = await context.newPage();
    const meter = await TransferMeter.attach(page);
    const verbose = process.env.BENCH_VERBOSE === '1';
    const cdp = verbose ? await context.newCDPSession(page) : null;
    await cdp?.send('Performance.enable');
    await page.goto(`${server.baseUrl}/console/#/slices`);
    // Measured in the page, on its own clock (performance.now(), from navigation start), so that
    // no round trip of the harness is counted: every frame, are all rows there? Then type a search
    // as a user does (an input event) and wait for the frame that shows the filtered list (rows the
    // filter leaves out are hidden). Then clear it, and wait for every row's stats columns to be
    // filled: the list complete, so that work moved after "interactive" shows here.
    const { rowsMs, interactiveMs, statsMs } = await page.evaluate(
      ({ slices, search, first }) =>
        new Promise<{ rowsMs: number; interactiveMs: number; statsMs: number }>((resolve) => {
          // The list renders only the rows in and near the viewport (console/src/window-rows.ts):
          // it is whole when its count says every slice is there and its first rows are drawn.
          const rendered = () => document.querySelectorAll('tr[data-slice]');
          const whole = () => {
            const rows = rendered();
            return document.querySelector('.count')?.textContent === `${slices} of ${slices} slices` && rows.length > 0 && rows[0]!.getAttribute('data-slice') === first;
          };
          const filtered = () => {
            const rows = rendered();
            return rows.length === 1 && rows[0]!.getAttribute('data-slice') === `bench.${search}`;
          };
          const type = (text: string) => {
            const box = document.querySelector('input[type="search"]')!;
            box.value = text;
            box.dispatchEvent(new Event('input', { bubbles: true }));
          };
          const statsShown = () => {
            const cells = document.querySelectorAll('tr[data-slice] > td:nth-child(6)');
            for (let i = 0; i < cells.length; i++) if (cells[i]!.textContent === '…') return false;
            return cells.length === rendered().length;
          };
          const waitRows = () => {
            if (!whole()) return void requestAnimationFrame(waitRows);
            const rowsMs = performance.now();
            type(search);
            const waitFiltered = () => {
              if (!filtered()) return void requestAnimationFrame(waitFiltered);
              const interactiveMs = performance.now();
              type('');
              const waitStats = () => (whole() && statsShown() ? resolve({ rowsMs, interactiveMs, statsMs: performance.now() }) : void requestAnimationFrame(waitStats));
              requestAnimationFrame(waitStats);
            };
            requestAnimationFrame(waitFiltered);
          };
          requestAnimationFrame(waitRows);
        }),
      { slices: SLICES, search: 'route-0999', first: 'bench.route-0000' },
    );
    // The stream's first event (the current snapshot, sent whole) is part of every load: wait for it before counting bytes.
    for (let i = 0; i < 200 && meter.streamEvents === 0; i++) await new Promise((r) => setTimeout(r, 50));
    if (verbose) {
      // Where the time went: each request's start and end on the page's clock.
      const entries = await page.evaluate<[string, number, number][]>(() =>
        performance
          .getEntriesByType('resource')
          .map((e) => [e.name.replace(/^https?:\/\/[^/]+/, ''), Math.round(e.startTime), Math.round((e as unknown as { responseEnd: number }).responseEnd)]),
      );
      for (const [name, start, end] of entries) console.log(`    ${String(start).padStart(5)} → ${String(end).padStart(5)} ms  ${name}`);
      // The page's tasks over 50 ms (rendering the rows is one), on the same clock.
      const longTasks = await page.evaluate<[number, number][]>(
        () =>
          new Promise((resolve) => {
            new PerformanceObserver((list, observer) => {
              observer.disconnect();
              resolve(list.getEntries().map((e) => [Math.round(e.startTime), Math.round(e.duration)]));
            }).observe({ type: 'longtask' as never, buffered: true }); // Node's types know no long tasks; Chromium does
            setTimeout(() => resolve([]), 500);
          }),
      );
      console.log(`    long tasks (start+duration ms): ${longTasks.map(([s, d]) => `${s}+${d}`).join(' ')}`);
      // The page's main thread by kind of work, from Chromium's own counters (seconds, whole load).
      const { metrics } = await cdp!.send('Performance.getMetrics');
      const ms = (name: string) => Math.round((metrics.find((m) => m.name === name)?.value ?? 0) * 1000);
      console.log(
        `    main thread: script ${ms('ScriptDuration')} ms, style ${ms('RecalcStyleDuration')} ms, layout ${ms('LayoutDuration')} ms, all tasks ${ms('TaskDuration')} ms`,
      );
      console.log(`    rows ${rowsMs.toFixed(0)} ms, interactive ${interactiveMs.toFixed(0)} ms, stats ${statsMs.toFixed(0)} ms, stream events ${meter.streamEvents}`);
    }
    return { rowsMs, interactiveMs, statsMs, bytes: meter.byKind() };
  } finally {
    await context.close();
  }
}

function stats(values: number[]): { median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), max: sorted[sorted.length - 1]! };
}

async function main(): Promise<void> {
  const server = await startServer('embedded');
  let browser: Browser | undefined;
  try {
    await seed(server);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    await load(browser, server); // warm-up: the service's first GraphQL requests, Chromium's first start
    const runs: Run[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await load(browser, server));
    const rows = stats(runs.map((r) => r.rowsMs));
    const interactive = stats(runs.map((r) => r.interactiveMs));
    const statsShown = stats(runs.map((r) => r.statsMs));
    const bytes = runs[0]!.bytes;
    const total = Object.values(bytes).reduce((a, b) => a + b, 0);
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
    console.log(`console, ${SLICES} slices, embedded engine, ${RUNS} cold page loads (signed in), Chromium headless`);
    console.log(`  list whole:          median ${rows.median.toFixed(0)} ms, max ${rows.max.toFixed(0)} ms`);
    console.log(`  interactive (search): median ${interactive.median.toFixed(0)} ms, max ${interactive.max.toFixed(0)} ms (target < ${TARGET.interactiveMs} ms)`);
    console.log(`  stats columns filled: median ${statsShown.median.toFixed(0)} ms, max ${statsShown.max.toFixed(0)} ms (the search cleared first)`);
    console.log(
      `  transferred: ${kb(total)} (target < ${kb(TARGET.bytes)}): ${Object.entries(bytes)
        .map(([k, v]) => `${k} ${kb(v)}`)
        .join(', ')}`,
    );
    console.log(JSON.stringify({ slices: SLICES, runs: RUNS, rowsMs: rows, interactiveMs: interactive, statsMs: statsShown, transferredBytes: { total, ...bytes } }));
  } finally {
    await browser?.close();
    await server.stop();
  }
}

await main();
