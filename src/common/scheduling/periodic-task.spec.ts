import { startPeriodicTask } from './periodic-task.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('startPeriodicTask', () => {
  it('runs after firstAfterMs, then everyMs after each run ends, never two at once', async () => {
    let running = 0;
    let most = 0;
    const starts: number[] = [];
    const begin = Date.now();
    const stop = startPeriodicTask(
      async () => {
        starts.push(Date.now() - begin);
        running++;
        most = Math.max(most, running);
        await sleep(30); // longer than everyMs: the next run still waits for this one
        running--;
      },
      { firstAfterMs: 50, everyMs: 10, onError: () => undefined },
    );
    await sleep(400);
    stop();
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(starts[0]!).toBeGreaterThanOrEqual(45);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(38);
    expect(most).toBe(1);
  });

  it('reports failures, a task that throws before returning a promise included, and tries again', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const stop = startPeriodicTask(
      () => {
        calls++;
        if (calls === 1) throw new Error('sync');
        return Promise.reject(new Error('async'));
      },
      { firstAfterMs: 1, everyMs: 5, onError: (error) => errors.push((error as Error).message) },
    );
    await sleep(150);
    stop();
    expect(errors.slice(0, 2)).toEqual(['sync', 'async']);
    expect(calls).toBeGreaterThanOrEqual(3);
  });

  it('runs no more once stopped', async () => {
    let calls = 0;
    const stop = startPeriodicTask(() => Promise.resolve(calls++), { firstAfterMs: 20, everyMs: 5, onError: () => undefined });
    stop();
    await sleep(60);
    expect(calls).toBe(0);
  });
});
