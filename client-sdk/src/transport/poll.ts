/**
 * One snapshot request: `GET /sdk/v1/snapshot` with `If-None-Match` (PROTOCOL.md). The schedule
 * (interval, backoff, when to poll at all) is the synchroniser's (sync/snapshot-sync.ts); this module only fetches, and never
 * decides anything.
 */
import { endpointError, linkAbort, readText, toTransportError, Watchdog, type TransportContext } from './http.js';

/** What a poll brought back. */
export type PollResult =
  /** 304: the held revision is current. */
  | { readonly kind: 'not-modified' }
  /** 200: a snapshot, as the JSON text the service sent (the client parses it, the backup stores it as is). */
  | { readonly kind: 'snapshot'; readonly text: string };

/** The path of the snapshot endpoint, relative to the service's base URL. */
export const SNAPSHOT_PATH = '/sdk/v1/snapshot';

/**
 * Fetches the snapshot.
 *
 * @param heldRevision - the revision the client holds from the service, sent as `If-None-Match`
 *   (the ETag is the quoted revision); undefined asks for the snapshot unconditionally.
 * @param lifetime - aborted when the client closes.
 * @throws SwitchyardError (UNAUTHORIZED, FORBIDDEN, WRONG_URL, HTTP_ERROR, NETWORK_ERROR, TIMEOUT), or the
 *   lifetime signal's reason when the client closed.
 */
export async function fetchSnapshot(transport: TransportContext, heldRevision: number | undefined, lifetime: AbortSignal): Promise<PollResult> {
  const controller = new AbortController();
  const unlink = linkAbort(lifetime, controller);
  const watchdog = new Watchdog(controller, transport.idleTimeoutMs, 'poll');
  try {
    const headers: Record<string, string> = { ...transport.headers, accept: 'application/json' };
    if (heldRevision !== undefined) headers['if-none-match'] = `"${heldRevision}"`;
    const response = await transport.fetch(transport.baseUrl + SNAPSHOT_PATH, { headers, signal: controller.signal });
    watchdog.touch();
    if (response.status === 304) return { kind: 'not-modified' };
    if (!response.ok) throw await endpointError(response, transport, 'poll', SNAPSHOT_PATH);
    return { kind: 'snapshot', text: await readText(response, watchdog) };
  } catch (error) {
    throw toTransportError(error, controller.signal, 'poll');
  } finally {
    watchdog.stop();
    unlink();
    // Releases the connection if we left before the body was read (an error path).
    controller.abort();
  }
}
