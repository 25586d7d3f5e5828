/**
 * Electron's powerMonitor -> the workspace: waking up (resume, or the screen unlocked) checks
 * every connection at once; going to sleep is announced; the power source (battery or mains)
 * is passed on, starting with the current one.
 *
 * The powerMonitor is passed in (it is only usable once the app is ready), so tests use a fake
 * EventEmitter. Returns a function that removes every listener it added.
 */
import type { Logger } from '../core/log/logger.js';
import type { WorkspaceService } from '../core/workspace/types.js';

/** What is used of Electron's powerMonitor. */
export interface PowerSource {
  on(event: string, listener: () => void): unknown;
  removeListener(event: string, listener: () => void): unknown;
  isOnBatteryPower(): boolean;
}

export type PowerTarget = Pick<WorkspaceService, 'onSystemResume' | 'onSystemSuspend' | 'setOnBattery'>;

export function connectPowerMonitor(power: PowerSource, workspace: PowerTarget, logger?: Logger): () => void {
  const guard = (what: string, fn: () => void) => (): void => {
    logger?.info({ event: what }, 'power event');
    try {
      fn();
    } catch (err) {
      logger?.error({ err, event: what }, 'handling a power event failed');
    }
  };

  const listeners: Array<[string, () => void]> = [
    ['resume', guard('resume', () => workspace.onSystemResume())],
    ['unlock-screen', guard('unlock-screen', () => workspace.onSystemResume())],
    ['suspend', guard('suspend', () => workspace.onSystemSuspend())],
    ['on-battery', guard('on-battery', () => workspace.setOnBattery(true))],
    ['on-ac', guard('on-ac', () => workspace.setOnBattery(false))],
  ];
  for (const [event, listener] of listeners) power.on(event, listener);

  try {
    workspace.setOnBattery(power.isOnBatteryPower());
  } catch (err) {
    logger?.warn({ err }, 'could not read the power source');
  }

  let connected = true;
  return () => {
    if (!connected) return;
    connected = false;
    for (const [event, listener] of listeners) power.removeListener(event, listener);
  };
}
