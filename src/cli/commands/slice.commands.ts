import { type Command, Option } from 'commander';
import { type ChangeFlags, expectedVersionOption, freezeOverrideOption, idempotencyKeyOption, optionalReasonOption, reasonOption, sendChange } from '../change-options.js';
import { CHANGE_TOKENS, CliError } from '../errors.js';
import { formatPercent } from '../output.js';
import { collectList, parsePercent } from '../parsers.js';
import type { OpenSession } from '../session.js';
import { SLICE_FIELDS, type SliceView } from './slice-view.js';

const CREATE = `mutation($key: String!, $percent: Float, $description: String, $owner: String, $tags: [String!], $stickinessAttribute: String,
                   $reason: String, $idempotencyKey: String, $freezeOverride: String) {
  createSlice(key: $key, percent: $percent, description: $description, owner: $owner, tags: $tags, stickinessAttribute: $stickinessAttribute,
              reason: $reason, idempotencyKey: $idempotencyKey, freezeOverride: $freezeOverride) { ${SLICE_FIELDS} }
}`;
const UPDATE = `mutation($key: String!, $description: String, $owner: String, $tags: [String!], $expectedVersion: Int, $reason: String, $idempotencyKey: String) {
  updateSlice(key: $key, description: $description, owner: $owner, tags: $tags, expectedVersion: $expectedVersion, reason: $reason, idempotencyKey: $idempotencyKey) { ${SLICE_FIELDS} }
}`;
const ARCHIVE = `mutation($key: String!, $expectedVersion: Int, $reason: String!, $idempotencyKey: String) {
  archiveSlice(key: $key, expectedVersion: $expectedVersion, reason: $reason, idempotencyKey: $idempotencyKey) { ${SLICE_FIELDS} }
}`;

interface SliceFields {
  description?: string;
  owner?: string;
  tag?: string[];
}

/**
 * `switchyard slice create|update|archive`: a slice's life around its rollout. Listing and
 * showing slices is `status`; moving the rollout is `set`; targeting is `targeting set`.
 *
 * Options not given are left out of the request, so the API's defaults (create) or the current
 * values (update) apply: JSON.stringify drops `undefined`.
 */
export function registerSliceCommands(program: Command, open: OpenSession): void {
  const slice = program.command('slice').description('create a slice, change its description, owner and tags, archive it (list and show: `status`)');

  slice
    .command('create')
    .description('create a slice: ACTIVE, at --percent on NEW (0 unless you say so), with no targeting')
    .argument('<slice>', 'the new key: lowercase, a letter or digit then up to 127 of a-z 0-9 . _ : / - (it never changes)')
    .addOption(new Option('--percent <percent>', 'the share on NEW to start with (default 0)').argParser(parsePercent))
    .option('--description <text>', 'what the slice migrates')
    .option('--owner <team>', 'the team or person accountable for it')
    .addOption(new Option('--tag <tags>', 'a tag (repeat, or separate with commas): for `status --tag` and `rollback --all --tag`').argParser(collectList))
    .option('--stickiness <attribute>', 'the context attribute that identifies a subject (default userId)')
    .addOption(optionalReasonOption())
    .addOption(freezeOverrideOption())
    .addOption(idempotencyKeyOption())
    .action(async (key: string, options: SliceFields & ChangeFlags & { percent?: number; stickiness?: string }, command: Command) => {
      const session = open(command);
      const { data, idempotencyKey } = await sendChange<{ createSlice: SliceView }>(
        session,
        CREATE,
        { key, percent: options.percent, description: options.description, owner: options.owner, tags: options.tag, stickinessAttribute: options.stickiness },
        { action: 'create slices', allowedTokens: CHANGE_TOKENS, sliceKey: key },
        options,
      );
      const s = data.createSlice;
      session.out.result(
        { ...s, idempotencyKey },
        () => `${s.key}: created, ${s.state}, ${formatPercent(s.percent)} on NEW, stickiness ${s.stickinessAttribute} (version ${s.version}).`,
      );
    });

  slice
    .command('update')
    .description("change a slice's description, owner or tags (each one given replaces what it had; the rest stays)")
    .argument('<slice>', 'the slice key')
    .option('--description <text>', 'the new description ("" to remove it)')
    .option('--owner <team>', 'the new owner ("" to remove it)')
    .addOption(new Option('--tag <tags>', 'the tags, replacing all it had (repeat, or separate with commas)').argParser(collectList).conflicts('clearTags'))
    .option('--clear-tags', 'remove every tag')
    .addOption(expectedVersionOption())
    .addOption(optionalReasonOption())
    .addOption(idempotencyKeyOption())
    .action(async (key: string, options: SliceFields & ChangeFlags & { clearTags?: boolean }, command: Command) => {
      const tags = options.clearTags ? [] : options.tag;
      if (options.description === undefined && options.owner === undefined && tags === undefined) {
        throw CliError.usage('Nothing to update: give --description, --owner, --tag or --clear-tags.', `e.g. switchyard slice update ${key} --owner team-payments`);
      }
      const session = open(command);
      const { data, idempotencyKey } = await sendChange<{ updateSlice: SliceView }>(
        session,
        UPDATE,
        { key, description: options.description, owner: options.owner, tags, expectedVersion: options.expectedVersion },
        { action: 'change slices', allowedTokens: CHANGE_TOKENS, sliceKey: key },
        options,
      );
      const s = data.updateSlice;
      const changed = [options.description !== undefined && 'description', options.owner !== undefined && 'owner', tags !== undefined && 'tags'].filter(Boolean);
      session.out.result({ ...s, idempotencyKey }, () => `${s.key}: ${changed.join(', ')} saved (version ${s.version}).`);
    });

  slice
    .command('archive')
    .description('end of a migration: everyone on LEGACY for good, and the slice can no longer change (it stays in status and history)')
    .argument('<slice>', 'the slice key')
    .addOption(reasonOption())
    .addOption(expectedVersionOption())
    .addOption(idempotencyKeyOption())
    .action(async (key: string, options: ChangeFlags, command: Command) => {
      const session = open(command);
      const { data, idempotencyKey } = await sendChange<{ archiveSlice: SliceView }>(
        session,
        ARCHIVE,
        { key, expectedVersion: options.expectedVersion },
        { action: 'archive slices', allowedTokens: CHANGE_TOKENS, sliceKey: key },
        options,
      );
      const s = data.archiveSlice;
      session.out.result({ ...s, idempotencyKey }, () => `${s.key}: ${s.state}, everyone on LEGACY; it can no longer change (version ${s.version}).`);
    });
}
