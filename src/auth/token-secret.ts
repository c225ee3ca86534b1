import { hash, randomBytes } from 'node:crypto';

/** `sy_` + 32 random bytes, base64url: 256 bits, so an unsalted SHA-256 is a safe stored form. */
export function newTokenSecret(): string {
  return `sy_${randomBytes(32).toString('base64url')}`;
}

/**
 * SHA-256 of the secret, hex. Runs on every authenticated request (the cache of verified tokens is
 * keyed by it): the one-shot `crypto.hash` (Node >= 20.12) costs about a third of a `createHash`
 * object's create / update / digest, the same digest.
 */
export function hashTokenSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}
