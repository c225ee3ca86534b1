import fc from 'fast-check';
import {
  DEFAULT_REPORT_INTERVAL_MS,
  type FollowerFacts,
  followerStatus,
  GONE_AFTER_INTERVALS,
  MAX_REPORT_INTERVAL_MS,
  MIN_REPORT_INTERVAL_MS,
  reportIntervalOf,
} from './follower-status.js';

const NOW = Date.parse('2026-12-02T12:00:00.000Z');
const running = (more: Partial<FollowerFacts> = {}): FollowerFacts => ({ revision: 7, lastSeenAt: NOW - 1_000, closedAt: null, reportIntervalMs: null, ...more });

describe('followerStatus', () => {
  it('is UP_TO_DATE at or past the slice’s last change, BEHIND before it or with no revision', () => {
    expect(followerStatus(running(), 7, NOW)).toBe('UP_TO_DATE');
    expect(followerStatus(running(), 6, NOW)).toBe('UP_TO_DATE');
    expect(followerStatus(running(), 8, NOW)).toBe('BEHIND');
    expect(followerStatus(running({ revision: null }), 0, NOW)).toBe('BEHIND');
  });

  it('is GONE once it said goodbye, whatever it holds', () => {
    expect(followerStatus(running({ closedAt: NOW - 1_000 }), 7, NOW)).toBe('GONE');
    expect(followerStatus(running({ closedAt: NOW - 1_000 }), 8, NOW)).toBe('GONE');
  });

  it('is GONE after three of its report intervals without a word (60 s assumed when it did not say), not before', () => {
    const silentFor = (ms: number, interval: number | null) => followerStatus(running({ lastSeenAt: NOW - ms, reportIntervalMs: interval }), 8, NOW);
    expect(silentFor(GONE_AFTER_INTERVALS * DEFAULT_REPORT_INTERVAL_MS, null)).toBe('BEHIND');
    expect(silentFor(GONE_AFTER_INTERVALS * DEFAULT_REPORT_INTERVAL_MS + 1, null)).toBe('GONE');
    expect(silentFor(45_000, 15_000)).toBe('BEHIND');
    expect(silentFor(45_001, 15_000)).toBe('GONE');
    expect(silentFor(10 * 60_000, 5 * 60_000)).toBe('BEHIND');
  });

  it('bounds what an instance claims: no 1 ms interval makes it GONE at once, no year-long one keeps it forever', () => {
    expect(reportIntervalOf(1)).toBe(MIN_REPORT_INTERVAL_MS);
    expect(reportIntervalOf(365 * MAX_REPORT_INTERVAL_MS)).toBe(MAX_REPORT_INTERVAL_MS);
    expect(followerStatus(running({ lastSeenAt: NOW - 2_000, reportIntervalMs: 1 }), 7, NOW)).toBe('UP_TO_DATE');
    expect(followerStatus(running({ lastSeenAt: NOW - 4 * MAX_REPORT_INTERVAL_MS, reportIntervalMs: Number.MAX_SAFE_INTEGER }), 7, NOW)).toBe('GONE');
  });

  it('never calls a gone instance BEHIND, and never calls one heard from within an interval GONE unless it said goodbye', () => {
    fc.assert(
      fc.property(
        fc.record({
          revision: fc.option(fc.nat(1_000), { nil: null }),
          silentMs: fc.nat(10 * MAX_REPORT_INTERVAL_MS),
          closed: fc.boolean(),
          reportIntervalMs: fc.option(fc.integer({ min: 1, max: 2 ** 31 - 1 }), { nil: null }),
          changedAt: fc.nat(1_000),
        }),
        ({ revision, silentMs, closed, reportIntervalMs, changedAt }) => {
          const facts = { revision, lastSeenAt: NOW - silentMs, closedAt: closed ? NOW - silentMs : null, reportIntervalMs };
          const status = followerStatus(facts, changedAt, NOW);
          const heardWithin = silentMs <= reportIntervalOf(reportIntervalMs);
          if (closed) expect(status).toBe('GONE');
          else if (heardWithin) expect(status).not.toBe('GONE');
          if (status !== 'GONE') expect(status === 'UP_TO_DATE').toBe(revision !== null && revision >= changedAt);
        },
      ),
    );
  });
});
