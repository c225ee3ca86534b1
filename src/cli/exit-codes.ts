/**
 * The CLI's exit codes: a closed set, documented in `--help` and docs/cli.md. Scripts switch on
 * them, so a value never changes meaning; add new ones at the end.
 */
export const ExitCode = {
  /** Done as asked (also: a rollback of a slice already on LEGACY, an empty list). */
  OK: 0,
  /** The service refused: bad input, no such slice, version conflict, wrong state. Nothing changed. */
  REFUSED: 1,
  /** The command line itself is wrong (unknown option, missing --reason or token): nothing was sent. */
  USAGE: 2,
  /** The token was refused (UNAUTHENTICATED) or its role may not do this (FORBIDDEN). */
  AUTH: 3,
  /** No answer, or the service could not do its job: network, timeout, SERVICE_UNAVAILABLE, 5xx. */
  UNAVAILABLE: 4,
  /** verify-history: the history does not verify (a row altered or removed, rewritten or truncated since a checkpoint, a checkpoint not authentic). */
  HISTORY_BROKEN: 5,
  /** The CLI itself failed (a bug): sysexits' EX_SOFTWARE. */
  CLI_BUG: 70,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** For `--help` (and kept in step with docs/cli.md). */
export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  refused by the service (BAD_USER_INPUT, NOT_FOUND, CONFLICT): nothing changed
  2  usage error (bad option or argument, missing --reason or token): nothing was sent
  3  token refused (UNAUTHENTICATED) or its role may not do this (FORBIDDEN)
  4  service unreachable or unavailable (network, timeout, SERVICE_UNAVAILABLE, 5xx)
  5  verify-history: the history does not verify (broken, truncated or rewritten; checkpoint not authentic)
  70 the CLI itself failed (a bug: please report it)`;
