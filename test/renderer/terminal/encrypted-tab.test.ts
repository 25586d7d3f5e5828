// @vitest-environment happy-dom
/**
 * A tab whose session is KMS-encrypted shows a lock, with "Encrypted with KMS key <id>" as its
 * tooltip and accessible name; a plain session's tab has none. A split tab shows its focused
 * pane's session.
 */
import { mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SessionInfo } from '../../../preload/api.js';
import {
  DB1,
  FakeTerminalBridge,
  WEB1,
  installBridge,
  nextSessionId,
  sessionInfo,
  settle,
} from './fake-bridge.js';
import { kits } from './fake-kit.js';

vi.mock('../../../renderer/terminal/xterm-kit.js', () => import('./fake-kit.js'));

const bridge = new FakeTerminalBridge();
installBridge(bridge);

const { useSessionsStore } = await import('../../../renderer/stores/sessions.js');
const { useSettingsStore } = await import('../../../renderer/stores/settings.js');
const { default: TerminalWorkbench } = await import('../../../renderer/terminal/TerminalWorkbench.vue');

const KEY = 'alias/sandbox-session';
let pinia: Pinia;
let wrapper: VueWrapper | undefined;
let opened: SessionInfo[];

beforeEach(() => {
  sessionStorage.clear();
  bridge.reset();
  kits.length = 0;
  opened = [];
  // web-1 requires KMS encryption; db-1 does not.
  bridge.handle('sessions.open', (req) => {
    const encrypted = req.instanceId === WEB1.instanceId;
    const info = sessionInfo({
      id: nextSessionId(),
      instanceId: req.instanceId,
      instanceName: encrypted ? WEB1.name : DB1.name,
      ...(encrypted ? { encryption: { kmsKeyId: KEY } } : {}),
    });
    opened.push(info);
    return info;
  });
  pinia = createPinia();
  setActivePinia(pinia);
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  useSessionsStore().$dispose();
  useSettingsStore().dispose();
  document.body.innerHTML = '';
});

async function mountWorkbench(): Promise<VueWrapper> {
  wrapper = mount(TerminalWorkbench, { global: { plugins: [pinia] }, attachTo: document.body });
  await settle();
  return wrapper;
}

const lockOf = (tab: ReturnType<VueWrapper['get']>) => tab.find('[data-testid="tab-encrypted"]');

describe('the encrypted-session lock on a tab', () => {
  it('shows on the tab of an encrypted session with the key in its tooltip, not on a plain one', async () => {
    const w = await mountWorkbench();
    const store = useSessionsStore();
    await store.openSession(WEB1);
    await store.openSession(DB1);
    await settle();
    const [secure, plain] = w.findAll('[data-testid="tab"]');
    const lock = lockOf(secure!);
    expect(lock.exists()).toBe(true);
    expect(lock.attributes('title')).toBe(`Encrypted with KMS key ${KEY}`);
    expect(lock.attributes('aria-label')).toBe(`Encrypted with KMS key ${KEY}`);
    expect(lock.attributes('role')).toBe('img');
    expect(lock.find('svg').exists()).toBe(true);
    expect(lockOf(plain!).exists()).toBe(false);
  });

  it('keeps the lock when the session is updated (a reconnect), as long as the info carries the key', async () => {
    const w = await mountWorkbench();
    await useSessionsStore().openSession(WEB1);
    await settle();
    const info = opened[0]!;
    bridge.emit('session.updated', { ...info, state: 'reconnecting' });
    bridge.emit('session.updated', { ...info, state: 'open', reconnects: 1 });
    await settle();
    expect(lockOf(w.get('[data-testid="tab"]')).attributes('title')).toBe(`Encrypted with KMS key ${KEY}`);
  });

  it("follows the focused pane's session in a split tab", async () => {
    const w = await mountWorkbench();
    const store = useSessionsStore();
    await store.openSession(WEB1);
    await settle();
    const tab = store.tabs[0]!;
    const first = tab.focusedPaneId;
    // The split opens its own session on the same instance; make it a plain one.
    bridge.handle('sessions.open', (req) => {
      const info = sessionInfo({ id: nextSessionId(), instanceId: req.instanceId, instanceName: DB1.name });
      opened.push(info);
      return info;
    });
    expect(store.splitPane('right')).toBe(true);
    await settle();
    expect(tab.focusedPaneId).not.toBe(first);
    expect(lockOf(w.get('[data-testid="tab"]')).exists()).toBe(false);
    store.focusPane(first);
    await settle();
    expect(lockOf(w.get('[data-testid="tab"]')).exists()).toBe(true);
  });
});
