import type { Command } from 'commander';
import { type GlobalOptions, resolveConfig } from './config.js';
import type { ExitCode } from './exit-codes.js';
import { GraphqlHttpClient } from './graphql-http-client.js';
import { type CliIo, Output } from './output.js';

/** What a command's action works with: a client for the global options, and the output. */
export interface Session {
  readonly client: GraphqlHttpClient;
  readonly out: Output;
  /** Exit with this code once the action returns, without an error (verify-history's broken chain). */
  readonly exitWith: (code: ExitCode) => void;
}

export type OpenSession = (command: Command) => Session;

/** What a command that needs no service works with (offline verification): no token, no URL. */
export type OpenOffline = (command: Command) => Omit<Session, 'client'>;

/** One invocation's state: what `run` returns once the command is done. */
export interface RunState {
  exitCode: ExitCode;
}

export function sessionFactory(io: CliIo, state: RunState, userAgent: string): OpenSession {
  return (command) => {
    const options = command.optsWithGlobals<GlobalOptions>();
    const out = new Output(io, options.json === true, options.verbose === true);
    return {
      out,
      client: new GraphqlHttpClient(resolveConfig(options, io.env), userAgent, (line) => out.trace(line)),
      exitWith: (code) => {
        state.exitCode = code;
      },
    };
  };
}

export function offlineFactory(io: CliIo, state: RunState): OpenOffline {
  return (command) => {
    const options = command.optsWithGlobals<GlobalOptions>();
    return {
      out: new Output(io, options.json === true, options.verbose === true),
      exitWith: (code) => {
        state.exitCode = code;
      },
    };
  };
}
