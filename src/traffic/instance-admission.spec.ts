import fc from 'fast-check';
import { InstanceAdmission } from './instance-admission.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-01-01T12:00:00.000Z');
const pod = (appName: string, instanceId: string) => ({ protocol: 'UNLEASH', appName, instanceId });

function offer(admission: InstanceAdmission, instance: ReturnType<typeof pod>, token: string, now: number): boolean {
  if (!admission.admits(instance, token, now)) return false;
  admission.admit(instance, token, now);
  return true;
}

describe('InstanceAdmission', () => {
  it('admits new instances while their app and token are under their caps, and those heard before always', () => {
    const admission = new InstanceAdmission({ maxInstancesPerApp: 3, maxInstancesPerToken: 5, windowMs: HOUR, maxTracked: 100 });
    for (let i = 0; i < 3; i++) expect(offer(admission, pod('checkout', `c${i}`), 'team-a', T0)).toBe(true);
    expect(offer(admission, pod('checkout', 'c3'), 'team-a', T0)).toBe(false);
    expect(offer(admission, pod('checkout', 'c0'), 'team-a', T0 + 1_000)).toBe(true);
    // Same app under another token: still the app's cap.
    expect(offer(admission, pod('checkout', 'c4'), 'team-b', T0)).toBe(false);
    // The token's cap spans its apps.
    expect(offer(admission, pod('billing', 'b0'), 'team-a', T0)).toBe(true);
    expect(offer(admission, pod('ledger', 'l0'), 'team-a', T0)).toBe(true);
    expect(offer(admission, pod('search', 's0'), 'team-a', T0)).toBe(false);
    expect(offer(admission, pod('search', 's0'), 'team-b', T0)).toBe(true);
    // A refusal is not remembered as an admission.
    expect(admission.size).toBe(6);
    // The next window starts over.
    expect(offer(admission, pod('checkout', 'c3'), 'team-a', T0 + HOUR)).toBe(true);
    expect(admission.size).toBe(1);
  });

  it('never tracks more than maxTracked, and never admits more per app or token than their caps in a window (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ app: fc.constantFrom('a', 'b', 'c'), id: fc.string({ maxLength: 3 }), token: fc.constantFrom('t1', 't2'), at: fc.integer({ min: 0, max: 3 * HOUR }) }),
          { maxLength: 200 },
        ),
        fc.record({ maxInstancesPerApp: fc.integer({ min: 1, max: 10 }), maxInstancesPerToken: fc.integer({ min: 1, max: 15 }), maxTracked: fc.integer({ min: 1, max: 20 }) }),
        (offers, caps) => {
          const admission = new InstanceAdmission({ ...caps, windowMs: HOUR });
          const admitted = new Map<string, { app: string; token: string }>();
          let window = -1;
          for (const o of offers.sort((x, y) => x.at - y.at)) {
            const w = Math.floor((T0 + o.at) / HOUR);
            if (w !== window) {
              window = w;
              admitted.clear();
            }
            if (offer(admission, pod(o.app, o.id), o.token, T0 + o.at)) {
              if (!admitted.has(`${o.app}|${o.id}`)) admitted.set(`${o.app}|${o.id}`, { app: o.app, token: o.token });
            }
            const list = [...admitted.values()];
            expect(admission.size).toBe(list.length);
            expect(list.length).toBeLessThanOrEqual(caps.maxTracked);
            for (const app of ['a', 'b', 'c']) expect(list.filter((x) => x.app === app).length).toBeLessThanOrEqual(caps.maxInstancesPerApp);
            for (const token of ['t1', 't2']) expect(list.filter((x) => x.token === token).length).toBeLessThanOrEqual(caps.maxInstancesPerToken);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
