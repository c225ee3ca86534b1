import { createHash } from 'node:crypto';

/**
 * The subject of a mismatch sample (docs/outcomes.md): the first 8 bytes of SHA-256 over
 * `sliceKey + "\n" + stickinessValue` (UTF-8), as 16 lowercase hex digits. Support can check
 * whether a known subject is the one in a sample; the report itself holds no identifier. A subject
 * without a stickiness value hashes the empty string.
 */
export function subjectOf(sliceKey: string, stickinessValue: string | undefined): string {
  return createHash('sha256')
    .update(`${sliceKey}\n${stickinessValue ?? ''}`, 'utf8')
    .digest('hex')
    .slice(0, 16);
}
