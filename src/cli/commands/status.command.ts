import { type Command, Option } from 'commander';
import { type Intent, READ_TOKENS } from '../errors.js';
import type { GraphqlHttpClient } from '../graphql-http-client.js';
import { formatCount, formatPercent, formatTime, keyValues, type Output, table } from '../output.js';
import { parseState, type SliceState } from '../parsers.js';
import type { OpenSession } from '../session.js';
import { OBSERVATION_FIELDS, type ObservationView, renderObservation, renderTargeting, SLICE_FIELDS, type SliceView } from './slice-view.js';

interface SliceRow {
  key: string;
  state: SliceState;
  percent: number;
  tags: string[];
  version: number;
  updatedAt: string;
}

interface TrafficTotals {
  new: number;
  legacy: number;
  total: number;
  newShare: number | null;
}

interface SliceTraffic {
  last5Minutes: TrafficTotals;
  lastHour: TrafficTotals;
  last24Hours: TrafficTotals;
}

type SliceDetails = SliceView & Partial<ObservationView> & { traffic?: SliceTraffic };

const PAGE_SIZE = 500; // the API's largest page

// Exported for test/e2e/request-limits.e2e.spec.ts, which checks that the status documents pass
// the service's default query limits (cost, depth, tokens): keep them within those.
export const LIST = `query($first: Int!, $after: String, $tag: String, $state: SliceState) {
  slices(first: $first, after: $after, tag: $tag, state: $state) {
    nodes { key state percent tags version updatedAt }
    pageInfo { endCursor hasNextPage }
  }
}`;

const TOTALS = 'new legacy total newShare';
export const TRAFFIC_FIELDS = `traffic { last5Minutes { ${TOTALS} } lastHour { ${TOTALS} } last24Hours { ${TOTALS} } }`;

/** Which optional fields this service has: older services have no traffic (nor observation settings), and the CLI still works with them. */
export const SLICE_TYPE_FIELDS = '{ __type(name: "Slice") { fields { name } } }';

export function registerStatusCommand(program: Command, open: OpenSession): void {
  program
    .command('status')
    .description('every slice (key, state, percent, tags, version, updated), or one slice in detail with its targeting and traffic')
    .argument('[slice]', 'a slice key: show this slice in detail')
    .option('--tag <tag>', 'list only slices with this tag')
    .addOption(new Option('--state <state>', 'list only slices in this state (ACTIVE, ROLLED_BACK, ARCHIVED)').argParser(parseState))
    .action(async (sliceKey: string | undefined, options: { tag?: string; state?: SliceState }, command: Command) => {
      const { client, out } = open(command);
      if (sliceKey === undefined) await listSlices(client, out, options);
      else await showSlice(client, out, sliceKey);
    });
}

async function listSlices(client: GraphqlHttpClient, out: Output, filter: { tag?: string; state?: SliceState }): Promise<void> {
  const intent: Intent = { action: 'read slices', allowedTokens: READ_TOKENS };
  const slices: SliceRow[] = [];
  let after: string | null = null;
  for (;;) {
    const page: { slices: { nodes: SliceRow[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } } = await client.request(
      LIST,
      { first: PAGE_SIZE, after, tag: filter.tag ?? null, state: filter.state ?? null },
      intent,
    );
    slices.push(...page.slices.nodes);
    const next = page.slices.pageInfo.endCursor;
    // A cursor that does not move would loop for ever: stop rather than trust it.
    if (!page.slices.pageInfo.hasNextPage || next === null || next === after) break;
    after = next;
  }

  out.result(slices, () => {
    if (slices.length === 0) return filter.tag || filter.state ? 'No slice matches.' : 'No slices yet.';
    const count = (s: SliceState) => slices.filter((x) => x.state === s).length;
    const summary = `${slices.length} slice${slices.length === 1 ? '' : 's'}: ${count('ACTIVE')} active, ${count('ROLLED_BACK')} rolled back, ${count('ARCHIVED')} archived.`;
    return (
      table(
        slices,
        [
          { header: 'KEY', value: (s) => s.key, shrinkTo: 16 },
          { header: 'STATE', value: (s) => s.state },
          { header: 'PERCENT', value: (s) => formatPercent(s.percent), align: 'right' },
          { header: 'TAGS', value: (s) => s.tags.join(','), shrinkTo: 6 },
          { header: 'VERSION', value: (s) => String(s.version), align: 'right' },
          { header: 'UPDATED', value: (s) => formatTime(s.updatedAt) },
        ],
        out.width,
      ) + `\n${summary}\n`
    );
  });
}

async function showSlice(client: GraphqlHttpClient, out: Output, key: string): Promise<void> {
  const intent: Intent = { action: 'read slices', allowedTokens: READ_TOKENS, sliceKey: key };
  const type = await client.request<{ __type: { fields: { name: string }[] } | null }>(SLICE_TYPE_FIELDS, {}, intent);
  const has = (name: string) => type.__type?.fields.some((f) => f.name === name) ?? false;
  const { slice } = await client.request<{ slice: SliceDetails }>(
    `query($key: String!) { slice(key: $key) { ${SLICE_FIELDS} ${has('watched') ? OBSERVATION_FIELDS : ''} ${has('traffic') ? TRAFFIC_FIELDS : ''} } }`,
    { key },
    intent,
  );
  out.result(slice, () => renderSlice(slice, out.width));
}

function renderSlice(s: SliceDetails, width: number | undefined): string {
  const state =
    s.state === 'ACTIVE'
      ? 'ACTIVE: follows its rollout and targeting'
      : s.state === 'ROLLED_BACK'
        ? `ROLLED_BACK: everyone on LEGACY; \`switchyard resume ${s.key}\` restores the rollout and targeting below`
        : 'ARCHIVED: everyone on LEGACY; the migration is over';
  let text = `${s.key}\n`;
  text += keyValues([
    ['state', state],
    ['rollout', `${formatPercent(s.percent)} on NEW (${s.basisPoints} basis points)`],
    ['stickiness', s.stickinessAttribute],
    ['version', String(s.version)],
    ['owner', s.owner || '-'],
    ['tags', s.tags.join(', ') || '-'],
    ['description', s.description || '-'],
    ['created', formatTime(s.createdAt)],
    ['updated', formatTime(s.updatedAt)],
    ...(s.watched !== undefined && s.shadowPercent !== undefined && s.mismatchThresholdPercent !== undefined
      ? [['observation', renderObservation({ watched: s.watched, shadowPercent: s.shadowPercent, mismatchThresholdPercent: s.mismatchThresholdPercent })] as [string, string]]
      : []),
  ]);

  text += `\n${renderTargeting(s)}`;

  if (s.traffic !== undefined) {
    const windows: [string, TrafficTotals][] = [
      ['5 minutes', s.traffic.last5Minutes],
      ['1 hour', s.traffic.lastHour],
      ['24 hours', s.traffic.last24Hours],
    ];
    text += '\ntraffic (decisions reported by SDKs)\n';
    text += indent(
      table(
        windows,
        [
          { header: 'WINDOW', value: ([w]) => w },
          { header: 'NEW', value: ([, c]) => formatCount(c.new), align: 'right' },
          { header: 'LEGACY', value: ([, c]) => formatCount(c.legacy), align: 'right' },
          { header: 'TOTAL', value: ([, c]) => formatCount(c.total), align: 'right' },
          // Computed here rather than read from newShare, so the column means the same whatever
          // scale (fraction or percent) a service version uses for that field.
          { header: 'ON NEW', value: ([, c]) => (c.total > 0 ? `${((100 * c.new) / c.total).toFixed(1)}%` : '-'), align: 'right' },
        ],
        width === undefined ? undefined : width - 2,
      ),
    );
  }
  return text;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');
}
