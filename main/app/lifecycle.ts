/**
 * Quitting: every part of the shell is released in order (IPC handlers, event forwarding,
 * notifications, power listeners, tray, window state, then the back end), each on its own (one
 * failing does not stop the rest), all within a time limit after which the app quits anyway.
 */
import type { Logger } from '../core/log/logger.js';

/** How long quitting waits for everything (the back end's sessions above all) to close. */
export const DISPOSE_TIMEOUT_MS = 5_000;

export interface ShutdownStep {
  name: string;
  run(): void | Promise<void>;
}

export interface ShutdownResult {
  timedOut: boolean;
  /** Names of the steps that threw or rejected. */
  failed: string[];
}

export async function runShutdown(
  steps: readonly ShutdownStep[],
  options: { timeoutMs?: number; logger?: Logger } = {},
): Promise<ShutdownResult> {
  const { logger } = options;
  const failed: string[] = [];
  const all = (async () => {
    for (const step of steps) {
      try {
        await step.run();
      } catch (err) {
        failed.push(step.name);
        logger?.error({ err, step: step.name }, 'shutdown step failed');
      }
    }
  })();

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs ?? DISPOSE_TIMEOUT_MS);
  });
  const outcome = await Promise.race([all.then(() => 'done' as const), timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') logger?.warn('shutdown did not finish in time; quitting anyway');
  return { timedOut: outcome === 'timeout', failed: [...failed] };
}

/**
 * Start quitting once: the first call runs `shutdown`, later calls (a second Ctrl-C, Quit
 * again) wait for the same run.
 */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => (running ??= fn());
}
