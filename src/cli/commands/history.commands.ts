import { type Command, Option } from 'commander';
import { type Intent, READ_TOKENS } from '../errors.js';
import { type Column, formatTime, table } from '../output.js';
import { parsePositiveInt } from '../parsers.js';
import type { OpenOffline, OpenSession } from '../session.js';
import { registerExportCommand } from './history-export.command.js';
import { registerVerifyCommand } from './verify-history.command.js';

interface HistoryEntry {
  position: string;
  sequence: string;
  recordedAt: string;
  action: string;
  actor: string;
  reason: string | null;
  sliceKey: string | null;
  segmentKey: string | null;
  idempotencyKey: string | null;
  requestId: string | null;
  before: unknown;
  after: unknown;
  prevHash: string;
  hash: string;
}

const PAGE_SIZE = 500; // the API's largest page
const DEFAULT_LIMIT = 20;

const HISTORY = `query($sliceKey: String, $first: Int!, $after: String) {
  history(sliceKey: $sliceKey, first: $first, after: $after) {
    nodes { position sequence recordedAt action actor reason sliceKey segmentKey idempotencyKey requestId before after prevHash hash }
    pageInfo { endCursor hasNextPage }
  }
}`;

export function registerHistoryCommands(program: Command, open: OpenSession, openOffline: OpenOffline): void {
  const history = program
    .command('history')
    .description("a slice's recorded changes, newest first (every change, global ones included, when no slice is named); `history export` writes the chain")
    .argument('[slice]', 'the slice key')
    .addOption(new Option('--limit <n>', `show the newest n changes (default: ${DEFAULT_LIMIT})`).argParser(parsePositiveInt))
    .action(async (sliceKey: string | undefined, options: { limit?: number }, command: Command) => {
      const { client, out } = open(command);
      const intent: Intent = { action: 'read history', allowedTokens: READ_TOKENS, sliceKey };
      const limit = options.limit ?? DEFAULT_LIMIT;
      const entries: HistoryEntry[] = [];
      let after: string | null = null;
      while (entries.length < limit) {
        const page: { history: { nodes: HistoryEntry[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } } = await client.request(
          HISTORY,
          { sliceKey: sliceKey ?? null, first: Math.min(PAGE_SIZE, limit - entries.length), after },
          intent,
        );
        entries.push(...page.history.nodes);
        const next = page.history.pageInfo.endCursor;
        if (!page.history.pageInfo.hasNextPage || next === null || next === after) break;
        after = next;
      }

      out.result(entries, () => {
        if (entries.length === 0) return sliceKey !== undefined ? `No recorded change for ${sliceKey}.` : 'No recorded change.';
        const columns: Column<HistoryEntry>[] = [
          { header: 'SEQUENCE', value: (e) => e.sequence, align: 'right' },
          { header: 'TIME', value: (e) => formatTime(e.recordedAt) },
          ...(sliceKey === undefined ? [{ header: 'SUBJECT', value: (e: HistoryEntry) => e.sliceKey ?? e.segmentKey ?? '-', shrinkTo: 12 }] : []),
          { header: 'ACTION', value: (e) => e.action },
          { header: 'ACTOR', value: (e) => e.actor, shrinkTo: 8 },
          { header: 'CHANGE', value: (e) => summarize(e), shrinkTo: 8 },
          { header: 'REASON', value: (e) => e.reason ?? '-', shrinkTo: 8 },
        ];
        return table(entries, columns, out.width);
      });
    });
  registerExportCommand(history, open);
  registerVerifyCommand(program, open, openOffline);
}

/** What moved, in a few characters: `5% -> 50%`, `ACTIVE -> ROLLED_BACK`, `3 slices`. */
function summarize(entry: HistoryEntry): string {
  const before = asRecord(entry.before);
  const after = asRecord(entry.after);
  if (entry.action === 'ROLLBACK_ALL' && Array.isArray(after?.sliceKeys)) {
    const n = after.sliceKeys.length;
    return `${n} slice${n === 1 ? '' : 's'}${typeof after.tag === 'string' ? ` tagged ${after.tag}` : ''}`;
  }
  if (entry.sliceKey === null) return '';
  const parts: string[] = [];
  if (typeof before?.state === 'string' && typeof after?.state === 'string' && before.state !== after.state) parts.push(`${before.state} -> ${after.state}`);
  const from = typeof before?.basisPoints === 'number' ? before.basisPoints : undefined;
  const to = typeof after?.basisPoints === 'number' ? after.basisPoints : undefined;
  if (to !== undefined && from === undefined) parts.push(`${to / 100}%`);
  else if (to !== undefined && from !== to) parts.push(`${from! / 100}% -> ${to / 100}%`);
  if (before !== undefined && after !== undefined) parts.push(...observationChanges(before, after), ...rolledBackSegmentChanges(before, after));
  return parts.join(', ');
}

/** `segment kenya rolled back`, `segment kenya resumed` (docs/segment-rollback.md): absent means none. */
function rolledBackSegmentChanges(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = (r: Record<string, unknown>) => (Array.isArray(r.rolledBackSegments) ? r.rolledBackSegments.filter((k): k is string => typeof k === 'string') : []);
  const was = keys(before);
  const now = keys(after);
  return [...now.filter((k) => !was.includes(k)).map((k) => `segment ${k} rolled back`), ...was.filter((k) => !now.includes(k)).map((k) => `segment ${k} resumed`)];
}

/**
 * `watched`, `shadow 0% -> 5%`, `mismatch threshold 0.1% -> 0.05%`: a row's record leaves out a
 * setting at its default (docs/outcomes.md), so absent reads as the default.
 */
function observationChanges(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const number = (r: Record<string, unknown>, field: string, fallback: number) => (typeof r[field] === 'number' ? r[field] : fallback);
  const parts: string[] = [];
  if ((before.watched === true) !== (after.watched === true)) parts.push(after.watched === true ? 'watched' : 'not watched');
  const [shadowFrom, shadowTo] = [number(before, 'shadowBasisPoints', 0), number(after, 'shadowBasisPoints', 0)];
  if (shadowFrom !== shadowTo) parts.push(`shadow ${shadowFrom / 100}% -> ${shadowTo / 100}%`);
  const [thresholdFrom, thresholdTo] = [number(before, 'mismatchThresholdPpm', 1000), number(after, 'mismatchThresholdPpm', 1000)];
  if (thresholdFrom !== thresholdTo) parts.push(`mismatch threshold ${thresholdFrom / 10_000}% -> ${thresholdTo / 10_000}%`);
  return parts;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
