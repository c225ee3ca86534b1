import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  checkpointJson,
  checkpointKeyFrom,
  checkpointProblems,
  checkpointSigningInput,
  generateCheckpointKey,
  type HistoryCheckpoint,
  keyIdOfPublicKey,
  parsePrivateKey,
  parsePublicKey,
  signCheckpoint,
  verifyCheckpoint,
} from './history-checkpoint.js';

interface Vectors {
  checkpoint: { privateKeyPem: string; publicKeyPem: string; publicKey: string; keyId: string; signingInput: string; checkpoint: HistoryCheckpoint };
}
const { checkpoint: vector } = JSON.parse(readFileSync(new URL('../../../test/fixtures/history-hash-vectors.json', import.meta.url), 'utf8')) as Vectors;

describe('checkpoints', () => {
  const key = checkpointKeyFrom(parsePrivateKey(vector.privateKeyPem));

  it('sign exactly the documented bytes, deterministically (the golden vector)', () => {
    expect(key.keyId).toBe(vector.keyId);
    expect(key.publicKeyPem).toBe(vector.publicKeyPem);
    expect(key.publicKeyBase64).toBe(vector.publicKey);
    expect(checkpointSigningInput(vector.checkpoint).toString('utf8')).toBe(vector.signingInput);
    const { position, headHash, signedAt } = vector.checkpoint;
    expect(signCheckpoint(key, { position, headHash, signedAt: new Date(signedAt) })).toEqual(vector.checkpoint);
    expect(verifyCheckpoint(vector.checkpoint, key.publicKey)).toBe('OK');
  });

  it('any changed member breaks the signature; another key is WRONG_KEY', () => {
    const c = vector.checkpoint;
    const changed: Partial<HistoryCheckpoint>[] = [
      { position: String(Number(c.position) + 1) },
      { headHash: c.headHash.replace(/^./, (x) => (x === '0' ? '1' : '0')) },
      { signedAt: '2026-11-24T04:00:00.001Z' },
      { signature: Buffer.from(Buffer.from(c.signature, 'base64').map((b, i) => (i === 5 ? b ^ 1 : b))).toString('base64') },
    ];
    for (const change of changed) {
      const tampered = { ...c, ...change };
      expect(checkpointProblems(tampered)).toEqual([]);
      expect(verifyCheckpoint(tampered, key.publicKey)).toBe('BAD_SIGNATURE');
    }
    const other = checkpointKeyFrom(generateCheckpointKey());
    expect(verifyCheckpoint({ ...c, keyId: other.keyId }, key.publicKey)).toBe('WRONG_KEY');
    expect(verifyCheckpoint(c, other.publicKey)).toBe('WRONG_KEY');
    // A forger who names the right key still cannot sign for it.
    const forged = signCheckpoint({ ...other, keyId: key.keyId }, { position: c.position, headHash: c.headHash, signedAt: new Date() });
    expect(verifyCheckpoint(forged, key.publicKey)).toBe('BAD_SIGNATURE');
  });

  it('reads a public key as PEM, raw base64 or SPKI DER base64, and refuses other kinds', () => {
    const der = key.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    for (const text of [vector.publicKeyPem, vector.publicKey, der, `  ${vector.publicKey}\n`]) expect(keyIdOfPublicKey(parsePublicKey(text))).toBe(vector.keyId);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => parsePublicKey(rsa.publicKey.export({ format: 'pem', type: 'spki' }).toString())).toThrow(TypeError);
    expect(() => parsePrivateKey(rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString())).toThrow(TypeError);
    for (const junk of ['', 'not a key', '!!!!', 'AAAA']) expect(() => parsePublicKey(junk)).toThrow();
    // A private key is base64 PKCS#8 DER too.
    expect(parsePrivateKey(key.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64')).asymmetricKeyType).toBe('ed25519');
  });

  it('names each malformed member, and accepts the published JSON line back', () => {
    expect(checkpointProblems(JSON.parse(checkpointJson(vector.checkpoint)))).toEqual([]);
    expect(checkpointProblems({ ...vector.checkpoint, extra: 1 })).toEqual([]);
    expect(checkpointProblems(null).map((p) => p.field)).toEqual(['checkpoint']);
    const bad = { scheme: 'v0', position: '0', headHash: 'ABC', signedAt: '2026-11-24T04:00:00Z', keyId: 12, signature: 'x' };
    expect(checkpointProblems(bad).map((p) => p.field)).toEqual(['scheme', 'position', 'headHash', 'signedAt', 'keyId', 'signature']);
  });
});
