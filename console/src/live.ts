/**
 * Live updates: the console listens to the documented SDK stream (client-sdk/PROTOCOL.md,
 * GET /sdk/v1/stream, which every role may read) and refetches what it shows when the
 * configuration's revision moves. EventSource reconnects by itself; the page shows when it is
 * not connected, so nobody mistakes a stale list for the truth during an incident.
 */
export type LiveState = 'connecting' | 'live' | 'disconnected';

export interface LiveFeed {
  close(): void;
}

export function followChanges(onRevision: (revision: number) => void, onState: (state: LiveState) => void): LiveFeed {
  let revision = -1;
  let source: EventSource | null = null;
  let retry: ReturnType<typeof setTimeout> | null = null;
  let closed = false;
  const seen = (event: MessageEvent<string>) => {
    const next = Number(event.lastEventId);
    if (Number.isFinite(next) && next !== revision) {
      revision = next;
      onRevision(next);
    }
  };
  const open = () => {
    onState('connecting');
    // revisions=1: only the revision, never the configuration (the page refetches what it shows);
    // the first event of a snapshot stream was 142 KB at 1,000 slices, over half of what the page loaded.
    source = new EventSource('/sdk/v1/stream?revisions=1');
    source.addEventListener('revision', seen);
    source.onopen = () => onState('live');
    source.onerror = () => {
      onState('disconnected');
      // A refused stream (401: the session ended) is closed by the browser for good: try again later.
      if (source?.readyState === EventSource.CLOSED && !closed) {
        source = null;
        retry = setTimeout(open, 3_000);
      }
    };
  };
  open();
  return {
    close() {
      closed = true;
      if (retry !== null) clearTimeout(retry);
      source?.close();
    },
  };
}
