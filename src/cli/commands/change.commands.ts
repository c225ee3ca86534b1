import type { Command } from 'commander';
import { type ChangeFlags, expectedVersionOption, freezeOverrideOption, idempotencyKeyOption, reasonOption, sendChange } from '../change-options.js';
import { CHANGE_TOKENS, CliError, ROLLBACK_TOKENS } from '../errors.js';
import { formatPercent } from '../output.js';
import { parseFinePercent, parsePercent } from '../parsers.js';
import type { OpenSession } from '../session.js';
import { OBSERVATION_FIELDS, type ObservationView, renderObservation, SLICE_FIELDS, type SliceView } from './slice-view.js';

const SET_ROLLOUT = `mutation($key: String!, $percent: Float!, $reason: String!, $expectedVersion: Int, $idempotencyKey: String, $freezeOverride: String) {
  setRollout(key: $key, percent: $percent, reason: $reason, expectedVersion: $expectedVersion, idempotencyKey: $idempotencyKey, freezeOverride: $freezeOverride) { ${SLICE_FIELDS} }
}`;
const ROLLBACK = `mutation($key: String!, $reason: String!, $idempotencyKey: String) {
  rollback(key: $key, reason: $reason, idempotencyKey: $idempotencyKey) { ${SLICE_FIELDS} }
}`;
const ROLLBACK_ALL = `mutation($reason: String!, $tag: String, $idempotencyKey: String) {
  rollbackAll(reason: $reason, tag: $tag, idempotencyKey: $idempotencyKey) { count sliceKeys }
}`;
const RESUME = `mutation($key: String!, $reason: String!, $expectedVersion: Int, $idempotencyKey: String, $freezeOverride: String) {
  resume(key: $key, reason: $reason, expectedVersion: $expectedVersion, idempotencyKey: $idempotencyKey, freezeOverride: $freezeOverride) { ${SLICE_FIELDS} }
}`;
// Segment rollback (docs/segment-rollback.md): rolledBackSegments selected only here, so that the
// other commands keep working against a service older than it.
const ROLLBACK_SEGMENT = `mutation($key: String!, $segment: String!, $reason: String!, $idempotencyKey: String) {
  rollbackSegment(key: $key, segment: $segment, reason: $reason, idempotencyKey: $idempotencyKey) { ${SLICE_FIELDS} rolledBackSegments }
}`;
const RESUME_SEGMENT = `mutation($key: String!, $segment: String!, $reason: String!, $expectedVersion: Int, $idempotencyKey: String, $freezeOverride: String) {
  resumeSegment(key: $key, segment: $segment, reason: $reason, expectedVersion: $expectedVersion, idempotencyKey: $idempotencyKey, freezeOverride: $freezeOverride) { ${SLICE_FIELDS} rolledBackSegments }
}`;
type SegmentRollbackView = SliceView & { rolledBackSegments: string[] };
const SET_OBSERVATION = `mutation($key: String!, $watched: Boolean, $shadowPercent: Float, $mismatchThresholdPercent: Float, $reason: String, $expectedVersion: Int, $idempotencyKey: String) {
  setObservation(key: $key, watched: $watched, shadowPercent: $shadowPercent, mismatchThresholdPercent: $mismatchThresholdPercent,
                 reason: $reason, expectedVersion: $expectedVersion, idempotencyKey: $idempotencyKey) { ${SLICE_FIELDS} ${OBSERVATION_FIELDS} }
}`;

export function registerChangeCommands(program: Command, open: OpenSession): void {
  program
    .command('set')
    .description('move the share of subjects on NEW (0 to 100, two decimals at most: 0.25 is a quarter of a percent)')
    .argument('<slice>', 'the slice key')
    .argument('<percent>', 'the new share on NEW, e.g. 5, 0.25 or 50%', parsePercent)
    .addOption(reasonOption())
    .addOption(expectedVersionOption())
    .addOption(freezeOverrideOption())
    .addOption(idempotencyKeyOption())
    .action(async (key: string, percent: number, options: ChangeFlags, command: Command) => {
      const session = open(command);
      const { data, idempotencyKey } = await sendChange<{ setRollout: SliceView }>(
        session,
        SET_ROLLOUT,
        { key, percent, expectedVersion: options.expectedVersion ?? null },
        { action: 'change a rollout', allowedTokens: CHANGE_TOKENS, sliceKey: key },
        options,
      );
      const slice = data.setRollout;
      session.out.result({ ...slice, idempotencyKey }, () => `${slice.key}: ${formatPercent(slice.percent)} on NEW (version ${slice.version}).`);
    });

  program
    .command('rollback')
    .description('send everyone in a slice (or in every ACTIVE slice, or every one with a tag) back to LEGACY, now; no confirmation asked')
    .argument('[slice]', 'the slice key (or --all)')
    .option('--all', 'every ACTIVE slice, in one transaction (all or nothing)')
    .option('--tag <tag>', 'with --all: only slices with this tag')
    .option('--segment <segment>', "only this segment's subjects, on this slice; the rest of the slice is untouched (docs/segment-rollback.md)")
    .addOption(reasonOption())
    .addOption(idempotencyKeyOption())
    .action(async (key: string | undefined, options: ChangeFlags & { all?: boolean; tag?: string; segment?: string }, command: Command) => {
      if (key !== undefined && options.all) throw CliError.usage('Name one slice or pass --all, not both.');
      if (options.segment !== undefined && key === undefined)
        throw CliError.usage('--segment goes with one slice.', `e.g. switchyard rollback payments.provider.mpesa --segment ${options.segment} --reason "..."`);
      if (key === undefined && !options.all)
        throw CliError.usage('Name the slice to roll back, or pass --all (optionally with --tag).', 'e.g. switchyard rollback payments.provider.mpesa --reason "..."');
      if (options.tag !== undefined && !options.all) throw CliError.usage('--tag goes with --all.', `e.g. switchyard rollback --all --tag ${options.tag} --reason "..."`);
      const session = open(command);
      const { out } = session;

      if (key !== undefined && options.segment !== undefined) {
        const segment = options.segment;
        const { data, idempotencyKey } = await sendChange<{ rollbackSegment: SegmentRollbackView }>(
          session,
          ROLLBACK_SEGMENT,
          { key, segment },
          { action: 'roll back', allowedTokens: ROLLBACK_TOKENS, sliceKey: key },
          options,
        );
        const slice = data.rollbackSegment;
        out.result(
          { ...slice, idempotencyKey },
          () =>
            `${slice.key}: segment ${segment} on LEGACY (rolled back: ${slice.rolledBackSegments.join(', ')}; version ${slice.version}).\n` +
            `The rest of the slice is untouched: \`switchyard resume ${slice.key} --segment ${segment} --reason "..."\` brings the segment back.`,
        );
        return;
      }

      if (key !== undefined) {
        const { data, idempotencyKey } = await sendChange<{ rollback: SliceView }>(
          session,
          ROLLBACK,
          { key },
          { action: 'roll back', allowedTokens: ROLLBACK_TOKENS, sliceKey: key },
          options,
        );
        const slice = data.rollback;
        out.result(
          { ...slice, idempotencyKey },
          () =>
            `${slice.key}: ${slice.state}, everyone on LEGACY (version ${slice.version}).\n` +
            `Its rollout (${formatPercent(slice.percent)}) and targeting are kept: \`switchyard resume ${slice.key} --reason "..."\` restores them.`,
        );
        return;
      }

      const { data, idempotencyKey } = await sendChange<{ rollbackAll: { count: number; sliceKeys: string[] } }>(
        session,
        ROLLBACK_ALL,
        { tag: options.tag ?? null },
        { action: 'roll back', allowedTokens: ROLLBACK_TOKENS },
        options,
      );
      const result = data.rollbackAll;
      const scope = options.tag !== undefined ? ` with tag ${options.tag}` : '';
      out.result({ ...result, tag: options.tag ?? null, idempotencyKey }, () =>
        result.count === 0
          ? `Nothing to roll back: no ACTIVE slice${scope}.`
          : `Rolled back ${result.count} slice${result.count === 1 ? '' : 's'}${scope}; everyone in ${result.count === 1 ? 'it' : 'them'} is on LEGACY:\n` +
            [...result.sliceKeys]
              .sort()
              .map((k) => `  ${k}\n`)
              .join(''),
      );
    });

  program
    .command('resume')
    .description('after a rollback: restore exactly the rollout and targeting the slice had (with --segment: lift one segment rollback)')
    .argument('<slice>', 'the slice key')
    .option('--segment <segment>', 'lift the rollback of this segment only: its subjects decide by the targeting again')
    .addOption(reasonOption())
    .addOption(expectedVersionOption())
    .addOption(freezeOverrideOption())
    .addOption(idempotencyKeyOption())
    .action(async (key: string, options: ChangeFlags & { segment?: string }, command: Command) => {
      const session = open(command);
      if (options.segment !== undefined) {
        const segment = options.segment;
        const { data, idempotencyKey } = await sendChange<{ resumeSegment: SegmentRollbackView }>(
          session,
          RESUME_SEGMENT,
          { key, segment, expectedVersion: options.expectedVersion ?? null },
          { action: 'resume a segment', allowedTokens: CHANGE_TOKENS, sliceKey: key },
          options,
        );
        const slice = data.resumeSegment;
        const still = slice.rolledBackSegments.length > 0 ? `; still rolled back: ${slice.rolledBackSegments.join(', ')}` : '';
        session.out.result(
          { ...slice, idempotencyKey },
          () => `${slice.key}: segment ${segment} decides by the targeting again (${slice.state}${still}; version ${slice.version}).`,
        );
        return;
      }
      const { data, idempotencyKey } = await sendChange<{ resume: SliceView }>(
        session,
        RESUME,
        { key, expectedVersion: options.expectedVersion ?? null },
        { action: 'resume a slice', allowedTokens: CHANGE_TOKENS, sliceKey: key },
        options,
      );
      const slice = data.resume;
      const rules = slice.targeting.rules.length + slice.targeting.include.length + slice.targeting.exclude.length;
      session.out.result(
        { ...slice, idempotencyKey },
        () => `${slice.key}: ${slice.state} again, ${formatPercent(slice.percent)} on NEW${rules > 0 ? ', targeting restored' : ''} (version ${slice.version}).`,
      );
    });

  program
    .command('observe')
    .description('watch a slice, set the share of compare calls that also run the other path, or the mismatch threshold (docs/outcomes.md); no decision changes')
    .argument('<slice>', 'the slice key')
    .option('--watched', 'SDKs report this slice every few seconds instead of every interval')
    .option('--no-watched', 'back to the usual interval')
    .option('--shadow <percent>', 'share of compare calls that also run the path not served, e.g. 5 or 0.25 (0 stops comparing)', parsePercent)
    .option('--mismatch-threshold <percent>', 'mismatch rate at or under which comparisons are WITHIN, e.g. 0.1 (the default) or 0.0125', parseFinePercent)
    .addOption(reasonOption())
    .addOption(expectedVersionOption())
    .addOption(idempotencyKeyOption())
    .action(async (key: string, options: ChangeFlags & { watched?: boolean; shadow?: number; mismatchThreshold?: number }, command: Command) => {
      if (options.watched === undefined && options.shadow === undefined && options.mismatchThreshold === undefined) {
        throw CliError.usage(
          'Say what to change: --watched or --no-watched, --shadow, --mismatch-threshold.',
          `e.g. switchyard observe ${key} --watched --shadow 5 --reason "..."`,
        );
      }
      const session = open(command);
      const { data, idempotencyKey } = await sendChange<{ setObservation: SliceView & ObservationView }>(
        session,
        SET_OBSERVATION,
        {
          key,
          watched: options.watched ?? null,
          shadowPercent: options.shadow ?? null,
          mismatchThresholdPercent: options.mismatchThreshold ?? null,
          expectedVersion: options.expectedVersion ?? null,
        },
        { action: 'change observation settings', allowedTokens: CHANGE_TOKENS, sliceKey: key },
        options,
      );
      const slice = data.setObservation;
      session.out.result({ ...slice, idempotencyKey }, () => `${slice.key}: ${renderObservation(slice)} (version ${slice.version}).`);
    });
}
