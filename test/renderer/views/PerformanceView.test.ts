// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import PerformanceView from '../../../renderer/views/PerformanceView.vue';
import { useMetricsStore } from '../../../renderer/stores/metrics.js';
import { flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import { session } from '../helpers/fixtures.js';
import { resetSessionsMock } from '../helpers/sessions-mock.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);
vi.mock('../../../renderer/stores/sessions.js', async () =>
  (await import('../helpers/sessions-mock.js')).sessionsModule(),
);
vi.mock('uplot', async () => (await import('../helpers/uplot-mock.js')).uplotModule());
vi.mock('uplot/dist/uPlot.min.css', () => ({}));

let bridge: FakeBridge;

beforeEach(async () => {
  bridge = resetFakeBridge();
  setActivePinia(createPinia());
  bridge.handle('metrics.history', { intervalMs: 1000, sessions: [] });
  await useMetricsStore().init();
});

describe('PerformanceView', () => {
  it('shows a hint when there are no sessions', () => {
    resetSessionsMock();
    const w = mount(PerformanceView);
    expect(w.find('[data-testid="performance-empty"]').exists()).toBe(true);
    expect(w.findAll('[data-testid="line-chart"]')).toHaveLength(0);
  });

  it('has a combined card and one per open session, two charts each, with the latest figures', async () => {
    const a = session({ instanceName: 'web-1' });
    const b = session({ instanceName: 'api-1' });
    const closed = session({ instanceName: 'old', state: 'closed' });
    resetSessionsMock([a, b, closed]);
    const w = mount(PerformanceView);
    const cards = w.findAll('[data-testid="performance-card"]');
    expect(cards.map((c) => c.attributes('data-session-id'))).toEqual(['all', a.id, b.id]);
    expect(w.findAll('[data-testid="line-chart"]')).toHaveLength(6);

    bridge.emit('metrics.tick', {
      intervalMs: 1000,
      samples: [
        { sessionId: a.id, t: 1000, latencyP50: 0.5, latencyP99: 3, inBytesPerSec: 2048, outBytesPerSec: 10 },
        {
          sessionId: b.id,
          t: 1000,
          latencyP50: null,
          latencyP99: null,
          inBytesPerSec: 1024,
          outBytesPerSec: 0,
        },
      ],
    });
    await flush();
    const card = w.find(`[data-session-id="${a.id}"]`);
    expect(card.text()).toContain('0.50 ms');
    expect(card.text()).toContain('3.0 ms');
    expect(card.text()).toContain('2.0 KB/s');
    expect(w.find('[data-session-id="all"]').text()).toContain('3.0 KB/s');
  });
});
