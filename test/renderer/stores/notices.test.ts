// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_VISIBLE, toneOf, useNoticesStore } from '../../../renderer/stores/notices.js';
import { resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

const notice = (kind: 'network-lost' | 'reconnected' | 'limit' | 'resources', message: string) => ({
  sessionId: null,
  kind,
  message,
  at: '2026-11-25T12:00:00.000Z',
});

describe('useNoticesStore', () => {
  let bridge: FakeBridge;

  beforeEach(() => {
    vi.useFakeTimers();
    bridge = resetFakeBridge();
    setActivePinia(createPinia());
  });

  afterEach(() => vi.useRealTimers());

  it('turns session.notice events into kind-coloured toasts', () => {
    const store = useNoticesStore();
    store.init();
    bridge.emit('session.notice', notice('network-lost', 'web-1: network lost, reconnecting'));
    expect(store.toasts).toHaveLength(1);
    expect(store.toasts[0]).toMatchObject({
      kind: 'network-lost',
      tone: 'bad',
      title: 'Connection lost',
      message: 'web-1: network lost, reconnecting',
    });
    expect(toneOf('reconnected')).toBe('ok');
    expect(toneOf('limit')).toBe('warn');
  });

  it('shows resources notices: a limit warns, a recovery is good news, low power and the leak watch say so', () => {
    const store = useNoticesStore();
    store.init();
    const messages = [
      'Over the resource limit: new sessions are refused until use falls. Open sessions keep running.',
      'Back under the resource limits: full speed again.',
      'Easing off (warn): EC2 Connect uses 300 MiB of memory; its limit is 320 MiB.',
      'Low-power mode is on (battery): longer sampling and UI intervals, simpler terminal rendering.',
      'Memory keeps growing: the heap grew 64 % in 10 minutes. Likely source: sessions.',
      'EC2_CONNECT_MAX_MEMORY_MB is not a number; using the setting.',
    ];
    const seen: Array<[string, string]> = [];
    for (const m of messages) {
      bridge.emit('session.notice', notice('resources', m));
      const t = store.toasts[store.toasts.length - 1]!;
      seen.push([t.tone, t.title]);
    }
    expect(seen).toEqual([
      ['warn', 'Resource limit'],
      ['ok', 'Back to normal'],
      ['ok', 'Easing off'],
      ['warn', 'Low-power mode'],
      ['warn', 'Memory leak watch'],
      ['warn', 'Resources'],
    ]);
    expect(toneOf('resources')).toBe('warn');
    expect(toneOf('resources', 'Low-power mode is off.')).toBe('ok');
  });

  it('keeps one connection toast per session: the newest state replaces the older', () => {
    const store = useNoticesStore();
    store.init();
    const a = '00000000-0000-4000-8000-00000000000a';
    const b = '00000000-0000-4000-8000-00000000000b';
    bridge.emit('session.notice', { ...notice('network-lost', 'web-1: reconnecting'), sessionId: a });
    bridge.emit('session.notice', { ...notice('network-lost', 'web-2: reconnecting'), sessionId: b });
    bridge.emit('session.notice', { ...notice('limit', 'too many sessions'), sessionId: a });
    bridge.emit('session.notice', { ...notice('reconnected', 'web-1: back'), sessionId: a });
    expect(store.toasts.map((t) => t.message)).toEqual([
      'web-2: reconnecting',
      'too many sessions',
      'web-1: back',
    ]);
    // Notices without a session never replace each other.
    bridge.emit('session.notice', notice('network-lost', 'one'));
    bridge.emit('session.notice', notice('network-lost', 'two'));
    expect(store.toasts.map((t) => t.message).slice(-2)).toEqual(['one', 'two']);
  });

  it('shows at most four, the oldest leaving first', () => {
    const store = useNoticesStore();
    store.init();
    for (let i = 1; i <= 6; i++) bridge.emit('session.notice', notice('limit', `n${i}`));
    expect(store.toasts.map((t) => t.message)).toEqual(['n3', 'n4', 'n5', 'n6']);
    expect(MAX_VISIBLE).toBe(4);
  });

  it('dismisses itself after a while, but not while hovered', () => {
    const store = useNoticesStore();
    store.init();
    bridge.emit('session.notice', notice('reconnected', 'back'));
    vi.advanceTimersByTime(4000);
    expect(store.toasts).toHaveLength(1);
    vi.advanceTimersByTime(1500);
    expect(store.toasts).toHaveLength(0);

    bridge.emit('session.notice', notice('network-lost', 'lost'));
    store.pause();
    vi.advanceTimersByTime(60_000);
    expect(store.toasts).toHaveLength(1);
    store.resume();
    vi.advanceTimersByTime(10_001);
    expect(store.toasts).toHaveLength(0);
  });

  it('stops listening on dispose', () => {
    const store = useNoticesStore();
    store.init();
    store.dispose();
    expect(bridge.listenerCount('session.notice')).toBe(0);
  });
});
