import { type Command, InvalidArgumentError, Option } from 'commander';
import { type Intent, READ_TOKENS } from '../errors.js';
import { clean, formatCount, formatTime, table } from '../output.js';
import { parsePositiveInt } from '../parsers.js';
import type { OpenSession } from '../session.js';

/** What Slice.outcomes returns (docs/outcomes.md, "On the service"); rates are fractions. */
interface PathOutcome {
  calls: number;
  failures: number;
  failureRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}
interface ComparisonOutcome {
  compared: number;
  mismatches: number;
  otherFailures: number;
  timeouts: number;
  mismatchRate: number | null;
  mismatchRateLow: number | null;
  mismatchRateHigh: number | null;
  thresholdPercent: number;
  status: 'WITHIN' | 'ABOVE' | 'NOT_ENOUGH_DATA';
  comparisonsNeeded: number | null;
}
interface MismatchSample {
  at: string;
  receivedAt: string;
  appName: string;
  served: 'NEW' | 'LEGACY';
  subject: string;
  diff: string;
}
export interface SliceOutcomesView {
  window: string;
  from: string;
  to: string;
  legacy: PathOutcome;
  new: PathOutcome;
  failureRateDifference: { estimate: number; low: number; high: number } | null;
  latencyDifferenceMs: { p50: number | null; p95: number | null; p99: number | null } | null;
  comparison: ComparisonOutcome;
  byApp: { appName: string; legacy: PathOutcome; new: PathOutcome; comparison: ComparisonOutcome }[];
}

const WINDOWS: Record<string, { value: string; label: string }> = {
  '5m': { value: 'LAST_5_MINUTES', label: 'the last 5 minutes' },
  '1h': { value: 'LAST_HOUR', label: 'the last hour' },
  '1d': { value: 'LAST_DAY', label: 'the last day' },
  'since-change': { value: 'SINCE_LAST_CHANGE', label: 'since its last change' },
};

function parseWindow(value: string): string {
  if (!(value in WINDOWS)) throw new InvalidArgumentError(`expected one of ${Object.keys(WINDOWS).join(', ')}.`);
  return value;
}

const PATH = 'calls failures failureRate p50Ms p95Ms p99Ms';
const COMPARISON = 'compared mismatches otherFailures timeouts mismatchRate mismatchRateLow mismatchRateHigh thresholdPercent status comparisonsNeeded';
const OUTCOMES = `query($key: String!, $window: OutcomeWindow!, $appName: String) {
  slice(key: $key) { key outcomes(window: $window, appName: $appName) {
    window from to legacy { ${PATH} } new { ${PATH} }
    failureRateDifference { estimate low high } latencyDifferenceMs { p50 p95 p99 }
    comparison { ${COMPARISON} }
    byApp { appName legacy { ${PATH} } new { ${PATH} } comparison { ${COMPARISON} } } } }
}`;
const MISMATCHES = `query($key: String!, $limit: Int!) {
  slice(key: $key) { key outcomes(window: LAST_DAY) { comparison { compared mismatches thresholdPercent samples(limit: $limit) { at receivedAt appName served subject diff } } } }
}`;

/** `1.99 %` for a fraction; `-` for none. Up to four significant decimals, so that 0.1 % and 0.0177 % both read. */
function percentOf(rate: number | null, signed = false): string {
  if (rate === null) return '-';
  const percent = rate * 100;
  const text = Math.abs(percent) >= 1 ? percent.toFixed(2) : percent.toPrecision(3).replace(/0+$/, '').replace(/\.$/, '');
  return `${signed && percent > 0 ? '+' : ''}${text} %`;
}

function ms(value: number | null, signed = false): string {
  if (value === null) return '-';
  const text = Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 1 ? value.toFixed(1) : value.toPrecision(2);
  return `${signed && value > 0 ? '+' : ''}${text} ms`;
}

function comparisonLine(c: ComparisonOutcome): string {
  if (c.compared === 0 && c.otherFailures + c.timeouts === 0) {
    return `No comparisons; threshold ${c.thresholdPercent} %: NOT_ENOUGH_DATA${c.comparisonsNeeded === null ? '' : ` (${formatCount(c.comparisonsNeeded)} without a mismatch would show WITHIN)`}.`;
  }
  const rate = `${percentOf(c.mismatchRate)}, 95 % interval ${percentOf(c.mismatchRateLow)} to ${percentOf(c.mismatchRateHigh)}`;
  const other = c.otherFailures + c.timeouts > 0 ? `; not compared: ${formatCount(c.otherFailures)} failed, ${formatCount(c.timeouts)} timed out` : '';
  const need =
    c.status !== 'NOT_ENOUGH_DATA'
      ? ''
      : c.comparisonsNeeded === null
        ? ' (the rate is at the threshold)'
        : ` (about ${formatCount(c.comparisonsNeeded)} more at this rate would decide)`;
  return `${formatCount(c.compared)} compared, ${formatCount(c.mismatches)} mismatched (${rate})${other}; threshold ${c.thresholdPercent} %: ${c.status}${need}.`;
}

export function registerOutcomesCommands(program: Command, open: OpenSession): void {
  program
    .command('outcomes')
    .description(
      'both paths of a slice side by side: calls, failure rate and latency percentiles, NEW - LEGACY with its confidence interval, and shadow comparisons against the mismatch threshold, per app',
    )
    .argument('<slice>', 'the slice key')
    .addOption(new Option('--window <window>', 'the minutes to count: 5m, 1h, 1d or since-change (default: 1h)').argParser(parseWindow))
    .addOption(new Option('--app <name>', 'only this app (all its instances)'))
    .action(async (key: string, options: { window?: string; app?: string }, command: Command) => {
      const { client, out } = open(command);
      const window = WINDOWS[options.window ?? '1h']!;
      const intent: Intent = { action: 'read slices', allowedTokens: READ_TOKENS, sliceKey: key };
      const { slice } = await client.request<{ slice: { key: string; outcomes: SliceOutcomesView } }>(
        OUTCOMES,
        { key, window: window.value, appName: options.app ?? null },
        intent,
      );
      const o = slice.outcomes;
      out.result({ key: slice.key, appName: options.app ?? null, ...o }, () => {
        const scope = options.app === undefined ? 'all apps' : `app ${options.app}`;
        const head = `${slice.key}, ${window.label} (${formatTime(o.from)} to ${formatTime(o.to)}), ${scope}:`;
        const paths = table(
          [
            ['LEGACY', o.legacy],
            ['NEW', o.new],
          ] as const,
          [
            { header: 'PATH', value: ([p]) => p },
            { header: 'CALLS', value: ([, v]) => formatCount(v.calls), align: 'right' },
            { header: 'FAILURES', value: ([, v]) => formatCount(v.failures), align: 'right' },
            { header: 'FAILURE RATE', value: ([, v]) => percentOf(v.failureRate), align: 'right' },
            { header: 'P50', value: ([, v]) => ms(v.p50Ms), align: 'right' },
            { header: 'P95', value: ([, v]) => ms(v.p95Ms), align: 'right' },
            { header: 'P99', value: ([, v]) => ms(v.p99Ms), align: 'right' },
          ],
          out.width,
        );
        const d = o.failureRateDifference;
        const l = o.latencyDifferenceMs;
        const difference =
          d === null || l === null
            ? 'NEW - LEGACY: needs calls on both paths.'
            : `NEW - LEGACY: failure rate ${percentOf(d.estimate, true)} (95 % interval ${percentOf(d.low, true)} to ${percentOf(d.high, true)}); p50 ${ms(l.p50, true)}, p95 ${ms(l.p95, true)}, p99 ${ms(l.p99, true)}.`;
        const apps =
          o.byApp.length === 0
            ? 'No app reported outcomes in this window.\n'
            : table(
                o.byApp,
                [
                  { header: 'APP', value: (a) => a.appName, shrinkTo: 8 },
                  { header: 'LEGACY CALLS', value: (a) => formatCount(a.legacy.calls), align: 'right' },
                  { header: 'LEGACY FAIL', value: (a) => percentOf(a.legacy.failureRate), align: 'right' },
                  { header: 'NEW CALLS', value: (a) => formatCount(a.new.calls), align: 'right' },
                  { header: 'NEW FAIL', value: (a) => percentOf(a.new.failureRate), align: 'right' },
                  { header: 'NEW P95', value: (a) => ms(a.new.p95Ms), align: 'right' },
                  { header: 'MISMATCH', value: (a) => percentOf(a.comparison.mismatchRate), align: 'right' },
                  { header: 'COMPARISON', value: (a) => a.comparison.status },
                ],
                out.width,
              );
        return `${head}\n\n${paths}\n${difference}\nComparisons: ${comparisonLine(o.comparison)}\n\n${apps}`;
      });
    });

  program
    .command('mismatches')
    .description('the newest mismatches shadow comparisons found for a slice (the service keeps 50 per slice), newest first, with their diffs')
    .argument('<slice>', 'the slice key')
    .addOption(new Option('--limit <n>', 'at most this many (1 to 50; default: 10)').argParser(parsePositiveInt))
    .action(async (key: string, options: { limit?: number }, command: Command) => {
      const { client, out } = open(command);
      const limit = options.limit ?? 10;
      const intent: Intent = { action: 'read slices', allowedTokens: READ_TOKENS, sliceKey: key };
      const { slice } = await client.request<{ slice: { key: string; outcomes: { comparison: { samples: MismatchSample[] } } } }>(MISMATCHES, { key, limit }, intent);
      const samples = slice.outcomes.comparison.samples;
      out.result(samples, () => {
        if (samples.length === 0) return `No mismatch recorded for ${slice.key}.\n`;
        const blocks = samples.map(
          (s) =>
            `${formatTime(s.receivedAt)}  ${clean(s.appName)}  served ${s.served}  subject ${s.subject}  (host clock: ${clean(s.at)})\n` +
            s.diff
              .split('\n')
              .map((line) => `    ${clean(line)}`)
              .join('\n'),
        );
        return `${samples.length} newest mismatch${samples.length === 1 ? '' : 'es'} of ${slice.key}, newest first:\n\n${blocks.join('\n\n')}\n`;
      });
    });
}
