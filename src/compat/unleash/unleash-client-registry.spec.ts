import type { Clock } from '../../common/scheduling/clock.js';
import type { TrafficIngestService } from '../../traffic/traffic-ingest.service.js';
import { type ClientHeaders, UnleashClientRegistry } from './unleash-client-registry.service.js';

/** recordServed: a client polling the same revision is recorded at most once a second. */
describe('UnleashClientRegistry.recordServed', () => {
  const served: { instanceId: string; revision: number | null; at: number }[] = [];
  const traffic = {
    recordUnleashInstance: (_source: string, who: { instanceId: string }, _sdk: unknown, s: { revision: number; at: number } | null) =>
      served.push({ instanceId: who.instanceId, revision: s?.revision ?? null, at: s?.at ?? -1 }),
  } as unknown as TrafficIngestService;
  const clock: Clock = { now: () => new Date(0), setTimer: () => () => undefined };
  const headers = (instanceId: string, clientSpec = '4.3.1'): ClientHeaders => ({ appName: 'app', instanceId, sdk: 'unleash-client-go:4.1.0', clientSpec, token: 'tok' });
  let sut: UnleashClientRegistry;

  beforeEach(() => {
    served.length = 0;
    sut = new UnleashClientRegistry(traffic, clock);
  });

  it('records a repeated poll of the same revision once per second, a new revision or another client at once', () => {
    sut.recordServed(headers('a'), 7, new Date(10_000));
    sut.recordServed(headers('a'), 7, new Date(10_500)); // same second, same revision: nothing new
    sut.recordServed(headers('a'), 8, new Date(10_600)); // a new revision: at once
    sut.recordServed(headers('b'), 8, new Date(10_600)); // another instance: at once
    sut.recordServed(headers('a', '5.1.0'), 8, new Date(10_600)); // another declared spec (another form served): at once
    sut.recordServed(headers('a'), 8, new Date(11_599));
    sut.recordServed(headers('a'), 8, new Date(11_600)); // a second later: recorded again
    expect(served).toEqual([
      { instanceId: 'a', revision: 7, at: 10_000 },
      { instanceId: 'a', revision: 8, at: 10_600 },
      { instanceId: 'b', revision: 8, at: 10_600 },
      { instanceId: 'a', revision: 8, at: 10_600 },
      { instanceId: 'a', revision: 8, at: 11_600 },
    ]);
  });

  it('a clock that went back records at once rather than trusting the older entry', () => {
    sut.recordServed(headers('a'), 7, new Date(10_000));
    sut.recordServed(headers('a'), 7, new Date(9_000));
    expect(served.map((s) => s.at)).toEqual([10_000, 9_000]);
  });
});
