import { ReconnectSchedule } from './reconnect-schedule.js';

describe('ReconnectSchedule', () => {
  it('retries at once after a loss, then backs off doubling up to 2 s', () => {
    const schedule = new ReconnectSchedule();
    expect(Array.from({ length: 8 }, () => schedule.nextDelayMs())).toEqual([0, 100, 200, 400, 800, 1_600, 2_000, 2_000]);
  });

  it('is back to "at once" only after a connection proved healthy', () => {
    const schedule = new ReconnectSchedule();
    schedule.nextDelayMs();
    schedule.nextDelayMs();
    // Connected, lost again before it proved healthy: keeps backing off.
    expect(schedule.nextDelayMs()).toBe(200);
    schedule.healthy();
    expect(schedule.nextDelayMs()).toBe(0);
    expect(schedule.nextDelayMs()).toBe(100);
  });

  it('never overflows however long the outage', () => {
    const schedule = new ReconnectSchedule();
    for (let i = 0; i < 10_000; i++) schedule.nextDelayMs();
    expect(schedule.nextDelayMs()).toBe(2_000);
  });
});
