import { randomUUID } from 'node:crypto';
import { type Command, Option } from 'commander';
import { CHANGE_TOKENS, CliError, type Intent, ROLLBACK_TOKENS } from '../errors.js';
import { formatPercent } from '../output.js';
import { parsePercent, parsePositiveInt, parseReason } from '../parsers.js';
import type { OpenSession } from '../session.js';
import { SLICE_FIELDS, type SliceView } from './slice-view.js';

interface ChangeOptions {
  reason: string;
  idempotencyKey?: string;
  expectedVersion?: number;
}

const SET_ROLLOUT = `mutation($key: String!, $percent: Float!, $reason: String!, $expectedVersion: Int, $idempotencyKey: String) {
  setRollout(key: $key, percent: $percent, reason: $reason, expectedVersion: $expectedVersion, idempotencyKey: $idempotencyKey) { ${SLICE_FIELDS} }
}`;
const ROLLBACK = `mutation($key: String!, $reason: String!, $idempotencyKey: String) {
  rollback(key: $key, reason: $reason, idempotencyKey: $idempotencyKey) { ${SLICE_FIELDS} }
}`;
const ROLLBACK_ALL = `mutation($reason: String!, $tag: String, $idempotencyKey: String) {
  rollbackAll(reason: $reason, tag: $tag, idempotencyKey: $idempotencyKey) { count sliceKeys }
}`;
const RESUME = `mutation($key: String!, $reason: String!, $expectedVersion: Int, $idempotencyKey: String) {
  resume(key: $key, reason: $reason, expectedVersion: $expectedVersion, idempotencyKey: $idempotencyKey) { ${SLICE_FIELDS} }
}`;

const reasonOption = () => new Option('--reason <text>', 'why (required; recorded in history as the change\'s reason)').makeOptionMandatory().argParser(parseReason);
const idempotencyKeyOption = () =>
  new Option('--idempotency-key <key>', 'a retry with the same key returns the first result and changes nothing more (default: a new random key, printed if the answer is lost)');
const expectedVersionOption = () => new Option('--expected-version <n>', 'refuse with CONFLICT unless the slice is still at this version').argParser(parsePositiveInt);

/**
 * Every change the CLI makes carries an idempotency key: the user's, or a fresh one. When the
 * answer is lost (timeout, dropped connection) the error names it, so the retry cannot apply the
 * change twice.
 */
function idempotencyKey(options: { idempotencyKey?: string }): string {
  return options.idempotencyKey ?? `cli-${randomUUID()}`;
}

export function registerChangeCommands(program: Command, open: OpenSession): void {
  program
    .command('set')
    .description('move the share of subjects on NEW (0 to 100, two decimals at most: 0.25 is a quarter of a percent)')
    .argument('<slice>', 'the slice key')
    .argument('<percent>', 'the new share on NEW, e.g. 5, 0.25 or 50%', parsePercent)
    .addOption(reasonOption())
    .addOption(expectedVersionOption())
    .addOption(idempotencyKeyOption())
    .action(async (key: string, percent: number, options: ChangeOptions, command: Command) => {
      const { client, out } = open(command);
      const intent: Intent = { action: 'change a rollout', allowedTokens: CHANGE_TOKENS, sliceKey: key, idempotencyKey: idempotencyKey(options) };
      const { setRollout: slice } = await client.request<{ setRollout: SliceView }>(
        SET_ROLLOUT,
        { key, percent, reason: options.reason, expectedVersion: options.expectedVersion ?? null, idempotencyKey: intent.idempotencyKey },
        intent,
      );
      out.result(slice, () => `${slice.key}: ${formatPercent(slice.percent)} on NEW (version ${slice.version}).`);
    });

  program
    .command('rollback')
    .description('send everyone in a slice (or in every ACTIVE slice, or every one with a tag) back to LEGACY, now; no confirmation asked')
    .argument('[slice]', 'the slice key (or --all)')
    .option('--all', 'every ACTIVE slice, in one transaction (all or nothing)')
    .option('--tag <tag>', 'with --all: only slices with this tag')
    .addOption(reasonOption())
    .addOption(idempotencyKeyOption())
    .action(async (key: string | undefined, options: ChangeOptions & { all?: boolean; tag?: string }, command: Command) => {
      if (key !== undefined && options.all) throw CliError.usage('Name one slice or pass --all, not both.');
      if (key === undefined && !options.all) throw CliError.usage('Name the slice to roll back, or pass --all (optionally with --tag).', 'e.g. switchyard rollback payments.provider.mpesa --reason "..."');
      if (options.tag !== undefined && !options.all) throw CliError.usage('--tag goes with --all.', `e.g. switchyard rollback --all --tag ${options.tag} --reason "..."`);
      const { client, out } = open(command);

      if (key !== undefined) {
        const intent: Intent = { action: 'roll back', allowedTokens: ROLLBACK_TOKENS, sliceKey: key, idempotencyKey: idempotencyKey(options) };
        const { rollback: slice } = await client.request<{ rollback: SliceView }>(
          ROLLBACK,
          { key, reason: options.reason, idempotencyKey: intent.idempotencyKey },
          intent,
        );
        out.result(
          slice,
          () =>
            `${slice.key}: ${slice.state}, everyone on LEGACY (version ${slice.version}).\n` +
            `Its rollout (${formatPercent(slice.percent)}) and targeting are kept: \`switchyard resume ${slice.key} --reason "..."\` restores them.`,
        );
        return;
      }

      const intent: Intent = { action: 'roll back', allowedTokens: ROLLBACK_TOKENS, idempotencyKey: idempotencyKey(options) };
      const { rollbackAll: result } = await client.request<{ rollbackAll: { count: number; sliceKeys: string[] } }>(
        ROLLBACK_ALL,
        { reason: options.reason, tag: options.tag ?? null, idempotencyKey: intent.idempotencyKey },
        intent,
      );
      const scope = options.tag !== undefined ? ` with tag ${options.tag}` : '';
      out.result({ ...result, tag: options.tag ?? null }, () =>
        result.count === 0
          ? `Nothing to roll back: no ACTIVE slice${scope}.`
          : `Rolled back ${result.count} slice${result.count === 1 ? '' : 's'}${scope}; everyone in ${result.count === 1 ? 'it' : 'them'} is on LEGACY:\n` +
            [...result.sliceKeys].sort().map((k) => `  ${k}\n`).join(''),
      );
    });

  program
    .command('resume')
    .description('after a rollback: restore exactly the rollout and targeting the slice had')
    .argument('<slice>', 'the slice key')
    .addOption(reasonOption())
    .addOption(expectedVersionOption())
    .addOption(idempotencyKeyOption())
    .action(async (key: string, options: ChangeOptions, command: Command) => {
      const { client, out } = open(command);
      const intent: Intent = { action: 'resume a slice', allowedTokens: CHANGE_TOKENS, sliceKey: key, idempotencyKey: idempotencyKey(options) };
      const { resume: slice } = await client.request<{ resume: SliceView }>(
        RESUME,
        { key, reason: options.reason, expectedVersion: options.expectedVersion ?? null, idempotencyKey: intent.idempotencyKey },
        intent,
      );
      const rules = slice.targeting.rules.length + slice.targeting.include.length + slice.targeting.exclude.length;
      out.result(
        slice,
        () => `${slice.key}: ${slice.state} again, ${formatPercent(slice.percent)} on NEW${rules > 0 ? ', targeting restored' : ''} (version ${slice.version}).`,
      );
    });
}
