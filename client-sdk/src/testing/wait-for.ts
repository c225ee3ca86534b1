/**
 * Test helpers: wait for a condition or an event instead of sleeping a fixed time. Not part of the
 * SDK build (tsconfig excludes src/testing); type-checked with the tests.
 */
import type { ChangeEvent, SwitchyardClient } from '../client.js';

/** Resolves once `condition()` is truthy (checked every `intervalMs`); rejects after `timeoutMs`. */
export async function waitFor(condition: () => unknown, timeoutMs = 5_000, what = 'condition', intervalMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The next change event of `client` that satisfies `predicate` (default: any); rejects after `timeoutMs`. */
export function nextChange(client: SwitchyardClient, predicate: (event: ChangeEvent) => boolean = () => true, timeoutMs = 5_000): Promise<ChangeEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no matching change event within ${timeoutMs} ms (client at revision ${client.status().revision})`));
    }, timeoutMs);
    const unsubscribe = client.onChange((event) => {
      if (!predicate(event)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(event);
    });
  });
}
