/**
 * A worker of outcomes.bench.ts (forked; talks over IPC): runs `count` real SDK clients against
 * the service, each recording outcomes on every slice it is given, on both paths, as a busy host
 * would, and reporting them (watched slices every `watchedIntervalMs`). On `fail`, its first
 * client starts recording failures on NEW for one slice: the figure the bench waits to see.
 */
import { createClient, type SwitchyardClient } from '@switchyard/client-sdk';

export type ToOutcomesWorker =
  | {
      type: 'start';
      url: string;
      token: string;
      count: number;
      firstInstance: number;
      apps: number;
      slices: readonly string[];
      watchedIntervalMs: number;
      callsPerSecond: number;
      /** Each outcome follows a decision on its slice (as `route` makes one): reports carry decision counts too. */
      decisions: boolean;
    }
  | { type: 'fail'; slice: string }
  | { type: 'close' };

export type FromOutcomesWorker = { type: 'started'; ok: number; ms: number } | { type: 'failing'; at: number } | { type: 'closed' };

const clients: SwitchyardClient[] = [];
let timer: NodeJS.Timeout | null = null;
let failing: string | null = null;

function send(message: FromOutcomesWorker): void {
  process.send!(message);
}

/** Durations around 4 ms (LEGACY) and 3 ms (NEW), spread like a real service's. */
function duration(path: 'NEW' | 'LEGACY'): number {
  return (path === 'NEW' ? 3 : 4) * Math.exp((Math.random() - 0.5) * 0.8);
}

async function start(message: Extract<ToOutcomesWorker, { type: 'start' }>): Promise<void> {
  const begin = Date.now();
  for (let i = 0; i < message.count; i++) {
    const instance = message.firstInstance + i;
    const client = await createClient({
      url: message.url,
      token: message.token,
      appName: `bench-app-${instance % message.apps}`,
      instanceId: `bench-instance-${instance}`,
      watchedIntervalMs: message.watchedIntervalMs,
      initTimeoutMs: 10_000,
    });
    clients.push(client);
  }
  send({ type: 'started', ok: clients.length, ms: Date.now() - begin });

  // Every 100 ms, each client records callsPerSecond / 10 outcomes spread over its slices.
  const perTick = Math.max(1, Math.round(message.callsPerSecond / 10));
  let cursor = 0;
  timer = setInterval(() => {
    for (let c = 0; c < clients.length; c++) {
      const client = clients[c]!;
      for (let k = 0; k < perTick; k++) {
        const slice = message.slices[cursor % message.slices.length]!;
        // Both paths on every slice: alternate per pass over the slices (not per call, which with an
        // even number of slices would give each slice one path only).
        const path = Math.floor(cursor / message.slices.length) % 2 === 0 ? 'NEW' : 'LEGACY';
        cursor++;
        const ok = !(c === 0 && failing === slice && path === 'NEW');
        if (message.decisions) client.decide(slice, { key: `user-${cursor}` });
        client.recordOutcome(slice, path, { ok, durationMs: duration(path) });
      }
    }
  }, 100);
}

process.on('message', (message: ToOutcomesWorker) => {
  switch (message.type) {
    case 'start':
      start(message).catch((error: unknown) => {
        process.stderr.write(`[outcomes-worker] ${String(error)}\n`);
        process.exit(1);
      });
      break;
    case 'fail':
      failing = message.slice;
      send({ type: 'failing', at: Date.now() });
      break;
    case 'close':
      if (timer !== null) clearInterval(timer);
      void Promise.all(clients.map((client) => client.close())).finally(() => {
        send({ type: 'closed' });
        process.exit(0);
      });
      break;
  }
});
