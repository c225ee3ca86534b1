import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { registerChangeCommands } from './commands/change.commands.js';
import { registerCheckpointCommands } from './commands/checkpoint.commands.js';
import { registerHistoryCommands } from './commands/history.commands.js';
import { registerSegmentCommands } from './commands/segment.commands.js';
import { registerSliceCommands } from './commands/slice.commands.js';
import { registerTargetingCommands } from './commands/targeting.commands.js';
import { registerTokenCommands } from './commands/token.commands.js';
import { registerStatusCommand } from './commands/status.command.js';
import { registerWhoFollowsCommand } from './commands/who-follows.command.js';
import { registerOutcomesCommands } from './commands/outcomes.commands.js';
import { registerFreezeCommands } from './commands/freeze.commands.js';
import { registerPlanCommands } from './commands/plan.commands.js';
import { DEFAULT_TIMEOUT_SECONDS, DEFAULT_URL } from './config.js';
import { CliError } from './errors.js';
import { EXIT_CODES_HELP, ExitCode } from './exit-codes.js';
import { type CliIo, Output } from './output.js';
import { parseSeconds } from './parsers.js';
import { offlineFactory, type RunState, sessionFactory } from './session.js';

const ENVIRONMENT_HELP = `Environment:
  SWITCHYARD_URL    the service's base URL (default ${DEFAULT_URL}); --url wins
  SWITCHYARD_TOKEN  API token, needed by every command; --token wins (prefer the variable:
                    command-line arguments are visible to other users in \`ps\`)`;

const EXAMPLES_HELP = `Examples:
  switchyard status
  switchyard slice create payments.provider.mpesa --owner team-payments --tag providers
  switchyard segment create kenya --constraint "country IN KE"
  switchyard targeting set payments.provider.mpesa --exclude salary-run --rule kenya=20 --reason "Kenya first"
  switchyard set payments.provider.mpesa 5 --reason "canary" --expected-version 3
  switchyard rollback payments.provider.mpesa --reason "5xx at 12 % on the new stack"
  switchyard rollback --all --tag providers --reason "provider outage"
  switchyard rollback payments.provider.mpesa --segment kenya --reason "callbacks failing in KE"
  switchyard history payments.provider.mpesa --limit 10 --json | jq '.[0]'
  switchyard outcomes payments.provider.mpesa --window 5m --app checkout-api
  switchyard mismatches payments.provider.mpesa --limit 3
  switchyard plan create payments.provider.mpesa --step 5@1d,calls=5000 --step 50@6h,calls=20000,approval --step 100@30m --failure-ceiling 2
  switchyard plan status payments.provider.mpesa
  switchyard history export --out history.ndjson
  switchyard verify-history --file history.ndjson --checkpoint checkpoints.ndjson --public-key checkpoint-key.pub`;

/**
 * Runs the CLI once: parses `argv` (the arguments after `switchyard`), runs the command, prints
 * to `io`, and returns the exit code. Never throws and never exits the process, so tests call it
 * in-process and main.ts only sets `process.exitCode`.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const state: RunState = { exitCode: ExitCode.OK };
  const program = createProgram(io, state);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return state.exitCode;
  } catch (error) {
    // Before or outside a command's options (a parse error), --json is known from argv only.
    const out = new Output(io, argv.includes('--json'));
    if (error instanceof CommanderError) {
      // --help, --version, `help [command]`: commander says 0. Anything else is a usage error.
      if (error.exitCode === 0) return ExitCode.OK;
      // Commander has printed its message and the usage hint to stderr already.
      if (out.json) out.error(CliError.usage(error.message.replace(/^error: /, '')), { stderr: false });
      return ExitCode.USAGE;
    }
    if (error instanceof CliError) {
      out.error(error);
      return error.exitCode;
    }
    io.stderr.write(`error: the CLI failed unexpectedly (a bug; please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return ExitCode.CLI_BUG;
  }
}

export function createProgram(io: CliIo, state: RunState): Command {
  const version = packageVersion();
  const program = new Command('switchyard')
    .description('Steer Switchyard slices from a terminal or a script: slices, segments, targeting, rollouts, rollbacks, tokens, history, followers, outcomes.')
    .version(version, '-V, --version')
    .addOption(new Option('--url <url>', `the service's base URL (default: $SWITCHYARD_URL, else ${DEFAULT_URL})`))
    .addOption(new Option('--token <token>', 'API token (default: $SWITCHYARD_TOKEN)'))
    .addOption(new Option('--json', 'print one JSON document on stdout (the result, or {"error": ...}) and nothing else'))
    .addOption(new Option('--verbose', 'also print, on stderr, each request and answer (with its request id) and the idempotency key of a change'))
    .addOption(new Option('--timeout <seconds>', `give up waiting for the service after this long (default: ${DEFAULT_TIMEOUT_SECONDS})`).argParser(parseSeconds))
    .addHelpText('after', `\n${ENVIRONMENT_HELP}\n\n${EXIT_CODES_HELP}\n\n${EXAMPLES_HELP}\n`);

  const open = sessionFactory(io, state, `switchyard-cli/${version}`);
  registerStatusCommand(program, open);
  registerChangeCommands(program, open);
  registerSliceCommands(program, open);
  registerSegmentCommands(program, open);
  registerTargetingCommands(program, open);
  registerTokenCommands(program, open);
  registerHistoryCommands(program, open, offlineFactory(io, state));
  registerCheckpointCommands(program, open);
  registerWhoFollowsCommand(program, open);
  registerOutcomesCommands(program, open);
  registerFreezeCommands(program, open);
  registerPlanCommands(program, open);

  // Every command, subcommands included: write through `io`, and throw instead of exiting.
  const configure = (command: Command): void => {
    command
      .exitOverride()
      .configureHelp({ showGlobalOptions: true })
      .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s), getOutHelpWidth: () => helpWidth(io) })
      .showHelpAfterError(`(run ${commandPath(command)} --help for usage)`);
    for (const sub of command.commands) configure(sub);
  };
  configure(program);
  const withExitCodes = (command: Command): void => {
    command.addHelpText('after', `\n${EXIT_CODES_HELP}\n`);
    for (const sub of command.commands) withExitCodes(sub);
  };
  for (const sub of program.commands) withExitCodes(sub);
  return program;
}

/** `switchyard segment create`: the words that name a (sub)command. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function helpWidth(io: CliIo): number {
  return io.stdout.isTTY && io.stdout.columns ? io.stdout.columns : 100;
}

/** The version of the package this file belongs to (src/cli/ in tests, dist/src/cli/ when built). */
function packageVersion(): string {
  let dir = new URL('.', import.meta.url);
  for (let depth = 0; depth < 5; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'switchyard' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json at this level: go up
    }
    dir = new URL('..', dir);
  }
  return 'unknown';
}
