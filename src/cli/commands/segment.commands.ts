import { type Command, InvalidArgumentError, Option } from 'commander';
import { type ChangeFlags, expectedVersionOption, idempotencyKeyOption, optionalReasonOption, sendChange } from '../change-options.js';
import { CONSTRAINT_OPERATORS, type ConstraintInput, ConstraintSyntaxError, formatConstraint, parseConstraint } from '../constraint-syntax.js';
import { CHANGE_TOKENS, CliError, type Intent, READ_TOKENS } from '../errors.js';
import { CONSTRAINTS_FILE_HELP, readConstraintsFile } from '../input-files.js';
import { formatTime, keyValues, ordinal, plural, table } from '../output.js';
import type { OpenSession } from '../session.js';

/** A segment as the CLI reads it (and `--json` prints it). */
export interface SegmentView {
  key: string;
  description: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  usedBy: string[];
  constraints: ConstraintInput[];
}

const SEGMENT_FIELDS = 'key description version createdAt updatedAt usedBy constraints { attribute operator values inverted caseInsensitive }';

// usedBy runs a query per segment (it costs 25 rows' worth in the service's query cost): 100 a
// page keeps a page well inside the default SWITCHYARD_MAX_QUERY_COST.
const PAGE_SIZE = 100;

const LIST = `query($first: Int!, $after: String) {
  segments(first: $first, after: $after) { nodes { ${SEGMENT_FIELDS} } pageInfo { endCursor hasNextPage } }
}`;
const SHOW = `query($key: String!) { segment(key: $key) { ${SEGMENT_FIELDS} } }`;
const CREATE = `mutation($key: String!, $description: String, $constraints: [ConstraintInput!]!, $reason: String, $idempotencyKey: String) {
  createSegment(key: $key, description: $description, constraints: $constraints, reason: $reason, idempotencyKey: $idempotencyKey) { ${SEGMENT_FIELDS} }
}`;
const UPDATE = `mutation($key: String!, $description: String, $constraints: [ConstraintInput!], $expectedVersion: Int, $reason: String, $idempotencyKey: String) {
  updateSegment(key: $key, description: $description, constraints: $constraints, expectedVersion: $expectedVersion, reason: $reason, idempotencyKey: $idempotencyKey) { ${SEGMENT_FIELDS} }
}`;
const DELETE = `mutation($key: String!, $expectedVersion: Int, $reason: String, $idempotencyKey: String) {
  deleteSegment(key: $key, expectedVersion: $expectedVersion, reason: $reason, idempotencyKey: $idempotencyKey) { ${SEGMENT_FIELDS} }
}`;

const CONSTRAINT_HELP = `Constraints (all must hold), one per --constraint:
  --constraint "<attribute> <OPERATOR> <value>,<value>,..."
  --constraint "country IN KE,GH" --constraint "appVersion SEMVER_GTE 2.3.0"
  --constraint "email STR_ENDS_WITH @example.com" --case-insensitive
  --constraint 'city IN "Dar es Salaam",Nairobi'      (a value with a comma, space or quote: a JSON string)
--inverted and --case-insensitive apply to the --constraint just before them.
Operators (NUM_*, DATE_*, SEMVER_*: exactly one value):
${wrap(CONSTRAINT_OPERATORS.join(' '), 96, '  ')}`;

interface ConstraintFlags {
  constraint?: ConstraintInput[];
  file?: string;
  description?: string;
}

/** The constraints of a create or update, from the flags or the file, and how to name one in a hint. */
interface Constraints {
  constraints?: ConstraintInput[];
  description?: string;
  describeField: (field: string) => string | undefined;
}

export function registerSegmentCommands(program: Command, open: OpenSession): void {
  const segment = program.command('segment').description('named, reusable sets of subjects (constraints that must all hold) for targeting');

  segment
    .command('list')
    .description('every segment: its constraints, how many slices use it, version, updated')
    .action(async (_options: unknown, command: Command) => {
      const { client, out } = open(command);
      const intent: Intent = { action: 'read segments', allowedTokens: READ_TOKENS };
      const segments: SegmentView[] = [];
      let after: string | null = null;
      for (;;) {
        const page: { segments: { nodes: SegmentView[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } } = await client.request(
          LIST,
          { first: PAGE_SIZE, after },
          intent,
        );
        segments.push(...page.segments.nodes);
        const next = page.segments.pageInfo.endCursor;
        if (!page.segments.pageInfo.hasNextPage || next === null || next === after) break;
        after = next;
      }
      out.result(segments, () => {
        if (segments.length === 0) return 'No segments yet.';
        const unused = segments.filter((s) => s.usedBy.length === 0).length;
        return (
          table(
            segments,
            [
              { header: 'KEY', value: (s) => s.key, shrinkTo: 12 },
              { header: 'SLICES', value: (s) => String(s.usedBy.length), align: 'right' },
              { header: 'VERSION', value: (s) => String(s.version), align: 'right' },
              { header: 'UPDATED', value: (s) => formatTime(s.updatedAt) },
              { header: 'CONSTRAINTS', value: (s) => s.constraints.map(describeConstraint).join('; ') || '(none: everyone)', shrinkTo: 12 },
            ],
            out.width,
          ) + `\n${plural(segments.length, 'segment')}${unused === 0 ? '' : `; ${unused} used by no slice`}.\n`
        );
      });
    });

  segment
    .command('show')
    .description('one segment: its constraints, in the --constraint form, and the slices that use it')
    .argument('<segment>', 'the segment key')
    .action(async (key: string, _options: unknown, command: Command) => {
      const { client, out } = open(command);
      const { segment: s } = await client.request<{ segment: SegmentView }>(SHOW, { key }, { action: 'read segments', allowedTokens: READ_TOKENS, segmentKey: key });
      out.result(s, () => renderSegment(s));
    });

  withConstraintOptions(
    segment
      .command('create')
      .description('create a segment from --constraint flags or a --file')
      .argument('<segment>', 'the new key: lowercase, a letter or digit then up to 127 of a-z 0-9 . _ : / -'),
  )
    .addOption(optionalReasonOption())
    .addOption(idempotencyKeyOption())
    .action(async (key: string, options: ConstraintFlags & ChangeFlags, command: Command) => {
      const given = constraintsOf(options);
      if (given.constraints === undefined) {
        throw CliError.usage(
          'A segment needs its constraints: give --constraint (one or more) or --file.',
          `e.g. switchyard segment create ${key} --constraint "country IN KE,GH"`,
        );
      }
      const session = open(command);
      const { data, idempotencyKey } = await sendChange<{ createSegment: SegmentView }>(
        session,
        CREATE,
        { key, description: given.description, constraints: given.constraints },
        { action: 'create segments', allowedTokens: CHANGE_TOKENS, segmentKey: key, describeField: given.describeField },
        options,
      );
      const s = data.createSegment;
      session.out.result({ ...s, idempotencyKey }, () => `segment ${s.key}: created with ${plural(s.constraints.length, 'constraint')} (version ${s.version}).`);
    });

  withConstraintOptions(
    segment
      .command('update')
      .description("replace a segment's constraints (all of them), or its description; it takes effect at once in every slice that uses it")
      .argument('<segment>', 'the segment key'),
  )
    .addOption(expectedVersionOption('segment'))
    .addOption(optionalReasonOption())
    .addOption(idempotencyKeyOption())
    .action(async (key: string, options: ConstraintFlags & ChangeFlags, command: Command) => {
      const given = constraintsOf(options);
      if (given.constraints === undefined && given.description === undefined) {
        throw CliError.usage('Nothing to update: give --constraint, --file or --description.', `e.g. switchyard segment update ${key} --constraint "country IN KE,GH,UG"`);
      }
      const session = open(command);
      const { data, idempotencyKey } = await sendChange<{ updateSegment: SegmentView }>(
        session,
        UPDATE,
        { key, description: given.description, constraints: given.constraints, expectedVersion: options.expectedVersion },
        { action: 'change segments', allowedTokens: CHANGE_TOKENS, segmentKey: key, describeField: given.describeField },
        options,
      );
      const s = data.updateSegment;
      session.out.result({ ...s, idempotencyKey }, () => {
        const where = s.usedBy.length === 0 ? 'no slice uses it' : `in effect now in ${plural(s.usedBy.length, 'slice')}: ${s.usedBy.join(', ')}`;
        return `segment ${s.key}: saved, ${plural(s.constraints.length, 'constraint')} (version ${s.version}); ${where}.`;
      });
    });

  segment
    .command('delete')
    .description('delete a segment that no slice uses (the service refuses while one does)')
    .argument('<segment>', 'the segment key')
    .addOption(expectedVersionOption('segment'))
    .addOption(optionalReasonOption())
    .addOption(idempotencyKeyOption())
    .action(async (key: string, options: ChangeFlags, command: Command) => {
      const session = open(command);
      const { data, idempotencyKey } = await sendChange<{ deleteSegment: SegmentView }>(
        session,
        DELETE,
        { key, expectedVersion: options.expectedVersion },
        { action: 'delete segments', allowedTokens: CHANGE_TOKENS, segmentKey: key },
        options,
      );
      const s = data.deleteSegment;
      session.out.result({ ...s, idempotencyKey }, () => `segment ${s.key}: deleted (it was at version ${s.version}).`);
    });
}

/**
 * --constraint (repeated, in order), the --inverted and --case-insensitive that follow one, and
 * --file instead of them. The two modifiers are tied to the constraint before them through
 * commander's option events, which fire in command-line order.
 */
function withConstraintOptions(command: Command): Command {
  command
    .addOption(
      new Option('--constraint <constraint>', 'a constraint, "<attribute> <OPERATOR> <value>,<value>..." (repeat: all must hold)')
        .argParser((value: string, previous: ConstraintInput[] | undefined) => {
          try {
            return [...(previous ?? []), parseConstraint(value)];
          } catch (error) {
            if (error instanceof ConstraintSyntaxError) throw new InvalidArgumentError(`${error.message}.`);
            throw error;
          }
        })
        .conflicts('file'),
    )
    .addOption(new Option('--inverted', 'the --constraint just before it is negated (holds when it would not)'))
    .addOption(new Option('--case-insensitive', 'the --constraint just before it ignores case (IN, NOT_IN, STR_*)'))
    .addOption(new Option('--file <file>', 'the constraints from a YAML or JSON file instead (see below)'))
    .option('--description <text>', 'what the segment is, for people')
    .addHelpText('after', `\n${CONSTRAINT_HELP}\n\n${CONSTRAINTS_FILE_HELP}`);
  const modifier = (flag: string, apply: (c: ConstraintInput) => void) => () => {
    const last = (command.getOptionValue('constraint') as ConstraintInput[] | undefined)?.at(-1);
    if (last === undefined) command.error(`error: ${flag} applies to the --constraint just before it: put it after one.`, { code: 'switchyard.constraintModifier' });
    apply(last);
  };
  command.on(
    'option:inverted',
    modifier('--inverted', (c) => (c.inverted = true)),
  );
  command.on(
    'option:case-insensitive',
    modifier('--case-insensitive', (c) => (c.caseInsensitive = true)),
  );
  return command;
}

function constraintsOf(options: ConstraintFlags): Constraints {
  if (options.file === undefined) {
    const flags = options.constraint;
    return {
      constraints: flags,
      description: options.description,
      describeField: (field) => {
        const match = /^constraints\[(\d+)\]/.exec(field);
        const c = match ? flags?.[Number(match[1])] : undefined;
        return c === undefined ? undefined : `the ${ordinal(Number(match![1]) + 1)} --constraint ("${formatConstraint(c)}")`;
      },
    };
  }
  const file = readConstraintsFile(options.file);
  if (file.description !== undefined && options.description !== undefined) {
    throw CliError.usage(`Two descriptions: --description and the one in ${options.file}.`, 'Give one of them.');
  }
  return {
    constraints: file.constraints,
    description: options.description ?? file.description,
    describeField: (field) => {
      const match = /^constraints\[(\d+)\]/.exec(field);
      const line = match ? file.lines[Number(match[1])] : undefined;
      return line === undefined ? undefined : `${field} in ${options.file} (the constraint at line ${line})`;
    },
  };
}

function renderSegment(s: SegmentView): string {
  let text = `${s.key}\n`;
  text += keyValues([
    ['description', s.description || '-'],
    ['version', String(s.version)],
    ['used by', s.usedBy.length === 0 ? 'no slice' : s.usedBy.join(', ')],
    ['created', formatTime(s.createdAt)],
    ['updated', formatTime(s.updatedAt)],
  ]);
  text +=
    s.constraints.length === 0
      ? '\nconstraints: none, so everyone is in it\n'
      : `\nconstraints (all must hold)\n${keyValues(s.constraints.map((c, i): [string, string] => [String(i + 1), describeConstraint(c)]))}`;
  return text;
}

/** `email STR_ENDS_WITH @example.com (case-insensitive)`: the --constraint form, and its modifiers in words. */
function describeConstraint(c: ConstraintInput): string {
  const modifiers = [c.inverted && 'inverted', c.caseInsensitive && 'case-insensitive'].filter(Boolean);
  return `${formatConstraint(c)}${modifiers.length > 0 ? ` (${modifiers.join(', ')})` : ''}`;
}

/** Words in lines of at most `width` characters, each line indented. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(indent + line);
  return lines.join('\n');
}
