import { randomUUID } from 'node:crypto';
import { Option } from 'commander';
import type { Intent } from './errors.js';
import { parsePositiveInt, parseReason } from './parsers.js';
import type { Session } from './session.js';

/**
 * What every change takes, the same way in every command: why, against which version, and the
 * key that makes a retry safe.
 */
export interface ChangeFlags {
  reason?: string;
  idempotencyKey?: string;
  expectedVersion?: number;
  /** An admin's reason to raise exposure during a freeze window (recorded as FREEZE_OVERRIDDEN); only on the commands that raise it. */
  freezeOverride?: string;
}

/**
 * Required where the service requires it, or will (rollback, resume, set, targeting, archive: a
 * change of exposure says why). The CLI refuses a missing or blank one before sending anything.
 */
export const reasonOption = () => new Option('--reason <text>', "why (required; recorded in history as the change's reason)").makeOptionMandatory().argParser(parseReason);

/** Everywhere else: recorded when given. */
export const optionalReasonOption = () => new Option('--reason <text>', 'why (recorded in history)').argParser(parseReason);

export const idempotencyKeyOption = () =>
  new Option(
    '--idempotency-key <key>',
    'a retry with the same key and input returns the first result and changes nothing more (default: a new random key, printed with --verbose, in --json and when the answer is lost)',
  );

export const expectedVersionOption = (what: 'slice' | 'segment' = 'slice') =>
  new Option('--expected-version <n>', `refuse with CONFLICT unless the ${what} is still at this version`).argParser(parsePositiveInt);

/**
 * On the commands that can raise exposure (set, targeting, create above 0 %, resume): during a
 * freeze window the service refuses them with FREEZE_WINDOW unless an admin gives this reason
 * (docs/freeze-windows.md). Their documents declare `$freezeOverride`.
 */
export const freezeOverrideOption = () =>
  new Option('--freeze-override <reason>', 'admin only: apply it although a freeze window is on; the reason is recorded in history (FREEZE_OVERRIDDEN)').argParser(parseReason);

/** What a change answered, and the key it was sent with (for --json, and for the retry). */
export interface ChangeResult<T> {
  readonly data: T;
  readonly idempotencyKey: string;
}

/**
 * Sends one change with its idempotency key: the user's, or a fresh one. When the answer is lost
 * (timeout, dropped connection) the error names the key, so the retry cannot apply it twice.
 * `reason` goes in the variables when given (the documents declare `$reason`).
 */
export async function sendChange<T>(
  session: Session,
  document: string,
  variables: Readonly<Record<string, unknown>>,
  intent: Omit<Intent, 'idempotencyKey'>,
  flags: ChangeFlags,
): Promise<ChangeResult<T>> {
  const idempotencyKey = flags.idempotencyKey ?? `cli-${randomUUID()}`;
  session.out.trace(`idempotency key: ${idempotencyKey}${flags.idempotencyKey === undefined ? ' (made up by the CLI; pass it as --idempotency-key to retry safely)' : ''}`);
  const data = await session.client.request<T>(
    document,
    { ...variables, reason: flags.reason ?? null, idempotencyKey, ...(flags.freezeOverride === undefined ? {} : { freezeOverride: flags.freezeOverride }) },
    { ...intent, idempotencyKey },
  );
  return { data, idempotencyKey };
}
