import { hostname, userInfo } from 'node:os';
import { ConsoleLogger, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Command, CommanderError } from 'commander';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from './common/errors/database-unavailable.js';
import { InvalidInputException, SwitchyardException } from './common/errors/switchyard.exception.js';
import { createValidationPipe } from './common/validation/validation.js';
import { type AppConfig, ConfigError, loadConfig } from './config/env.js';
import { DataDirectoryInUseError } from './database/data-dir-lock.js';
import { AdminRecoveryModule } from './admin-recovery.module.js';
import { ApiTokensService } from './auth/api-tokens.service.js';
import type { Actor } from './access/auth.decorators.js';
import { CreateTokenArgs } from './auth/dto/token.args.js';

/**
 * `npm run admin:recover -- --name <token name> --reason "<why>"`: a new admin token for whoever
 * lost every admin token but can reach the database (docs/operations.md). It runs with the
 * service's configuration (the same environment: DATABASE_URL, or the embedded engine under
 * SWITCHYARD_DATA_DIR; the checkpoint key), creates the token through the service's own modules
 * (AdminRecoveryModule: ChangeService, so history records it as TOKEN_CREATED with the actor
 * `recovery (os user <user>@<host>)` and the reason), signs a history checkpoint over it as the
 * service does at shutdown, and prints the secret once.
 *
 * On PostgreSQL the service may keep running meanwhile (changes serialize in the database); the
 * embedded engine serves one process at a time, so there the service must be stopped first (the
 * data directory's lock says so). Exit codes as the CLI's: 0 created, 1 refused (nothing written),
 * 2 usage or configuration, 4 database unreachable or the data directory in use.
 */

export const EXIT = { done: 0, refused: 1, usage: 2, unavailable: 4 } as const;

/**
 * Nest's logger on stderr, so that stdout holds only the result; Nest's own start-up chatter left
 * out, and the failure Nest reports as it gives up (runAdminRecovery prints that one, once, without a stack).
 */
class StderrLogger extends ConsoleLogger {
  protected override printMessages(messages: unknown[], context = '', logLevel: LogLevel = 'log', _stream?: 'stdout' | 'stderr', errorStack?: string): void {
    if (['InstanceLoader', 'NestFactory', 'ExceptionHandler'].includes(context)) return;
    super.printMessages(messages, context, logLevel, 'stderr', errorStack);
  }
}

class Refusal extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function recoveryActor(): Actor {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = `uid ${process.getuid?.() ?? 'unknown'}`;
  }
  // Parentheses are not allowed in token names: no token can ever be recorded as this actor.
  return { name: `recovery (os user ${user}@${hostname()})`, requestId: null };
}

/** The same rules as createToken's arguments (the API's own validation pipe), and a reason that says something. */
async function validInput(name: string, reason: string): Promise<CreateTokenArgs> {
  if (!/\S/.test(reason)) throw InvalidInputException.field('reason', 'say why: it is recorded in history');
  const args: unknown = await createValidationPipe().transform({ name, role: 'admin', reason }, { type: 'body', metatype: CreateTokenArgs });
  return args as CreateTokenArgs;
}

async function recover(config: AppConfig, logger: LoggerService | false, io: AdminRecoveryIo, name: string, reason: string): Promise<string> {
  const input = await validInput(name, reason);
  // Migrations are the service's (or migration:run's) business: a database behind the code is refused below.
  const app = await NestFactory.createApplicationContext(AdminRecoveryModule.forRoot({ ...config, runMigrations: false }), { logger, abortOnError: false });
  let outcome: { readonly secret: string } | { readonly error: unknown };
  try {
    if (await app.get(DataSource).showMigrations()) {
      throw new Refusal('The database has migrations pending: start the service once, or run `npm run migration:run`, then try again.', EXIT.refused);
    }
    const actor = recoveryActor();
    const created = await app.get(ApiTokensService).create(input, actor);
    outcome = { secret: created.secret! }; // null only when answering an idempotent retry: none here
    if (logger !== false) logger.log({ msg: 'admin token recovered', token: created.token.name, id: created.token.id, actor: actor.name }, 'AdminRecovery');
  } catch (error) {
    outcome = { error };
  }
  // Closing signs a checkpoint over the new history row (CheckpointScheduler) and closes the database.
  try {
    await app.close();
  } catch (error) {
    // The token exists by now: its secret is shown whatever closing did, or it would be lost.
    if ('secret' in outcome) {
      io.stderr.write(
        `Closing did not finish (${String((error as Error)?.message ?? error)}): the checkpoint over the new row may be missing; the service signs one within SWITCHYARD_CHECKPOINT_EVERY_MINUTES.\n`,
      );
    }
  }
  if ('error' in outcome) throw outcome.error;
  return `Admin token "${input.name}" created and recorded in history.\nIts secret, shown this once:\n${outcome.secret}\n`;
}

function exitCodeOf(error: unknown): { code: number; message: string } {
  if (error instanceof Refusal) return { code: error.exitCode, message: error.message };
  if (error instanceof ConfigError) return { code: EXIT.usage, message: error.message };
  if (error instanceof DataDirectoryInUseError) {
    return { code: EXIT.unavailable, message: `${error.message}\nThe embedded engine cannot be shared: stop the service, run this, start the service again.` };
  }
  if (error instanceof SwitchyardException) {
    const field = typeof error.details?.field === 'string' ? ` (${error.details.field})` : '';
    return { code: isDatabaseUnavailable(error) ? EXIT.unavailable : EXIT.refused, message: `${error.code}${field}: ${error.message}` };
  }
  if (isDatabaseUnavailable(error)) return { code: EXIT.unavailable, message: `The database is unreachable: ${(error as Error).message}` };
  return { code: EXIT.refused, message: `admin:recover failed: ${String((error as Error)?.stack ?? error)}` };
}

/** Where the command writes, and the environment it reads (main passes the process's own; tests their own). */
export interface AdminRecoveryIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Nest's logs (key, checkpoint); JSON or text lines on stderr unless given. `false`: none. */
  readonly logger?: LoggerService | false;
}

/** `admin:recover` with these arguments (those after `--`); resolves to the exit code. */
export async function runAdminRecovery(argv: readonly string[], io: AdminRecoveryIo): Promise<number> {
  const program = new Command('npm run admin:recover --')
    .description('Create a new admin token directly in the database, recorded in history (for when every admin token is lost).')
    .requiredOption('--name <name>', "the new token's name: unique, recorded as the actor of every change made with it")
    .requiredOption('--reason <text>', 'why: required, recorded in history')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.done : EXIT.usage;
    throw error;
  }
  const options = program.opts<{ name: string; reason: string }>();
  try {
    const config = loadConfig(io.env);
    const logger = io.logger ?? new StderrLogger({ json: config.logFormat === 'json', colors: false });
    io.stdout.write(await recover(config, logger, io, options.name, options.reason));
    return EXIT.done;
  } catch (error) {
    const { code, message } = exitCodeOf(error);
    io.stderr.write(`${message}\n`);
    return code;
  }
}
