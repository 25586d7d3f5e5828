import { afterEach, describe, expect, it, vi } from 'vitest';
import { DISPOSE_TIMEOUT_MS, once, runShutdown } from '../../main/app/lifecycle.js';
import { captureLogger, warnings } from './fakes.js';

describe('runShutdown', () => {
  afterEach(() => vi.useRealTimers());

  it('runs every step in order, past failures', async () => {
    const done: string[] = [];
    const { logger, lines } = captureLogger();
    const result = await runShutdown(
      [
        { name: 'ipc', run: () => void done.push('ipc') },
        {
          name: 'tray',
          run: () => {
            throw new Error('already destroyed');
          },
        },
        { name: 'back end', run: async () => void done.push('back end') },
        { name: 'log', run: () => Promise.reject(new Error('disk full')) },
        { name: 'last', run: () => void done.push('last') },
      ],
      { logger },
    );
    expect(done).toEqual(['ipc', 'back end', 'last']);
    expect(result).toEqual({ timedOut: false, failed: ['tray', 'log'] });
    expect(lines.filter((l) => l.msg === 'shutdown step failed')).toHaveLength(2);
  });

  it('gives up after the timeout (5 s by default)', async () => {
    vi.useFakeTimers();
    const { logger, lines } = captureLogger();
    const result = runShutdown([{ name: 'back end', run: () => new Promise<void>(() => undefined) }], {
      logger,
    });
    await vi.advanceTimersByTimeAsync(DISPOSE_TIMEOUT_MS - 1);
    let settled = false;
    void result.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toEqual({ timedOut: true, failed: [] });
    expect(DISPOSE_TIMEOUT_MS).toBe(5_000);
    expect(warnings(lines)).toEqual(['shutdown did not finish in time; quitting anyway']);
  });
});

describe('once', () => {
  it('runs the function once and shares its promise', async () => {
    let runs = 0;
    const shutdown = once(async () => ++runs);
    const [a, b] = await Promise.all([shutdown(), shutdown()]);
    expect([a, b, runs]).toEqual([1, 1, 1]);
    expect(await shutdown()).toBe(1);
  });
});
