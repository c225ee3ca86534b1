/**
 * A worker of guardrails.bench.ts (forked; talks over IPC): runs `count` real SDK clients against
 * the service, each calling `route` on the trial's slice at `callsPerSecond`, with handlers that
 * fail like a host's paths would (LEGACY and NEW 0.5 % of calls; NEW `failingRate` after `fail`).
 * The clients report as the SDK does by default (watched slices every 2 s). On `fail` it says
 * when NEW started failing; then it says when every one of its clients decides LEGACY (the
 * slice's rollback reached each of them), watching every 5 ms.
 */
import { createClient, type SwitchyardClient } from '@switchyard/client-sdk';

export type ToGuardrailsWorker =
  | { type: 'start'; url: string; token: string; count: number; firstInstance: number; apps: number }
  | { type: 'trial'; slice: string; callsPerSecond: number; baseRate: number }
  | { type: 'fail'; rate: number }
  | { type: 'stop' }
  | { type: 'close' };

export type FromGuardrailsWorker =
  | { type: 'started'; ok: number; ms: number }
  | { type: 'ready'; ms: number }
  | { type: 'failing'; at: number }
  | { type: 'legacy'; at: number; calls: number }
  | { type: 'stopped' }
  | { type: 'closed' };

const clients: SwitchyardClient[] = [];
let traffic: NodeJS.Timeout | null = null;
let probe: NodeJS.Timeout | null = null;

function send(message: FromGuardrailsWorker): void {
  process.send!(message);
}

async function start(message: Extract<ToGuardrailsWorker, { type: 'start' }>): Promise<void> {
  const begin = Date.now();
  for (let i = 0; i < message.count; i++) {
    const instance = message.firstInstance + i;
    clients.push(
      await createClient({
        url: message.url,
        token: message.token,
        appName: `bench-app-${instance % message.apps}`,
        instanceId: `bench-instance-${instance}`,
        initTimeoutMs: 10_000,
      }),
    );
  }
  send({ type: 'started', ok: clients.length, ms: Date.now() - begin });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Some subject on NEW at the slice's current configuration: the plan's 5 % reached this client. */
const seesRollout = (client: SwitchyardClient, slice: string) => {
  for (let i = 0; i < 400; i++) if (client.explain(slice, { userId: `probe-${i}` }).path === 'NEW') return true;
  return false;
};

let calls = 0;
let newRate = 0;
let currentSlice = '';

async function trial(message: Extract<ToGuardrailsWorker, { type: 'trial' }>): Promise<void> {
  const begin = Date.now();
  while (!clients.every((c) => seesRollout(c, message.slice))) await sleep(20);
  newRate = message.baseRate;
  calls = 0;
  // Calls owed by the time elapsed (not a fixed count per tick): a late timer catches up.
  const perClient = message.callsPerSecond / clients.length;
  const started = performance.now();
  const legacy = () => {
    if (Math.random() < message.baseRate) throw new Error('LEGACY failed');
    return 'legacy';
  };
  const next = () => {
    if (Math.random() < newRate) throw new Error('NEW failed');
    return 'new';
  };
  let user = 0;
  traffic = setInterval(() => {
    const owed = Math.floor(((performance.now() - started) / 1000) * perClient) - calls / clients.length;
    for (let k = 0; k < owed; k++) {
      for (const client of clients) {
        try {
          client.route(message.slice, { userId: `user-${user++}` }, { legacy, next });
        } catch {
          // the host's own error: measured by the SDK as a failure
        }
        calls++;
      }
    }
  }, 10);
  send({ type: 'ready', ms: Date.now() - begin });
}

process.on('message', (message: ToGuardrailsWorker) => {
  switch (message.type) {
    case 'start':
      start(message).catch((error: unknown) => {
        process.stderr.write(`[guardrails-worker] ${String(error)}\n`);
        process.exit(1);
      });
      break;
    case 'trial':
      currentSlice = message.slice;
      void trial(message);
      break;
    case 'fail': {
      newRate = message.rate;
      const at = Date.now();
      send({ type: 'failing', at });
      const slice = currentSlice;
      probe = setInterval(() => {
        if (clients.every((c) => c.explain(slice, { userId: 'probe-0' }).reason === 'ROLLED_BACK')) {
          clearInterval(probe!);
          probe = null;
          send({ type: 'legacy', at: Date.now(), calls });
        }
      }, 5);
      break;
    }
    case 'stop':
      if (traffic !== null) clearInterval(traffic);
      if (probe !== null) clearInterval(probe);
      traffic = probe = null;
      send({ type: 'stopped' });
      break;
    case 'close':
      if (traffic !== null) clearInterval(traffic);
      void Promise.all(clients.map((client) => client.close())).finally(() => {
        send({ type: 'closed' });
        process.exit(0);
      });
      break;
  }
});
