/** A Server-Sent Events reader over real HTTP (fetch), for tests of the delivery stream. */
export interface ServerSentEvent {
  readonly event: string;
  readonly id: string | null;
  readonly data: string;
}

export interface EventStream {
  /** Reads to the end: 'clean' when the server ended the response, 'error' when the connection broke. */
  end(): Promise<'clean' | 'error'>;
  /** The next event (of this type, skipping others), or a rejection after timeoutMs. */
  next(type?: string, timeoutMs?: number): Promise<ServerSentEvent>;
  close(): void;
}

export async function openEventStream(url: string, headers: Record<string, string>): Promise<EventStream> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  if (res.status !== 200 || res.body === null) throw new Error(`stream answered ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const queue: ServerSentEvent[] = [];
  let buffer = '';

  const parse = () => {
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      let id: string | null = null;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('id: ')) id = line.slice(4);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) queue.push({ event, id, data: data.join('\n') });
    }
  };

  return {
    async end() {
      try {
        for (;;) if ((await reader.read()).done) return 'clean';
      } catch {
        return 'error';
      }
    },
    async next(type, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = queue.findIndex((e) => type === undefined || e.event === type);
        if (index >= 0) return queue.splice(0, index + 1).pop()!;
        if (Date.now() > deadline) throw new Error(`no ${type ?? 'event'} within ${timeoutMs} ms`);
        let timer: NodeJS.Timeout | undefined;
        const chunk = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no ${type ?? 'event'} within ${timeoutMs} ms`)), Math.max(0, deadline - Date.now()));
          }),
        ]).finally(() => clearTimeout(timer));
        if (chunk.done) throw new Error('stream ended');
        buffer += chunk.value;
        parse();
      }
    },
    close() {
      controller.abort();
    },
  };
}

/**
 * The next event that is not a heartbeat: heartbeats come on a timer (every 200 ms in some suites),
 * so on a slow machine one may arrive before the event a test waits for. Any other type is returned
 * as it is, so a test still sees a wrong event (a snapshot where a delta was due).
 */
export async function nextBesidesHeartbeats(stream: EventStream, timeoutMs = 10_000): Promise<ServerSentEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const event = await stream.next(undefined, Math.max(1, deadline - Date.now()));
    if (event.event !== 'heartbeat') return event;
  }
}
