// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import Toasts from '../../../renderer/components/Toasts.vue';
import { useNoticesStore } from '../../../renderer/stores/notices.js';
import { resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

let bridge: FakeBridge;

beforeEach(() => {
  bridge = resetFakeBridge();
  setActivePinia(createPinia());
});

describe('Toasts', () => {
  it('renders notices, kind-coloured, at most four, dismissable', async () => {
    const store = useNoticesStore();
    store.init();
    const w = mount(Toasts);
    for (const [kind, message] of [
      ['network-lost', 'a'],
      ['reconnected', 'b'],
      ['limit', 'c'],
      ['agent-back', 'd'],
      ['ended-elsewhere', 'e'],
    ] as const) {
      bridge.emit('session.notice', { sessionId: null, kind, message, at: new Date().toISOString() });
    }
    await w.vm.$nextTick();
    const toasts = w.findAll('[data-testid="toast"]');
    expect(toasts.map((t) => t.find('.message').text())).toEqual(['b', 'c', 'd', 'e']);
    expect(toasts[0]!.classes()).toContain('ok');
    expect(toasts[1]!.classes()).toContain('warn');
    await toasts[0]!.find('button').trigger('click');
    expect(store.toasts.map((t) => t.message)).toEqual(['c', 'd', 'e']);
  });
});
