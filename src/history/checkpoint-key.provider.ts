import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Logger, type Provider } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, ConfigError, isInMemoryDataDir } from '../config/env.js';
import { type CheckpointKey, checkpointKeyFrom, generateCheckpointKey, parsePrivateKey, privateKeyPem } from './proof/history-checkpoint.js';

/** The key that signs history checkpoints, or null when checkpoints are off. */
export const CHECKPOINT_KEY = Symbol('CHECKPOINT_KEY');
export interface CheckpointKeyHandle {
  readonly key: CheckpointKey | null;
}

/** Where the embedded engine keeps the key it generated, when given none. */
export const GENERATED_KEY_FILE = 'checkpoint-key.pem';

/**
 * Where the signing key comes from, in this order: SWITCHYARD_CHECKPOINT_KEY,
 * SWITCHYARD_CHECKPOINT_KEY_FILE; else, on the embedded engine, a key generated into the data
 * directory once (0600) or, in memory, one that lives as long as the process. Never the database:
 * a key beside the rows it vouches for would let whoever rewrites them re-sign them.
 *
 * On a PostgreSQL server with neither, the service refuses to start unless checkpoints are turned
 * off explicitly (SWITCHYARD_CHECKPOINTS=off): a production service that silently signs nothing
 * would leave its history as unprovable as before, and nobody would notice until an audit.
 */
export const checkpointKeyProvider: Provider = {
  provide: CHECKPOINT_KEY,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig): CheckpointKeyHandle => ({ key: loadCheckpointKey(config, new Logger('CheckpointKey')) }),
};

export function loadCheckpointKey(config: AppConfig, logger: Pick<Logger, 'log' | 'warn'>): CheckpointKey | null {
  if (!config.checkpoints) {
    logger.warn({
      msg: 'history checkpoints are OFF (SWITCHYARD_CHECKPOINTS=off): nothing proves that history rows were not removed or rewritten by someone with database access',
    });
    return null;
  }
  let key: CheckpointKey;
  let source: string;
  if (config.checkpointKey !== null) {
    key = checkpointKeyFrom(parsePrivateKey(config.checkpointKey));
    source = 'SWITCHYARD_CHECKPOINT_KEY';
  } else if (config.checkpointKeyFile !== null) {
    key = readKeyFile(config.checkpointKeyFile, 'SWITCHYARD_CHECKPOINT_KEY_FILE');
    source = `file ${resolve(config.checkpointKeyFile)}`;
  } else if (config.databaseUrl !== null) {
    throw new ConfigError(
      'A PostgreSQL server needs a history checkpoint signing key: set SWITCHYARD_CHECKPOINT_KEY_FILE (a PKCS#8 PEM Ed25519 key, e.g. from ' +
        '`openssl genpkey -algorithm ed25519 -out checkpoint-key.pem`) or SWITCHYARD_CHECKPOINT_KEY, kept off the database server; ' +
        'or SWITCHYARD_CHECKPOINTS=off to run without signed checkpoints (docs/history.md).',
    );
  } else if (isInMemoryDataDir(config.dataDir)) {
    key = checkpointKeyFrom(generateCheckpointKey());
    source = 'ephemeral';
    logger.warn({
      msg: 'history checkpoints are signed with a key generated for this process only (in-memory data directory): set SWITCHYARD_CHECKPOINT_KEY_FILE to keep one',
      keyId: key.keyId,
    });
  } else {
    const path = resolve(join(config.dataDir, GENERATED_KEY_FILE));
    key = generatedKey(path);
    source = `file ${path}`;
    logger.warn({
      msg:
        'history checkpoints are signed with a key kept in the data directory, beside the history it vouches for: whoever can rewrite ' +
        'the data can read the key too. Move it off this machine and point SWITCHYARD_CHECKPOINT_KEY_FILE (or SWITCHYARD_CHECKPOINT_KEY) at it.',
      keyFile: path,
      keyId: key.keyId,
    });
  }
  logger.log({ msg: 'history checkpoint key', keyId: key.keyId, publicKey: key.publicKeyBase64, source });
  return key;
}

/** The key in `path`, generated there first (0600, never overwritten) when absent. */
function generatedKey(path: string): CheckpointKey {
  // Nest may build this provider before the embedded engine creates its directory.
  mkdirSync(dirname(path), { recursive: true });
  try {
    writeFileSync(path, privateKeyPem(generateCheckpointKey()), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readKeyFile(path, 'the generated key file');
}

function readKeyFile(path: string, what: string): CheckpointKey {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${what}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let key: CheckpointKey;
  try {
    key = checkpointKeyFrom(parsePrivateKey(text));
  } catch (error) {
    throw new ConfigError(`${what}: ${path} is not an Ed25519 private key in PKCS#8 PEM (${(error as Error).message})`);
  }
  // Readable by others is not fatal (a mounted secret may come so), but said.
  if ((statSync(path).mode & 0o077) !== 0) new Logger('CheckpointKey').warn({ msg: 'the checkpoint key file is readable by other users: chmod 600 it', keyFile: path });
  return key;
}
