/**
 * The sessions and settings stores on the fake bridge and the fake xterm kit, for the tests of
 * the sessions store and of what works on it (broadcast, the governor, screen restore, the
 * workbench). The test file mocks the kit itself (vi.mock is hoisted only in the file that
 * calls it), then takes the bridge and the stores from here:
 *
 *   vi.mock('../../../renderer/terminal/xterm-kit.js', () => import('./fake-kit.js'));
 *   import { bridge, freshTerminalPage, disposeTerminalStores, useSessionsStore } from './store-setup.js';
 *
 * Importing this module installs `bridge` as the page's bridge (one per test file: the renderer
 * keeps the first bridge it is given) before the stores are loaded.
 */
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import type { SessionInfo } from '../../../preload/api.js';
import { FakeTerminalBridge, installBridge, nextSessionId, sessionInfo } from './fake-bridge.js';
import { kits } from './fake-kit.js';

export const bridge = new FakeTerminalBridge();
installBridge(bridge);

export const { useSessionsStore } = await import('../../../renderer/stores/sessions.js');
export const { useSettingsStore } = await import('../../../renderer/stores/settings.js');

/** sessions.open answers with a new session on the instance asked for; `opened` keeps them in order. */
export function answerOpens(opened: SessionInfo[] = []): SessionInfo[] {
  bridge.handle('sessions.open', (req) => {
    const info = sessionInfo({ id: nextSessionId(), instanceId: req.instanceId, instanceName: 'web-1' });
    opened.push(info);
    return info;
  });
  return opened;
}

/**
 * Before each test: a clean page (sessionStorage, no fake terminals), the bridge back to its
 * defaults with sessions.open answered (answerOpens), and a new active Pinia.
 */
export function freshTerminalPage(): { opened: SessionInfo[]; pinia: Pinia } {
  sessionStorage.clear();
  bridge.reset();
  kits.length = 0;
  const opened = answerOpens();
  const pinia = createPinia();
  setActivePinia(pinia);
  return { opened, pinia };
}

/** After each test: the sessions store (its panes, listeners and timers), then the settings store. */
export function disposeTerminalStores(): void {
  useSessionsStore().$dispose();
  useSettingsStore().dispose();
}
