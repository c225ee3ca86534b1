import type { Command } from 'commander';
import type { HistoryCheckpoint as Checkpoint } from '../../history/proof/history-checkpoint.js';
import { CliError, READ_TOKENS } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import type { OpenSession } from '../session.js';

interface CheckpointKey {
  algorithm: string;
  keyId: string;
  publicKeyPem: string;
  publicKey: string;
}

const INTENT = { action: 'read history', allowedTokens: READ_TOKENS };

/**
 * `switchyard checkpoint ...`: the public key to verify with, and a checkpoint of the head on
 * demand, printed as the one JSON line the checkpoint file holds (so `>> checkpoints.ndjson`
 * keeps a copy of your own).
 */
export function registerCheckpointCommands(program: Command, open: OpenSession): void {
  const checkpoint = program.command('checkpoint').description('signed checkpoints of the history: the public key, and one of the head now');

  checkpoint
    .command('public-key')
    .description('print the public key that verifies the checkpoints (PEM): keep a copy outside Switchyard')
    .action(async (_options: unknown, command: Command) => {
      const { client, out } = open(command);
      const { historyCheckpointKey: key } = await client.request<{ historyCheckpointKey: CheckpointKey | null }>(
        '{ historyCheckpointKey { algorithm keyId publicKeyPem publicKey } }',
        {},
        INTENT,
      );
      if (key === null) throw checkpointsOff();
      out.result(key, () => key.publicKeyPem);
    });

  checkpoint
    .command('create')
    .description('sign the head of the history now (unless it is signed already) and print the checkpoint as one JSON line')
    .action(async (_options: unknown, command: Command) => {
      const { client, out } = open(command);
      const { checkpointHistory: c } = await client.request<{ checkpointHistory: Checkpoint | null }>(
        'mutation { checkpointHistory { scheme position headHash signedAt keyId signature } }',
        {},
        INTENT,
      );
      if (c === null) {
        out.result(null, () => 'History is empty: nothing to checkpoint.');
        return;
      }
      // The members in the order the service publishes them, on one line.
      const { scheme, position, headHash, signedAt, keyId, signature } = c;
      out.result({ scheme, position, headHash, signedAt, keyId, signature }, () => JSON.stringify({ scheme, position, headHash, signedAt, keyId, signature }));
    });
}

function checkpointsOff(): CliError {
  return new CliError({
    exitCode: ExitCode.REFUSED,
    code: 'CONFLICT',
    errorCode: 'CHECKPOINTS_DISABLED',
    message: 'The service signs no checkpoints (SWITCHYARD_CHECKPOINTS=off).',
    hint: 'Ask whoever runs it to configure a signing key (docs/history.md).',
  });
}
