import { type Command, Option } from 'commander';
import { type ChangeFlags, expectedVersionOption, freezeOverrideOption, idempotencyKeyOption, reasonOption, sendChange } from '../change-options.js';
import { CHANGE_TOKENS, CliError } from '../errors.js';
import { readTargetingFile, TARGETING_FILE_HELP } from '../input-files.js';
import { ordinal } from '../output.js';
import { collectList, collectRule, type RuleArgument } from '../parsers.js';
import type { OpenSession } from '../session.js';
import { renderTargeting, SLICE_FIELDS, type SliceView } from './slice-view.js';

const SET_TARGETING = `mutation($key: String!, $include: [String!]!, $exclude: [String!]!, $rules: [RuleInput!]!, $stickinessAttribute: String,
                          $expectedVersion: Int, $reason: String!, $idempotencyKey: String, $freezeOverride: String) {
  setTargeting(key: $key, include: $include, exclude: $exclude, rules: $rules, stickinessAttribute: $stickinessAttribute,
               expectedVersion: $expectedVersion, reason: $reason, idempotencyKey: $idempotencyKey, freezeOverride: $freezeOverride) { ${SLICE_FIELDS} }
}`;

const TARGETING_HELP = `The targeting given replaces the slice's include, exclude and rules as a whole. Decision order:
exclude (LEGACY, always wins), then include (NEW), then the first rule whose segments all match,
then the slice's own rollout. Examples:
  switchyard targeting set payments.provider.mpesa --exclude salary-run --include staff --rule kenya=20 --reason "Kenya first"
  switchyard targeting set payments.provider.mpesa --rule kenya,android=50 --rule kenya=20 --reason "..."
  switchyard targeting set payments.provider.mpesa --file targeting.yaml --reason "..."
  switchyard targeting set payments.provider.mpesa --clear --reason "everyone on the rollout"`;

interface TargetingFlags extends ChangeFlags {
  include?: string[];
  exclude?: string[];
  rule?: RuleArgument[];
  file?: string;
  clear?: boolean;
  stickiness?: string;
}

/**
 * `switchyard targeting set`: which segments a slice forces to LEGACY or NEW, and the rules
 * that give some of them their own percentage. `status <slice>` shows it.
 */
export function registerTargetingCommands(program: Command, open: OpenSession): void {
  const targeting = program
    .command('targeting')
    .description("a slice's targeting: segments forced to LEGACY or NEW, and rules with their own percentage (shown by `status <slice>`)");

  targeting
    .command('set')
    .description("replace a slice's include, exclude and rules as a whole, from flags or a --file")
    .argument('<slice>', 'the slice key')
    .addOption(new Option('--exclude <segments>', 'segments forced to LEGACY, whatever else matches (repeat, or separate with commas)').argParser(collectList))
    .addOption(new Option('--include <segments>', 'segments forced to NEW (repeat, or separate with commas)').argParser(collectList))
    .addOption(
      new Option(
        '--rule <segments=percent>',
        'a rule: subjects in all these segments get this percent, e.g. kenya=20 or staff,beta=100 (repeat; the first that matches decides)',
      ).argParser(collectRule),
    )
    .addOption(new Option('--file <file>', 'the targeting from a YAML or JSON file instead of the flags (see below)').conflicts(['include', 'exclude', 'rule', 'clear']))
    .addOption(
      new Option('--clear', 'no include, exclude or rules: everyone follows the rollout (an empty targeting is never sent without it)').conflicts(['include', 'exclude', 'rule']),
    )
    .option('--stickiness <attribute>', 'also change the attribute that identifies a subject: reshuffles who is on NEW, use with care')
    .addOption(reasonOption())
    .addOption(expectedVersionOption())
    .addOption(freezeOverrideOption())
    .addOption(idempotencyKeyOption())
    .addHelpText('after', `\n${TARGETING_HELP}\n\n${TARGETING_FILE_HELP}`)
    .action(async (key: string, options: TargetingFlags, command: Command) => {
      const given = targetingOf(key, options);
      const session = open(command);
      const { data, idempotencyKey } = await sendChange<{ setTargeting: SliceView }>(
        session,
        SET_TARGETING,
        { key, include: given.include, exclude: given.exclude, rules: given.rules, stickinessAttribute: given.stickinessAttribute, expectedVersion: options.expectedVersion },
        { action: 'change targeting', allowedTokens: CHANGE_TOKENS, sliceKey: key, describeField: given.describeField },
        options,
      );
      const s = data.setTargeting;
      session.out.result({ ...s, idempotencyKey }, () => `${s.key}: targeting saved (version ${s.version}), stickiness ${s.stickinessAttribute}.\n${renderTargeting(s)}`);
    });
}

function targetingOf(key: string, options: TargetingFlags) {
  if (options.file !== undefined) {
    const file = readTargetingFile(options.file);
    if (file.stickinessAttribute !== undefined && options.stickiness !== undefined) {
      throw CliError.usage(`Two stickiness attributes: --stickiness and the one in ${options.file}.`, 'Give one of them.');
    }
    return {
      include: file.include,
      exclude: file.exclude,
      rules: file.rules,
      stickinessAttribute: options.stickiness ?? file.stickinessAttribute,
      describeField: (field: string) => {
        const match = /^rules\[(\d+)\]/.exec(field);
        const line = match ? file.ruleLines[Number(match[1])] : undefined;
        return line === undefined ? `${field} in ${options.file}` : `${field} in ${options.file} (the rule at line ${line})`;
      },
    };
  }
  const rules = options.rule ?? [];
  if (!options.clear && options.include === undefined && options.exclude === undefined && rules.length === 0) {
    throw CliError.usage(
      'No targeting given: it would replace the targeting with nothing.',
      `Give --exclude, --include, --rule or --file; or --clear to remove all targeting on purpose (\`switchyard status ${key}\` shows what it has now).`,
    );
  }
  return {
    include: options.include ?? [],
    exclude: options.exclude ?? [],
    rules,
    stickinessAttribute: options.stickiness,
    describeField: (field: string) => {
      const match = /^rules\[(\d+)\]/.exec(field);
      const rule = match ? rules[Number(match[1])] : undefined;
      return rule === undefined ? undefined : `the ${ordinal(Number(match![1]) + 1)} --rule (${rule.segments.join(',')}=${rule.percent})`;
    },
  };
}
