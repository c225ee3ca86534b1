import { type Command, Option } from 'commander';
import { type Intent, READ_TOKENS } from '../errors.js';
import { clean, formatAge, formatMinutes, table } from '../output.js';
import { parsePositiveInt } from '../parsers.js';
import type { OpenSession } from '../session.js';

/** A follower as the API returns it (Slice.followers). */
export interface SliceFollower {
  appName: string;
  instanceId: string;
  protocol: 'SWITCHYARD' | 'UNLEASH';
  sdkName: string | null;
  sdkVersion: string | null;
  revision: number | null;
  lastSyncedAt: string | null;
  lastSeenAt: string;
  upToDate: boolean;
  /** GONE: closed (said so) or silent for three report intervals; never counted as BEHIND. */
  status: 'UP_TO_DATE' | 'BEHIND' | 'GONE';
  closedAt: string | null;
  reportIntervalMs: number;
  /** Unleash SDKs: the client specification declared when last served (null: none). */
  clientSpec: string | null;
  /** The form of the slice it is served (null: an Unleash SDK never served by the service). */
  servedForm: 'EXACT' | 'CONSERVATIVE' | 'DISABLED' | null;
  degradedReason: string | null;
}

interface Followed {
  key: string;
  state: string;
  changedAtRevision: number;
  followers: SliceFollower[];
}

const DEFAULT_WITHIN_MINUTES = 1440; // the API's default: a day

const STATUS_ORDER: Record<SliceFollower['status'], number> = { BEHIND: 0, UP_TO_DATE: 1, GONE: 2 };
/** Upper case is what needs attention; a gone instance does not (it decides nothing any more). */
const STATUS_LABEL: Record<SliceFollower['status'], string> = { BEHIND: 'BEHIND', UP_TO_DATE: 'ok', GONE: 'gone' };

const WHO_FOLLOWS = `query($key: String!, $within: Int!) {
  slice(key: $key) {
    key state changedAtRevision
    followers(withinMinutes: $within) { appName instanceId protocol sdkName sdkVersion revision lastSyncedAt lastSeenAt upToDate status closedAt reportIntervalMs clientSpec servedForm degradedReason }
  }
}`;

export function registerWhoFollowsCommand(program: Command, open: OpenSession): void {
  program
    .command('who-follows')
    .description(
      "the SDK instances that follow a slice, whether each has its latest change (revision vs the slice's changedAtRevision) or is gone, and which Unleash SDKs get a degraded form of it, and why",
    )
    .argument('<slice>', 'the slice key')
    .addOption(new Option('--within <minutes>', `instances seen in the last <minutes> (default: ${DEFAULT_WITHIN_MINUTES}, a day)`).argParser(parsePositiveInt))
    .action(async (key: string, options: { within?: number }, command: Command) => {
      const { client, out } = open(command);
      const within = options.within ?? DEFAULT_WITHIN_MINUTES;
      const intent: Intent = { action: 'read slices', allowedTokens: READ_TOKENS, sliceKey: key };
      const { slice } = await client.request<{ slice: Followed }>(WHO_FOLLOWS, { key, within }, intent);
      // Behind first (what the reader is looking for), gone last (what no longer decides).
      const followers = [...slice.followers].sort(
        (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || a.appName.localeCompare(b.appName) || a.instanceId.localeCompare(b.instanceId),
      );

      out.result({ ...slice, withinMinutes: within, followers }, () => {
        const behind = followers.filter((f) => f.status === 'BEHIND').length;
        const gone = followers.filter((f) => f.status === 'GONE').length;
        const head = `${slice.key} last changed at revision ${slice.changedAtRevision}.`;
        if (followers.length === 0) return `${head}\nNo SDK instance has followed it in the last ${formatMinutes(within)}.`;
        const live = followers.length - gone;
        const state =
          live === 0
            ? 'none still running'
            : behind > 0
              ? `${behind} BEHIND (not yet on revision ${slice.changedAtRevision})`
              : gone > 0
                ? 'all running ones up to date'
                : 'all up to date';
        const goneNote = gone === 0 ? '' : `; ${gone} gone (closed, or not heard from for three report intervals)`;
        const degraded = followers.filter((f) => f.status !== 'GONE' && (f.servedForm === 'CONSERVATIVE' || f.servedForm === 'DISABLED'));
        const degradedNote = degraded.length === 0 ? '' : `; ${degraded.length} served a degraded form (below)`;
        const counted = `${followers.length} instance${followers.length === 1 ? '' : 's'} seen in the last ${formatMinutes(within)}; ${state}${goneNote}${degradedNote}.`;
        const now = Date.now();
        return (
          `${head}\n${counted}\n\n` +
          table(
            followers,
            [
              { header: 'STATUS', value: (f) => STATUS_LABEL[f.status] },
              { header: 'APP', value: (f) => f.appName, shrinkTo: 8 },
              { header: 'INSTANCE', value: (f) => f.instanceId, shrinkTo: 8 },
              { header: 'PROTOCOL', value: (f) => f.protocol },
              { header: 'SDK', value: (f) => [f.sdkName, f.sdkVersion].filter(Boolean).join(' ') || '-', shrinkTo: 8 },
              { header: 'REVISION', value: (f) => (f.revision === null ? 'none' : String(f.revision)), align: 'right' },
              { header: 'SYNCED', value: (f) => formatAge(f.lastSyncedAt, now) },
              { header: 'SEEN', value: (f) => formatAge(f.lastSeenAt, now) },
              { header: 'FORM', value: (f) => (f.servedForm === null ? '-' : f.servedForm === 'EXACT' ? 'exact' : f.servedForm) },
            ],
            out.width,
          ) +
          degradedSection(degraded)
        );
      });
    });
}

/** Instances named per reason at most; the rest are counted. */
const NAMED_PER_REASON = 3;

/**
 * Why the degraded ones are degraded: one paragraph per form, declared client specification and
 * reason (a fleet of one app declares the same), naming a few instances.
 */
function degradedSection(degraded: readonly SliceFollower[]): string {
  if (degraded.length === 0) return '';
  const groups = new Map<string, { head: string; reason: string; names: string[] }>();
  for (const f of degraded) {
    const spec = f.clientSpec === null ? 'no client specification declared' : `client specification ${f.clientSpec}`;
    const key = JSON.stringify([f.servedForm, f.clientSpec, f.degradedReason]);
    const group = groups.get(key) ?? { head: `${f.servedForm} (${spec})`, reason: f.degradedReason ?? '', names: [] };
    group.names.push(`${f.appName}/${f.instanceId}`);
    groups.set(key, group);
  }
  const lines = ['', 'Unleash SDKs served a degraded form (fewer subjects on NEW than Switchyard decides, never more):'];
  for (const { head, reason, names } of groups.values()) {
    const shown = names.slice(0, NAMED_PER_REASON).join(', ') + (names.length > NAMED_PER_REASON ? ` and ${names.length - NAMED_PER_REASON} more` : '');
    lines.push(`  ${clean(head)}: ${clean(shown)}`, `    ${clean(reason)}`);
  }
  return lines.join('\n') + '\n';
}
