import { type Command, InvalidArgumentError, Option } from 'commander';
import { type ChangeFlags, expectedVersionOption, idempotencyKeyOption, optionalReasonOption, sendChange } from '../change-options.js';
import { ADMIN_TOKENS, CHANGE_TOKENS, CliError, READ_TOKENS } from '../errors.js';
import { formatTime, plural, table } from '../output.js';
import type { OpenSession } from '../session.js';

/** A freeze window as the CLI reads it (and `--json` prints it): docs/freeze-windows.md. */
export interface FreezeWindowView {
  key: string;
  description: string;
  timeZone: string;
  kind: 'ONE_OFF' | 'RECURRING';
  from: string | null;
  until: string | null;
  recurrence: { daysOfMonth: number[] | null; weekdays: number[] | null; at: string; duration: string } | null;
  tag: string | null;
  version: number;
}

const FIELDS = 'key description timeZone kind from until recurrence { daysOfMonth weekdays at duration } tag version';
const LIST = `{ freezeWindows { ${FIELDS} } }`;
const CREATE = `mutation($key: String!, $description: String!, $timeZone: String!, $from: DateTime, $until: DateTime, $recurrence: FreezeRecurrenceInput, $tag: String, $reason: String, $idempotencyKey: String) {
  createFreezeWindow(key: $key, description: $description, timeZone: $timeZone, from: $from, until: $until, recurrence: $recurrence, tag: $tag, reason: $reason, idempotencyKey: $idempotencyKey) { ${FIELDS} }
}`;
const DELETE = `mutation($key: String!, $expectedVersion: Int, $reason: String, $idempotencyKey: String) {
  deleteFreezeWindow(key: $key, expectedVersion: $expectedVersion, reason: $reason, idempotencyKey: $idempotencyKey) { ${FIELDS} }
}`;

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** "25-27" or "1,15,28-31" -> [25, 26, 27] (the service checks the range). */
function parseDays(value: string): number[] {
  const days = value.split(',').flatMap((part) => {
    const m = /^(\d{1,2})(?:-(\d{1,2}))?$/.exec(part.trim());
    if (m === null) throw new InvalidArgumentError('expected days of the month such as 25-27 or 1,15.');
    const from = Number(m[1]);
    const to = Number(m[2] ?? m[1]);
    if (to < from) throw new InvalidArgumentError(`${part}: the range is inverted.`);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
  return [...new Set(days)];
}

/** "sat,sun" or "mon-fri" -> ISO weekdays. */
function parseWeekdays(value: string): number[] {
  const index = (name: string) => {
    const i = WEEKDAYS.indexOf(name.trim().toLowerCase().slice(0, 3));
    if (i < 0) throw new InvalidArgumentError(`${name}: expected a weekday (mon, tue, ... sun).`);
    return i + 1;
  };
  return [
    ...new Set(
      value.split(',').flatMap((part) => {
        const [a, b] = part.split('-');
        const from = index(a!);
        const to = b === undefined ? from : index(b);
        if (to < from) throw new InvalidArgumentError(`${part}: the range is inverted.`);
        return Array.from({ length: to - from + 1 }, (_, i) => from + i);
      }),
    ),
  ];
}

/** A window in one line: "days 25-27 from 00:00 for 3d" or "2026-12-20 00:00 to ...". */
export function describeSchedule(w: FreezeWindowView): string {
  if (w.kind === 'ONE_OFF') return `${formatTime(w.from)} to ${formatTime(w.until)}`;
  const r = w.recurrence!;
  const days = [r.daysOfMonth === null ? null : `days ${r.daysOfMonth.join(',')}`, r.weekdays === null ? null : r.weekdays.map((d) => WEEKDAYS[d - 1]).join(',')].filter(
    (x) => x !== null,
  );
  return `${days.length === 0 ? 'every day' : days.join(' and ')}, from ${r.at} for ${r.duration}`;
}

interface CreateFlags extends ChangeFlags {
  timeZone: string;
  days?: number[];
  weekdays?: number[];
  at: string;
  duration?: string;
  from?: string;
  until?: string;
  tag?: string;
  description?: string;
}

export function registerFreezeCommands(program: Command, open: OpenSession): void {
  const freeze = program.command('freeze').description('freeze windows: spans of time (one-off or recurring, in a time zone) when exposure cannot be raised');

  freeze
    .command('list')
    .description('every freeze window: its schedule, time zone and scope')
    .action(async (_options: unknown, command: Command) => {
      const { client, out } = open(command);
      const { freezeWindows } = await client.request<{ freezeWindows: FreezeWindowView[] }>(LIST, {}, { action: 'read freeze windows', allowedTokens: READ_TOKENS });
      out.result(freezeWindows, () => {
        if (freezeWindows.length === 0) return 'No freeze windows.';
        return (
          table(
            freezeWindows,
            [
              { header: 'KEY', value: (w) => w.key, shrinkTo: 12 },
              { header: 'SCHEDULE', value: describeSchedule, shrinkTo: 20 },
              { header: 'TIME ZONE', value: (w) => w.timeZone },
              { header: 'SLICES', value: (w) => (w.tag === null ? 'every slice' : `tag ${w.tag}`) },
              { header: 'VERSION', value: (w) => String(w.version), align: 'right' },
            ],
            out.width,
          ) + `\n${plural(freezeWindows.length, 'freeze window')}.\n`
        );
      });
    });

  freeze
    .command('create')
    .description('create a freeze window: recurring (--days and/or --weekdays, --at, --duration) or one-off (--from, --until)')
    .argument('<window>', 'the new key, e.g. salary-run')
    .addOption(new Option('--time-zone <zone>', 'IANA time zone the local times and days are read in, e.g. Africa/Nairobi').makeOptionMandatory())
    .addOption(new Option('--days <days>', 'days of the month it starts on: 25 or 25-27 or 1,15').argParser(parseDays))
    .addOption(new Option('--weekdays <days>', 'weekdays it starts on: sat,sun or mon-fri').argParser(parseWeekdays))
    .addOption(new Option('--at <HH:MM>', 'local start time').default('00:00'))
    .addOption(new Option('--duration <d>', 'how long each lasts: 3d, 6h, 30m, 1d12h'))
    .addOption(new Option('--from <instant>', 'one-off: first instant (RFC 3339, e.g. 2026-12-20T00:00:00+03:00)'))
    .addOption(new Option('--until <instant>', 'one-off: the instant it ends'))
    .addOption(new Option('--tag <tag>', 'only slices with this tag (default: every slice)'))
    .addOption(new Option('--description <text>', 'what it is for'))
    .addOption(optionalReasonOption())
    .addOption(idempotencyKeyOption())
    .addHelpText('after', '\nDays 25 to 27 of every month, all day, in Nairobi:\n  switchyard freeze create salary-run --time-zone Africa/Nairobi --days 25 --duration 3d')
    .action(async (key: string, options: CreateFlags, command: Command) => {
      const oneOff = options.from !== undefined || options.until !== undefined;
      if (oneOff === (options.duration !== undefined)) {
        throw CliError.usage(
          'Give either --duration (recurring) or --from and --until (one-off).',
          `e.g. switchyard freeze create ${key} --time-zone Africa/Nairobi --days 25 --duration 3d`,
        );
      }
      const session = open(command);
      const { data, idempotencyKey } = await sendChange<{ createFreezeWindow: FreezeWindowView }>(
        session,
        CREATE,
        {
          key,
          description: options.description ?? '',
          timeZone: options.timeZone,
          from: options.from ?? null,
          until: options.until ?? null,
          recurrence: oneOff ? null : { daysOfMonth: options.days ?? null, weekdays: options.weekdays ?? null, at: options.at, duration: options.duration },
          tag: options.tag ?? null,
        },
        { action: 'create freeze windows', allowedTokens: CHANGE_TOKENS },
        options,
      );
      const w = data.createFreezeWindow;
      session.out.result(
        { ...w, idempotencyKey },
        () => `freeze window ${w.key}: created, ${describeSchedule(w)} (${w.timeZone}), ${w.tag === null ? 'every slice' : `slices tagged ${w.tag}`}.`,
      );
    });

  freeze
    .command('delete')
    .description('delete a freeze window (admins only: it lifts its freezes)')
    .argument('<window>', 'the window key')
    .addOption(expectedVersionOption())
    .addOption(optionalReasonOption())
    .addOption(idempotencyKeyOption())
    .action(async (key: string, options: ChangeFlags, command: Command) => {
      const session = open(command);
      const { data, idempotencyKey } = await sendChange<{ deleteFreezeWindow: FreezeWindowView }>(
        session,
        DELETE,
        { key, expectedVersion: options.expectedVersion ?? null },
        { action: 'delete freeze windows', allowedTokens: ADMIN_TOKENS },
        options,
      );
      session.out.result({ ...data.deleteFreezeWindow, idempotencyKey }, () => `freeze window ${key}: deleted (it was ${describeSchedule(data.deleteFreezeWindow)}).`);
    });
}
