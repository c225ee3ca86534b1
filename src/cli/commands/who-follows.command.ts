import { type Command, Option } from 'commander';
import { type Intent, READ_TOKENS } from '../errors.js';
import { formatAge, formatMinutes, table } from '../output.js';
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
}

interface Followed {
  key: string;
  state: string;
  changedAtRevision: number;
  followers: SliceFollower[];
}

const DEFAULT_WITHIN_MINUTES = 1440; // the API's default: a day

const WHO_FOLLOWS = `query($key: String!, $within: Int!) {
  slice(key: $key) {
    key state changedAtRevision
    followers(withinMinutes: $within) { appName instanceId protocol sdkName sdkVersion revision lastSyncedAt lastSeenAt upToDate }
  }
}`;

export function registerWhoFollowsCommand(program: Command, open: OpenSession): void {
  program
    .command('who-follows')
    .description("the SDK instances that follow a slice, and whether each has its latest change (revision vs the slice's changedAtRevision)")
    .argument('<slice>', 'the slice key')
    .addOption(new Option('--within <minutes>', `instances seen in the last <minutes> (default: ${DEFAULT_WITHIN_MINUTES}, a day)`).argParser(parsePositiveInt))
    .action(async (key: string, options: { within?: number }, command: Command) => {
      const { client, out } = open(command);
      const within = options.within ?? DEFAULT_WITHIN_MINUTES;
      const intent: Intent = { action: 'read slices', allowedTokens: READ_TOKENS, sliceKey: key };
      const { slice } = await client.request<{ slice: Followed }>(WHO_FOLLOWS, { key, within }, intent);
      // Behind first: they are what the reader is looking for.
      const followers = [...slice.followers].sort(
        (a, b) => Number(a.upToDate) - Number(b.upToDate) || a.appName.localeCompare(b.appName) || a.instanceId.localeCompare(b.instanceId),
      );

      out.result({ ...slice, withinMinutes: within, followers }, () => {
        const behind = followers.filter((f) => !f.upToDate).length;
        const head = `${slice.key} last changed at revision ${slice.changedAtRevision}.`;
        if (followers.length === 0) return `${head}\nNo SDK instance has followed it in the last ${formatMinutes(within)}.`;
        const counted = `${followers.length} instance${followers.length === 1 ? '' : 's'} seen in the last ${formatMinutes(within)}; ${
          behind === 0 ? 'all up to date' : `${behind} BEHIND (not yet on revision ${slice.changedAtRevision})`
        }.`;
        const now = Date.now();
        return (
          `${head}\n${counted}\n\n` +
          table(
            followers,
            [
              { header: 'STATUS', value: (f) => (f.upToDate ? 'ok' : 'BEHIND') },
              { header: 'APP', value: (f) => f.appName, shrinkTo: 8 },
              { header: 'INSTANCE', value: (f) => f.instanceId, shrinkTo: 8 },
              { header: 'PROTOCOL', value: (f) => f.protocol },
              { header: 'SDK', value: (f) => [f.sdkName, f.sdkVersion].filter(Boolean).join(' ') || '-', shrinkTo: 8 },
              { header: 'REVISION', value: (f) => (f.revision === null ? 'none' : String(f.revision)), align: 'right' },
              { header: 'SYNCED', value: (f) => formatAge(f.lastSyncedAt, now) },
              { header: 'SEEN', value: (f) => formatAge(f.lastSeenAt, now) },
            ],
            out.width,
          )
        );
      });
    });
}
