import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { KeyObject } from 'node:crypto';
import { type Command, Option } from 'commander';
import type { ChainVerdictCode } from '../../history/proof/hash-chain.js';
import { checkpointProblems, type HistoryCheckpoint, parsePublicKey } from '../../history/proof/history-checkpoint.js';
import { ExportVerifier } from '../../history/proof/history-export.js';
import { CliError, READ_TOKENS } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { formatCount } from '../output.js';
import type { OpenOffline, OpenSession } from '../session.js';

/** What either way of verifying reports (the API's HistoryVerification, or the offline verdict). */
export interface Verdict {
  ok: boolean;
  verdict: ChainVerdictCode;
  checkedRows: number;
  firstBrokenPosition: string | null;
  firstBrokenSequence: string | null;
  headPosition: string;
  headHash: string | null;
  checkpointPosition: string | null;
  /** Offline: the export line where verification stopped, and why it was malformed. */
  line?: number | null;
  problem?: string | null;
}

const VERIFY = `query($checkpoint: HistoryCheckpointInput) {
  verifyHistory(checkpoint: $checkpoint) { ok verdict checkedRows firstBrokenPosition firstBrokenSequence headPosition headHash checkpointPosition }
}`;

/**
 * `switchyard verify-history`: asks the service to recompute the chain (against a published
 * checkpoint with --checkpoint); with --file, verifies an export offline instead, with no service
 * and no database: only the export, the checkpoints and the public key the auditor holds.
 */
export function registerVerifyCommand(program: Command, open: OpenSession, openOffline: OpenOffline): void {
  program
    .command('verify-history')
    .description(
      `recompute the hash chain and prove it extends a signed checkpoint; with --file, offline from an export (no service, no database); exits ${ExitCode.HISTORY_BROKEN} when it does not verify`,
    )
    .addOption(
      new Option(
        '--checkpoint <file>',
        'a published checkpoint: a file with one JSON checkpoint, or the checkpoint file (one per line; offline: every one is checked), or the JSON itself',
      ),
    )
    .addOption(new Option('--file <export>', 'verify this export (`switchyard history export`) offline; needs --checkpoint and --public-key'))
    .addOption(new Option('--public-key <key>', 'offline: the public key that signs checkpoints (a PEM file, or the key itself; `switchyard checkpoint public-key` prints it)'))
    .action(async (options: { checkpoint?: string; file?: string; publicKey?: string }, command: Command) => {
      const checkpoints = options.checkpoint === undefined ? [] : readCheckpoints(options.checkpoint);
      if (options.file !== undefined) {
        if (options.checkpoint === undefined || options.publicKey === undefined) {
          throw CliError.usage(
            'Offline verification needs --checkpoint and --public-key as well as --file.',
            'Without a checkpoint signed by a key you hold, an export proves only that it is consistent with itself, which anyone who rewrote it can arrange.',
          );
        }
        const { out, exitWith } = openOffline(command);
        const verdict = await verifyExport(options.file, checkpoints, readPublicKey(options.publicKey));
        report(out, verdict, checkpoints);
        if (!verdict.ok) exitWith(ExitCode.HISTORY_BROKEN);
        return;
      }
      if (options.publicKey !== undefined) throw CliError.usage('--public-key is for offline verification (--file); the service verifies with its own key.');
      if (checkpoints.length > 1) {
        throw CliError.usage(
          `The service verifies against one checkpoint at a time; ${options.checkpoint} holds ${checkpoints.length}.`,
          'Pass one (e.g. the last line), or export the history and verify every checkpoint offline with --file.',
        );
      }
      const { client, out, exitWith } = open(command);
      const { verifyHistory: verdict } = await client.request<{ verifyHistory: Verdict }>(
        VERIFY,
        { checkpoint: checkpoints[0] ?? null },
        { action: 'read history', allowedTokens: READ_TOKENS },
      );
      report(out, verdict, checkpoints);
      if (!verdict.ok) exitWith(ExitCode.HISTORY_BROKEN);
    });
}

async function verifyExport(path: string, checkpoints: readonly HistoryCheckpoint[], publicKey: KeyObject): Promise<Verdict> {
  if (!existsSync(path)) throw CliError.usage(`No such file: ${path}.`);
  const verifier = new ExportVerifier(checkpoints, publicKey);
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) if (!verifier.accept(line, ++n)) break;
  lines.close();
  return verifier.verdict();
}

/** A file of one JSON checkpoint, or one per line (the file sink), or the JSON given inline. */
function readCheckpoints(arg: string): HistoryCheckpoint[] {
  const inline = arg.trim().startsWith('{');
  if (!inline && !existsSync(arg)) throw CliError.usage(`No such checkpoint file: ${arg}.`);
  const text = inline ? arg : readFileSync(arg, 'utf8');
  let values: { value: unknown; where: string }[];
  try {
    const whole = JSON.parse(text) as unknown;
    values = (Array.isArray(whole) ? whole : [whole]).map((value: unknown, i) => ({ value, where: Array.isArray(whole) ? `item ${i + 1}` : 'it' }));
  } catch {
    values = [];
    for (const [i, line] of text.split('\n').entries()) {
      if (line.trim() === '') continue;
      try {
        values.push({ value: JSON.parse(line) as unknown, where: `line ${i + 1}` });
      } catch {
        throw CliError.usage(`${inline ? 'The checkpoint' : arg} is not JSON (at line ${i + 1}).`);
      }
    }
  }
  if (values.length === 0) throw CliError.usage(`${arg} holds no checkpoint.`);
  return values.map(({ value, where }) => {
    const problems = checkpointProblems(value);
    if (problems.length > 0) {
      throw CliError.usage(`Not a checkpoint (${inline ? 'the JSON given' : `${arg}, ${where}`}): ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}.`);
    }
    return value as HistoryCheckpoint;
  });
}

/** A PEM file, a file holding the base64 key, or the key itself. */
function readPublicKey(arg: string): KeyObject {
  const text = existsSync(arg) ? readFileSync(arg, 'utf8') : arg;
  try {
    return parsePublicKey(text);
  } catch (error) {
    throw CliError.usage(
      `${existsSync(arg) ? arg : 'The --public-key given'} is not an Ed25519 public key (${(error as Error).message}).`,
      'Give the PEM that `switchyard checkpoint public-key` prints (saved to a file), or its base64 key.',
    );
  }
}

const ADVICE: Record<Exclude<ChainVerdictCode, 'OK'>, (v: Verdict) => string> = {
  MISMATCH_AT_POSITION: (v) =>
    `History BROKEN at position ${v.firstBrokenPosition}${v.firstBrokenSequence ? ` (sequence ${v.firstBrokenSequence})` : ''}: that row was altered, removed, or put out of place.\n` +
    `Treat every change from position ${v.firstBrokenPosition} on as unverified, and find who could write to the database directly.`,
  TRUNCATED: () => 'History TRUNCATED: the chain ends before the checkpoint’s position, so rows the key holder saw were removed from its end (or all of them).',
  CHECKPOINT_MISMATCH: () =>
    'History REWRITTEN: the chain verifies on its own, but not to the head the checkpoint vouches for: a row at or before its position was changed and the chain recomputed.',
  BAD_SIGNATURE: () => 'Checkpoint NOT AUTHENTIC: its signature does not verify with the key. It was altered, or made by someone else. Nothing was verified.',
  WRONG_KEY: () => 'Checkpoint signed by ANOTHER KEY than the one given (its keyId differs). Verify it with the key that signed it. Nothing was verified.',
  CHECKPOINT_OUT_OF_RANGE: () => 'The export does not cover the checkpoint: export a range that reaches its position (and starts at most one after it).',
  MALFORMED: (v) => `The export is MALFORMED at line ${v.line}: ${v.problem}. It is not an export this verifier reads, or it was damaged.`,
};

function report(out: { result(value: unknown, human: () => string): void }, v: Verdict, checkpoints: readonly HistoryCheckpoint[]): void {
  out.result({ ...v, checkpoints: checkpoints.length }, () => {
    if (!v.ok) return `${ADVICE[v.verdict as Exclude<ChainVerdictCode, 'OK'>](v)}\n(${formatCount(v.checkedRows)} rows checked; verdict ${v.verdict})`;
    const rows = `History verified: ${formatCount(v.checkedRows)} rows up to position ${v.headPosition}, every one linked to the one before and matching its hash, positions without a gap.`;
    if (v.checkpointPosition === null) {
      return (
        `${rows}\nhead hash: ${v.headHash}\n` +
        'No checkpoint was checked: rows removed from the end, or a chain rewritten and recomputed, would verify too. Pass a published one with --checkpoint.'
      );
    }
    const held =
      checkpoints.length === 0
        ? `the newest checkpoint the database holds (position ${v.checkpointPosition}); whoever can write to the database can remove those: pass a published one with --checkpoint`
        : checkpoints.length > 1
          ? `all ${checkpoints.length} checkpoints given, up to position ${v.checkpointPosition}`
          : `the checkpoint at position ${v.checkpointPosition}`;
    return `${rows}\nThe chain extends ${held}: nothing up to there was removed or rewritten since it was signed.\nhead hash: ${v.headHash}`;
  });
}
