import { createHash, randomBytes } from 'node:crypto';

/** `sy_` + 32 random bytes, base64url: 256 bits, so an unsalted SHA-256 is a safe stored form. */
export function newTokenSecret(): string {
  return `sy_${randomBytes(32).toString('base64url')}`;
}

export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
