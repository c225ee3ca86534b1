import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { type ChainVerdictCode, POSITION_PATTERN } from './hash-chain.js';

/**
 * Signed checkpoints of the history chain: pure (node:crypto only), shared by the service and the
 * CLI's offline verifier, specified byte for byte in docs/history.md (and re-implemented in
 * docs/verify_history.py): change them together.
 *
 * A checkpoint says "the key holder saw the chain at `position` with head `headHash` at
 * `signedAt`". Verifying a chain against one proves that nothing up to that position was removed
 * or rewritten since, whoever could write to the database.
 */
export const CHECKPOINT_SCHEME = 'switchyard-checkpoint-v1';

export interface HistoryCheckpoint {
  readonly scheme: typeof CHECKPOINT_SCHEME;
  /** The position of the head row when signed: a decimal integer, 1 or more. */
  readonly position: string;
  /** That row's hash: 64 lowercase hex digits. */
  readonly headHash: string;
  /** When it was signed, by the signer's clock: ISO 8601 UTC with milliseconds, as signed. */
  readonly signedAt: string;
  /** Which key signed it: see `keyIdOf`. */
  readonly keyId: string;
  /** Ed25519 signature of `checkpointSigningInput`, base64 (64 bytes). */
  readonly signature: string;
}

/** What each member must look like (the GraphQL input checks the same). */
export const CHECKPOINT_PATTERNS = {
  position: POSITION_PATTERN,
  headHash: /^[0-9a-f]{64}$/,
  signedAt: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/,
  keyId: /^[0-9a-f]{32}$/,
  signature: /^[A-Za-z0-9+/]{86}==$/,
} as const;

/** The exact bytes signed: five lines of ASCII, each ending in "\n". */
export function checkpointSigningInput(checkpoint: Omit<HistoryCheckpoint, 'signature'>): Buffer {
  return Buffer.from(`${CHECKPOINT_SCHEME}\nposition=${checkpoint.position}\nhead=${checkpoint.headHash}\nsigned-at=${checkpoint.signedAt}\nkey=${checkpoint.keyId}\n`, 'utf8');
}

/** An Ed25519 key pair as the service holds it, with the forms it publishes. */
export interface CheckpointKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** First 32 hex digits of SHA-256 over the raw 32-byte public key. */
  readonly keyId: string;
  /** SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`): what `openssl` and most libraries read. */
  readonly publicKeyPem: string;
  /** The raw 32-byte public key, base64. */
  readonly publicKeyBase64: string;
}

export function generateCheckpointKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

/** The key pair of an Ed25519 private key. Throws on any other kind of key. */
export function checkpointKeyFrom(privateKey: KeyObject): CheckpointKey {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') throw new TypeError('not an Ed25519 private key');
  const publicKey = createPublicKey(privateKey);
  const raw = rawPublicKey(publicKey);
  return {
    privateKey,
    publicKey,
    keyId: keyIdOf(raw),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicKeyBase64: raw.toString('base64'),
  };
}

/** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), or the same DER in base64. Throws when it is not an Ed25519 private key. */
export function parsePrivateKey(text: string): KeyObject {
  const trimmed = text.trim();
  const key = trimmed.startsWith('-----BEGIN') ? createPrivateKey({ key: trimmed, format: 'pem' }) : createPrivateKey({ key: strictBase64(trimmed), format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`an Ed25519 key is needed, not ${key.asymmetricKeyType ?? 'this kind of key'}`);
  return key;
}

/** PKCS#8 PEM of a private key, as written to a key file. */
export function privateKeyPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/**
 * A public key as an auditor may hold it: SubjectPublicKeyInfo PEM, or base64 of the raw 32
 * bytes or of the SubjectPublicKeyInfo DER. Throws when it is none of these, or not Ed25519.
 */
export function parsePublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  if (trimmed.startsWith('-----BEGIN')) {
    key = createPublicKey({ key: trimmed, format: 'pem' });
  } else {
    const bytes = strictBase64(trimmed);
    key =
      bytes.length === 32
        ? createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') }, format: 'jwk' })
        : createPublicKey({ key: bytes, format: 'der', type: 'spki' });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`an Ed25519 key is needed, not ${key.asymmetricKeyType ?? 'this kind of key'}`);
  return key;
}

export function keyIdOfPublicKey(publicKey: KeyObject): string {
  return keyIdOf(rawPublicKey(publicKey));
}

export function signCheckpoint(key: CheckpointKey, head: { position: string; headHash: string; signedAt: Date }): HistoryCheckpoint {
  const unsigned = { scheme: CHECKPOINT_SCHEME, position: head.position, headHash: head.headHash, signedAt: head.signedAt.toISOString(), keyId: key.keyId } as const;
  return { ...unsigned, signature: sign(null, checkpointSigningInput(unsigned), key.privateKey).toString('base64') };
}

/** OK, WRONG_KEY (it names another key) or BAD_SIGNATURE. The checkpoint must have passed `checkpointProblems`. */
export function verifyCheckpoint(checkpoint: HistoryCheckpoint, publicKey: KeyObject): Extract<ChainVerdictCode, 'OK' | 'WRONG_KEY' | 'BAD_SIGNATURE'> {
  if (checkpoint.keyId !== keyIdOfPublicKey(publicKey)) return 'WRONG_KEY';
  const { signature, ...unsigned } = checkpoint;
  return verify(null, checkpointSigningInput(unsigned), publicKey, Buffer.from(signature, 'base64')) ? 'OK' : 'BAD_SIGNATURE';
}

/**
 * What is wrong with a value that should be a checkpoint, field by field; empty when it is one.
 * Members other than the six are ignored (a sink may add some).
 */
export function checkpointProblems(value: unknown): { field: string; message: string }[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [{ field: 'checkpoint', message: 'must be a JSON object' }];
  const v = value as Record<string, unknown>;
  const problems: { field: string; message: string }[] = [];
  const check = (field: keyof HistoryCheckpoint, ok: boolean, message: string) => {
    if (!ok) problems.push({ field, message });
  };
  check('scheme', v.scheme === CHECKPOINT_SCHEME, `must be "${CHECKPOINT_SCHEME}"`);
  const matches = (field: keyof typeof CHECKPOINT_PATTERNS) => typeof v[field] === 'string' && CHECKPOINT_PATTERNS[field].test(v[field]);
  check('position', matches('position'), 'must be a decimal integer, 1 or more, as a string');
  check('headHash', matches('headHash'), 'must be 64 lowercase hex digits');
  check('signedAt', matches('signedAt'), 'must be ISO 8601 UTC with milliseconds');
  check('keyId', matches('keyId'), 'must be 32 lowercase hex digits');
  check('signature', matches('signature'), 'must be 64 bytes in base64');
  return problems;
}

/** The six members, in the order they are published: one JSON line per checkpoint. */
export function checkpointJson(checkpoint: HistoryCheckpoint): string {
  const { scheme, position, headHash, signedAt, keyId, signature } = checkpoint;
  return JSON.stringify({ scheme, position, headHash, signedAt, keyId, signature });
}

function rawPublicKey(publicKey: KeyObject): Buffer {
  const x = publicKey.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new TypeError('not an Ed25519 public key');
  return Buffer.from(x, 'base64url');
}

function keyIdOf(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex').slice(0, 32);
}

function strictBase64(text: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (compact === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw new TypeError('neither PEM nor base64');
  return Buffer.from(compact, 'base64');
}
