/**
 * The client against a real HTTP peer that speaks PROTOCOL.md (testing/protocol-server.ts), made
 * to misbehave where the real service would not on demand. Short timings (see ClientFactory); no
 * fixed sleeps except where the point is that nothing happens. Schedules (backoff, polls) are
 * checked on a ManualClock: exact delays, no waiting.
 */
import { ClientFactory, snapshotAt } from './testing/fixtures.js';
import { ManualClock } from './testing/manual-clock.js';
import { deltaEvent, ProtocolServer, respondStatus, SNAPSHOT, snapshotEvent, STREAM } from './testing/protocol-server.js';
import { nextChange, waitFor } from './testing/wait-for.js';
import { SDK_VERSION } from './version.js';

const alice = { userId: 'alice' };
const bob = { userId: 'bob' };

describe('SwitchyardClient transport', () => {
  let server: ProtocolServer;
  const clients = new ClientFactory();

  beforeEach(async () => {
    server = await ProtocolServer.start(snapshotAt(1));
  });
  afterEach(async () => {
    await clients.closeAll();
    await server.stop();
  });

  describe('start', () => {
    it('resolves within initTimeoutMs when the service is down, answering LEGACY (UNKNOWN_SLICE)', async () => {
      await server.stop();
      const started = Date.now();
      const client = await clients.create(server.url, { initTimeoutMs: 300 });
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(client.decide('checkout', alice)).toBe('LEGACY');
      expect(client.explain('checkout', alice)).toEqual({ path: 'LEGACY', reason: 'UNKNOWN_SLICE' });
      expect(client.status()).toMatchObject({ state: 'connecting', revision: null, source: 'none', connected: false, lastError: { code: 'NETWORK_ERROR' } });
      expect(client.status().staleSince).toBeInstanceOf(Date);
      expect(clients.codes()).toContain('NETWORK_ERROR');
    });

    it('resolves within initTimeoutMs when the service accepts connections but never answers', async () => {
      server.streamHandler = () => true; // hangs
      server.snapshotHandler = () => true;
      const started = Date.now();
      const client = await clients.create(server.url, { initTimeoutMs: 200 });
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(client.status()).toMatchObject({ state: 'connecting', source: 'none' });
    });

    it('resolves as soon as the stream delivers the first snapshot, and sends the identifying headers', async () => {
      const started = Date.now();
      const client = await clients.create(server.url, { initTimeoutMs: 5_000 });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(client.status()).toMatchObject({ state: 'streaming', revision: 1, source: 'service', connected: true, staleSince: null, lastError: null });
      expect(client.decide('checkout', alice)).toBe('NEW');
      const [request] = server.requestsTo(STREAM);
      expect(request?.headers).toMatchObject({
        authorization: 'Bearer sy_test_sdk_token',
        'x-switchyard-app': 'sdk-test',
        'x-switchyard-sdk': `switchyard-node/${SDK_VERSION}`,
        accept: 'text/event-stream',
      });
      // Nothing held from the service yet: the full snapshot is asked for.
      expect(request?.headers['last-event-id']).toBeUndefined();
      expect(clients.errors).toEqual([]);
    });

    it('accepts a base URL with a path and a trailing slash', async () => {
      const client = await clients.create(`${server.url}/`);
      expect(client.status().source).toBe('service');
    });
  });

  describe('stream', () => {
    it('delivers new revisions; onChange names the changed slices, including through a changed segment', async () => {
      const client = await clients.create(server.url);
      const events: unknown[] = [];
      client.onChange((e) => events.push(e));

      let change = nextChange(client);
      server.publish(snapshotAt(2, 0));
      expect(await change).toEqual({ revision: 2, previousRevision: 1, changedSlices: ['checkout'] });
      expect(client.decide('checkout', alice)).toBe('LEGACY');

      change = nextChange(client);
      server.publish(snapshotAt(3, 0, ['alice', 'bob']));
      expect(await change).toEqual({ revision: 3, previousRevision: 2, changedSlices: ['search'] });
      expect(client.decide('search', bob)).toBe('NEW');
      expect(events).toHaveLength(2);
      expect(client.status()).toMatchObject({ state: 'streaming', revision: 3 });
    });

    it('asks for deltas and applies them on top of the revision it holds', async () => {
      const client = await clients.create(server.url);
      expect(server.requestsTo(STREAM)[0]?.query).toBe('delta=1');
      let change = nextChange(client);
      server.publishDelta(snapshotAt(2, 0));
      expect(await change).toEqual({ revision: 2, previousRevision: 1, changedSlices: ['checkout'] });
      expect(client.decide('checkout', alice)).toBe('LEGACY');
      expect(client.decide('search', alice)).toBe('NEW');

      // A segment changed alone: the slices using it are reported (and decide by the new segment).
      change = nextChange(client);
      server.publishDelta(snapshotAt(3, 0, ['bob']));
      expect(await change).toEqual({ revision: 3, previousRevision: 2, changedSlices: ['search'] });
      expect([client.decide('search', alice), client.decide('search', bob)]).toEqual(['LEGACY', 'NEW']);
      expect(server.requestsTo(SNAPSHOT)).toHaveLength(0);
      expect(clients.errors).toEqual([]);
    });

    it('does not apply a delta to another revision than its base: it fetches the whole snapshot', async () => {
      const client = await clients.create(server.url);
      // A delta from 2 to 3 reaches a client that holds 1 (it missed revision 2, where carol replaced alice in staff).
      server.snapshot = snapshotAt(3, 0, ['carol']);
      server.broadcast(deltaEvent(snapshotAt(2, 10_000, ['carol']), snapshotAt(3, 0, ['carol'])));
      await waitFor(() => client.status().revision === 3, 2_000, 'revision 3 by a poll');
      expect(server.requestsTo(SNAPSHOT).length).toBeGreaterThanOrEqual(1);
      // The poll's snapshot: the delta patched onto 1 would have kept alice in staff.
      expect(client.decide('search', alice)).toBe('LEGACY');
      expect(client.decide('search', { userId: 'carol' })).toBe('NEW');
    });

    it.each([
      ['not JSON', 'event: delta\ndata: {nope\n\n'],
      [
        'naming a slice twice',
        `event: delta\ndata: ${JSON.stringify({ revision: 2, baseRevision: 1, slices: [snapshotAt(2).slices[0], snapshotAt(2).slices[0]], removedSlices: [], segments: [], removedSegments: [] })}\n\n`,
      ],
    ])('reports a delta %s (INVALID_SNAPSHOT) and repairs from the snapshot', async (_name, event) => {
      const client = await clients.create(server.url);
      server.snapshot = snapshotAt(2, 0);
      server.broadcast(event);
      await waitFor(() => client.status().revision === 2, 2_000, 'revision 2 by a poll');
      expect(clients.codes()).toContain('INVALID_SNAPSHOT');
      expect(client.decide('checkout', alice)).toBe('LEGACY');
    });

    it('reconnects after the service drops the stream, sending Last-Event-ID, and does not poll while streaming', async () => {
      const clock = new ManualClock();
      const client = await clients.create(server.url, { pollIntervalMs: 1_000, metrics: false }, { clock, random: () => 0.5 });
      server.dropStreams();
      await waitFor(() => !client.status().connected, 2_000, 'the client to notice');
      // Reconnecting after the first backoff step (10..20 ms: 15 at the middle); holding a service
      // snapshot, the first poll at a random point of the interval (500), not at once.
      expect(clock.pendingRequested()).toEqual([15, 500]);
      await clock.advance(15);
      await waitFor(() => server.requestsTo(STREAM).length >= 2 && client.status().state === 'streaming', 5_000, 'a second stream');
      expect(server.requestsTo(STREAM)[1]?.headers['last-event-id']).toBe('1');
      // The stream was current: the peer sent no snapshot, and none was needed.
      expect(client.status()).toMatchObject({ revision: 1, connected: true, staleSince: null });
      // The stream carries every revision: no poll is left scheduled, however long it stays up.
      expect(clock.pendingDelays()).toEqual([]);
      await clock.advance(60_000);
      expect(server.requestsTo(SNAPSHOT)).toHaveLength(0);
    });

    it('picks up a revision made while it was disconnected', async () => {
      const client = await clients.create(server.url, { pollIntervalMs: 60_000 }); // the stream alone must repair it
      server.streamHandler = respondStatus(503);
      server.dropStreams();
      await waitFor(() => !client.status().connected, 2_000, 'the client to notice');
      server.snapshot = snapshotAt(2, 0); // changed while no stream is open
      const change = nextChange(client);
      server.streamHandler = null;
      expect(await change).toMatchObject({ revision: 2, previousRevision: 1 });
      expect(server.requestsTo(STREAM).at(-1)?.headers['last-event-id']).toBe('1');
    });

    it('detects a silent stream after heartbeatTimeoutMs and reconnects', async () => {
      const client = await clients.create(server.url, { heartbeatTimeoutMs: 200 });
      const opened = Date.now();
      // The peer keeps the connection but sends nothing more (no heartbeats).
      await waitFor(() => server.requestsTo(STREAM).length >= 2, 3_000, 'a reconnect');
      expect(Date.now() - opened).toBeGreaterThanOrEqual(150);
      expect(clients.codes()).toContain('TIMEOUT');
      expect(clients.errors.find((e) => e.code === 'TIMEOUT')?.operation).toBe('stream');
      await waitFor(() => client.status().state === 'streaming', 2_000, 'streaming again');
    });

    it('keeps a stream that heartbeats alive past heartbeatTimeoutMs', async () => {
      const client = await clients.create(server.url, { heartbeatTimeoutMs: 150 });
      const timer = setInterval(() => server.heartbeat(), 40);
      try {
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        clearInterval(timer);
      }
      expect(server.requestsTo(STREAM)).toHaveLength(1);
      expect(client.status().state).toBe('streaming');
      expect(clients.errors).toEqual([]);
    });

    it('does not take a busy host for a silent service: a stall longer than heartbeatTimeoutMs keeps the stream', async () => {
      const client = await clients.create(server.url, { heartbeatTimeoutMs: 150 });
      const timer = setInterval(() => server.heartbeat(), 40);
      try {
        for (let stall = 0; stall < 3; stall++) {
          const until = Date.now() + 400;
          while (Date.now() < until); // the host's event loop is blocked (the peer's too: same process)
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        clearInterval(timer);
      }
      expect(clients.codes()).toEqual([]);
      expect(server.requestsTo(STREAM)).toHaveLength(1);
      expect(client.status().state).toBe('streaming');
    });

    it('fetches the snapshot at once when a heartbeat announces a newer revision than the stream delivered', async () => {
      const client = await clients.create(server.url, { pollIntervalMs: 60_000 });
      server.snapshot = snapshotAt(5, 0); // current on the peer, but never sent on the stream
      const change = nextChange(client);
      server.heartbeat();
      expect(await change).toMatchObject({ revision: 5, previousRevision: 1, changedSlices: ['checkout'] });
      const [poll] = server.requestsTo(SNAPSHOT);
      expect(poll?.headers['if-none-match']).toBe('"1"');
      expect(client.status().state).toBe('streaming');
    });

    it('ignores a heartbeat at the held revision', async () => {
      await clients.create(server.url);
      server.heartbeat();
      server.heartbeat(0);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(server.requestsTo(SNAPSHOT)).toHaveLength(0);
    });

    it('keeps the last good snapshot when the stream sends a corrupt one, reports it, and takes the next good one', async () => {
      const client = await clients.create(server.url);
      server.broadcast('event: snapshot\nid: 2\ndata: {"revision": 2, "slices": [\n\n');
      server.broadcast('event: snapshot\nid: 3\ndata: {"revision": 3, "slices": "not a list", "segments": []}\n\n');
      server.broadcast('event: snapshot\ndata: null\n\n');
      await waitFor(() => clients.errors.length >= 3, 2_000, 'three errors');
      expect(clients.codes()).toEqual(['INVALID_SNAPSHOT', 'INVALID_SNAPSHOT', 'INVALID_SNAPSHOT']);
      expect(client.status()).toMatchObject({ revision: 1, source: 'service', state: 'streaming' });
      expect(client.decide('checkout', alice)).toBe('NEW');

      const change = nextChange(client);
      server.publish(snapshotAt(4, 0));
      expect(await change).toMatchObject({ revision: 4, previousRevision: 1 });
    });

    it('repairs a corrupt snapshot through the next heartbeat', async () => {
      const client = await clients.create(server.url, { pollIntervalMs: 60_000 });
      server.snapshot = snapshotAt(2, 0);
      server.broadcast('event: snapshot\ndata: {garbage\n\n');
      await waitFor(() => clients.errors.length > 0, 2_000, 'the error');
      const change = nextChange(client);
      server.heartbeat();
      expect(await change).toMatchObject({ revision: 2 });
    });

    it('ignores (and reports) an older revision than the one held', async () => {
      const client = await clients.create(server.url);
      let change = nextChange(client);
      server.publish(snapshotAt(5));
      await change;
      server.publish(snapshotAt(4, 0));
      await waitFor(() => clients.errors.length > 0, 2_000, 'the report');
      expect(clients.codes()).toEqual(['STALE_SNAPSHOT']);
      expect(client.status().revision).toBe(5);
      expect(client.decide('checkout', alice)).toBe('NEW');
      change = nextChange(client);
      server.publish(snapshotAt(6, 0));
      expect((await change).revision).toBe(6);
    });

    it('ignores unknown event types and reports a heartbeat without a revision', async () => {
      const client = await clients.create(server.url);
      server.broadcast('event: something-new\ndata: {}\n\ndata: a default message\n\n');
      server.broadcast('event: heartbeat\ndata: {"rev": 1}\n\n');
      await waitFor(() => clients.errors.length > 0, 2_000, 'the report');
      expect(clients.codes()).toEqual(['STREAM_PROTOCOL']);
      expect(client.status()).toMatchObject({ state: 'streaming', revision: 1 });
    });

    it('treats a 200 that is not an event stream as a failed attempt and polls', async () => {
      server.streamHandler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>proxy login</html>');
        return true;
      };
      const client = await clients.create(server.url);
      expect(client.status()).toMatchObject({ state: 'polling', source: 'service', revision: 1 });
      expect(clients.errors[0]).toMatchObject({ code: 'HTTP_ERROR', operation: 'stream', httpStatus: 200 });
    });
  });

  describe('fallback polling', () => {
    it('polls while the stream endpoint fails, with If-None-Match and 304, and stops once the stream is back', async () => {
      server.streamHandler = respondStatus(500);
      const client = await clients.create(server.url);
      expect(client.status()).toMatchObject({ state: 'polling', revision: 1, source: 'service', connected: true });
      expect(server.requestsTo(SNAPSHOT)[0]?.headers['if-none-match']).toBeUndefined();

      await waitFor(() => server.requestsTo(SNAPSHOT).length >= 3, 2_000, 'more polls');
      expect(server.requestsTo(SNAPSHOT)[2]?.headers['if-none-match']).toBe('"1"');
      expect(server.requestsTo(SNAPSHOT)[2]?.headers['x-switchyard-app']).toBe('sdk-test');

      const change = nextChange(client);
      server.snapshot = snapshotAt(2, 0); // no stream to publish on: only polling can find it
      expect(await change).toMatchObject({ revision: 2, previousRevision: 1, changedSlices: ['checkout'] });

      server.streamHandler = null;
      await waitFor(() => client.status().state === 'streaming', 3_000, 'the stream to come back');
      // It holds a service snapshot, so it says which (1 or 2: the reconnect may have left before the poll brought 2).
      expect(server.requestsTo(STREAM).at(-1)?.headers['last-event-id']).toMatch(/^[12]$/);
      expect(client.status()).toMatchObject({ revision: 2, connected: true });
      const polls = server.requestsTo(SNAPSHOT).length;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(server.requestsTo(SNAPSHOT).length).toBeLessThanOrEqual(polls + 1); // at most the one in flight
      expect(clients.errors.every((e) => e.code === 'HTTP_ERROR' && e.httpStatus === 500 && e.operation === 'stream')).toBe(true);
    });

    it('only polls with streaming: false', async () => {
      const client = await clients.create(server.url, { streaming: false });
      expect(client.status()).toMatchObject({ state: 'polling', revision: 1, source: 'service' });
      await waitFor(() => server.requestsTo(SNAPSHOT).length >= 3, 2_000, 'polls');
      expect(server.requestsTo(STREAM)).toHaveLength(0);
      const change = nextChange(client);
      server.snapshot = snapshotAt(2, 0);
      expect((await change).revision).toBe(2);
    });

    it('keeps answering from the last snapshot while the service is down, and resynchronizes when it is back', async () => {
      const client = await clients.create(server.url, { pollIntervalMs: 30 });
      await server.stop();
      await waitFor(() => !client.status().connected, 2_000, 'the client to notice');
      expect(client.status().staleSince).toBeInstanceOf(Date);
      expect(client.decide('checkout', alice)).toBe('NEW');
      expect(client.status()).toMatchObject({ revision: 1, source: 'service', state: 'polling' });

      server.snapshot = snapshotAt(2, 0);
      const change = nextChange(client);
      await server.listen();
      expect((await change).revision).toBe(2);
      await waitFor(() => client.status().state === 'streaming', 3_000, 'streaming again');
      expect(client.status()).toMatchObject({ connected: true, staleSince: null });
    });
  });

  describe('failures are backed off', () => {
    // On the injected clock (random fixed at 0.5: the middle of each jitter range), so the delays
    // are checked to the millisecond instead of measured with slack.
    const streamErrors = () => clients.errors.filter((e) => e.operation === 'stream');
    const pollErrors = () => clients.errors.filter((e) => e.operation === 'poll');

    it('retries 5xx with growing, capped delays', async () => {
      server.streamHandler = respondStatus(503);
      server.snapshotHandler = respondStatus(503);
      const clock = new ManualClock();
      await clients.create(server.url, { initTimeoutMs: 0, pollIntervalMs: 60_000, metrics: false, backoff: { initialMs: 1_000, maxMs: 8_000 } }, { clock, random: () => 0.5 });
      // The n-th failure waits in [1000, min(8000, 1000 * 2^n)]: 1500, 2500, 4500, then 4500 at the cap.
      const delays = [1_500, 2_500, 4_500, 4_500];
      for (const [i, delay] of delays.entries()) {
        await waitFor(() => streamErrors().length === i + 1, 2_000, `failure ${i + 1}`);
        await clock.advance(delay - 1);
        expect(server.requestsTo(STREAM)).toHaveLength(i + 1); // not a millisecond early
        await clock.advance(1);
        await waitFor(() => server.requestsTo(STREAM).length === i + 2, 2_000, `attempt ${i + 2}`);
      }
      expect(clients.errors[0]).toMatchObject({ code: 'HTTP_ERROR', httpStatus: 503, serviceCode: 'HTTP_503' });
    });

    it('retries 401 only at the capped rate, reports each attempt, and recovers once the token is accepted', async () => {
      server.streamHandler = respondStatus(401, 'UNAUTHENTICATED');
      server.snapshotHandler = respondStatus(401, 'UNAUTHENTICATED');
      const clock = new ManualClock();
      const client = await clients.create(
        server.url,
        { initTimeoutMs: 0, pollIntervalMs: 10, metrics: false, backoff: { initialMs: 5, maxMs: 200_000 } },
        { clock, random: () => 0.5 },
      );
      await waitFor(() => streamErrors().length === 1, 2_000, 'the stream refused');
      await clock.advance(0); // the first poll, at once: nothing is held yet
      await waitFor(() => pollErrors().length === 1, 2_000, 'the poll refused');
      // Both wait in [maxMs / 2, maxMs] (150 s at the middle), not the 5 ms of a first failure nor the 10 ms poll interval.
      for (let round = 2; round <= 3; round++) {
        await clock.advance(149_999);
        expect([server.requestsTo(STREAM).length, server.requestsTo(SNAPSHOT).length]).toEqual([round - 1, round - 1]);
        await clock.advance(1);
        await waitFor(() => streamErrors().length === round && pollErrors().length === round, 2_000, `round ${round}`);
      }
      expect(clients.errors[0]).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401, serviceCode: 'UNAUTHENTICATED' });
      expect(clients.errors.length).toBe(server.requests.length);
      expect(client.status().lastError).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401 });

      server.streamHandler = null;
      server.snapshotHandler = null;
      await clock.advance(150_000);
      await waitFor(() => client.status().state === 'streaming', 3_000, 'recovery');
      expect(client.status()).toMatchObject({ revision: 1, connected: true });
    });

    it('reports WRONG_URL when the SDK endpoints are not found under the URL, and retries it at the capped rate', async () => {
      const clock = new ManualClock();
      // The Unleash API's base, say: the peer has nothing under /api/sdk/v1/ (404).
      const client = await clients.create(
        `${server.url}/api`,
        { initTimeoutMs: 0, pollIntervalMs: 10, metrics: false, backoff: { initialMs: 5, maxMs: 200_000 } },
        { clock, random: () => 0.5 },
      );
      await waitFor(() => streamErrors().length === 1, 2_000, 'the stream answered');
      await clock.advance(0);
      await waitFor(() => pollErrors().length === 1, 2_000, 'the poll answered');
      expect(server.requests.map((r) => r.path)).toEqual(['/api/sdk/v1/stream', '/api/sdk/v1/snapshot']);
      expect(clients.errors.map((e) => [e.code, e.operation, e.httpStatus])).toEqual([
        ['WRONG_URL', 'stream', 404],
        ['WRONG_URL', 'poll', 404],
      ]);
      // Like a refused token: waiting does not fix it, so the next attempts are far apart (150 s here).
      expect(clock.pendingRequested()).toEqual([150_000, 150_000]);
      expect(client.status()).toMatchObject({ state: 'connecting', connected: false, source: 'none', lastError: { code: 'WRONG_URL', httpStatus: 404 } });
      expect(client.decide('checkout', alice)).toBe('LEGACY');
    });

    it('treats 403 like 401', async () => {
      server.streamHandler = respondStatus(403, 'FORBIDDEN');
      server.snapshotHandler = respondStatus(403, 'FORBIDDEN');
      await clients.create(server.url, { initTimeoutMs: 100, backoff: { initialMs: 5, maxMs: 10_000 } });
      expect(clients.codes()).toEqual(['FORBIDDEN', 'FORBIDDEN']); // one stream attempt, one poll; the next are seconds away
    });
  });

  describe('callbacks that throw', () => {
    it('do not break the client: a throwing listener is reported, a throwing onError is swallowed', async () => {
      let onErrorCalls = 0;
      const client = await clients.create(server.url, {
        onError: () => {
          onErrorCalls++;
          throw new Error('broken error handler');
        },
      });
      client.onChange(() => {
        throw new Error('broken listener');
      });
      const seen: number[] = [];
      client.onChange((e) => seen.push(e.revision));

      server.publish(snapshotAt(2, 0));
      await waitFor(() => seen.includes(2), 2_000, 'revision 2');
      expect(onErrorCalls).toBe(1);
      expect(client.status().lastError).toMatchObject({ code: 'LISTENER_FAILED', operation: 'listener' });

      server.publish(snapshotAt(3));
      await waitFor(() => seen.includes(3), 2_000, 'revision 3');
      expect(client.decide('checkout', alice)).toBe('NEW');
      expect(client.status().state).toBe('streaming');
    });

    it('unsubscribes a listener', async () => {
      const client = await clients.create(server.url);
      const seen: number[] = [];
      const unsubscribe = client.onChange((e) => seen.push(e.revision));
      const change = nextChange(client);
      unsubscribe();
      server.publish(snapshotAt(2));
      await change;
      expect(seen).toEqual([]);
    });
  });

  describe('close', () => {
    it('stops the stream and polling; a closed client answers from its last snapshot', async () => {
      const client = await clients.create(server.url);
      await client.close();
      expect(client.status()).toMatchObject({ state: 'closed', connected: false, revision: 1 });
      await waitFor(() => server.streams.size === 0, 2_000, 'the stream to close');
      const requests = server.requests.length;
      server.publish(snapshotAt(2, 0));
      server.dropStreams();
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(server.requests.length).toBe(requests);
      expect(client.decide('checkout', alice)).toBe('NEW');
      await client.close(); // idempotent
    });

    it('returns promptly while backing off and while polling against a down service', async () => {
      await server.stop();
      const client = await clients.create(server.url, { initTimeoutMs: 50, backoff: { initialMs: 5_000, maxMs: 10_000 }, pollIntervalMs: 5_000 });
      const started = Date.now();
      await client.close();
      expect(Date.now() - started).toBeLessThan(500);
      expect(client.status().state).toBe('closed');
    });

    it('returns promptly with a request hanging', async () => {
      server.streamHandler = () => true;
      server.snapshotHandler = () => true;
      const client = await clients.create(server.url, { initTimeoutMs: 50 });
      const started = Date.now();
      await client.close();
      expect(Date.now() - started).toBeLessThan(500);
    });
  });

  it('reads stream events split across TCP writes', async () => {
    server.streamHandler = (request, response, peer) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const text = snapshotEvent(snapshotAt(9, 0)).replace(/\n/g, '\r\n');
      let i = 0;
      const timer = setInterval(() => {
        if (i >= text.length || response.destroyed) {
          clearInterval(timer);
          peer.register(response);
          return;
        }
        response.write(text.slice(i, i + 7));
        i += 7;
      }, 1);
      void request;
      return true;
    };
    const client = await clients.create(server.url, { initTimeoutMs: 5_000 });
    expect(client.status()).toMatchObject({ revision: 9, state: 'streaming' });
  });
});
