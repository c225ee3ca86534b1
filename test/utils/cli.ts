import { run } from '../../src/cli/program.js';
import { ADMIN_TOKEN } from './create-test-app.js';

/** What one in-process run of the `switchyard` CLI printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed as JSON (for `--json` runs). */
  json<T = unknown>(): T;
}

/**
 * Runs the real CLI program in this process against a service at `baseUrl` (a function, so a
 * spec can hand it before its app starts), not a terminal (so `--json` and plain output are what a
 * script would see), with `token` (the admin's by default).
 */
export function cliAgainst(baseUrl: () => string): (args: string[], token?: string) => Promise<CliResult> {
  return async (args, token = ADMIN_TOKEN) => {
    let stdout = '';
    let stderr = '';
    const code = await run(args, {
      stdout: { write: (s: string) => (stdout += s), isTTY: false },
      stderr: { write: (s: string) => (stderr += s) },
      env: { SWITCHYARD_URL: baseUrl(), SWITCHYARD_TOKEN: token },
    });
    return { code, stdout, stderr, json: <T>() => JSON.parse(stdout) as T };
  };
}
