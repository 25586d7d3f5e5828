// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEBOUNCE_MS,
  LIVE_POLL_MS,
  PAGE_SIZE,
  REFRESH_MS,
  dayToIso,
  detailChartData,
  filterRequest,
  emptyFilters,
  useHistoryStore,
  type HistoryDetail,
  type HistoryStatus,
} from '../../../renderer/stores/history.js';
import { deferred, flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import { session } from '../helpers/fixtures.js';
import { resetSessionsMock, type sessionsMock } from '../helpers/sessions-mock.js';
import type { HistoryFilter, HistorySession, ResponseOf } from '../../../preload/api.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);
vi.mock('../../../renderer/stores/sessions.js', async () =>
  (await import('../helpers/sessions-mock.js')).sessionsModule(),
);

const OK_STATUS: HistoryStatus = {
  available: true,
  problem: null,
  file: '/home/u/.config/ec2-connect/history.db',
};

let counter = 0;
function recorded(partial: Partial<HistorySession> = {}): HistorySession {
  counter++;
  const started = new Date(Date.UTC(2026, 10, 25, 12, 0, 0) - counter * 60_000).toISOString();
  return {
    id: `00000000-0000-4000-9000-${counter.toString(16).padStart(12, '0')}`,
    awsSessionId: `alice-${counter}`,
    instanceId: 'i-0b5bb7865829a72f8',
    instanceName: 'web-1',
    profile: 'sandbox',
    region: 'us-east-1',
    source: 'web',
    user: 'alice',
    startedAt: started,
    endedAt: new Date(Date.parse(started) + 30_000).toISOString(),
    outcome: 'terminated',
    endReason: 'closed from EC2 Connect',
    exitCode: null,
    bytesIn: 2048,
    bytesOut: 12,
    reconnects: 0,
    openMs: 15,
    ...partial,
  };
}

function page(sessions: HistorySession[], status = OK_STATUS): ResponseOf<'history.list'> {
  return { status, sessions };
}

function detailOf(s: HistorySession, points = 3): HistoryDetail {
  return {
    session: s,
    events: [
      { at: s.startedAt, kind: 'opened', detail: 'StartSession in 15 ms' },
      { at: s.endedAt ?? s.startedAt, kind: 'closed', detail: 'terminated' },
    ],
    metrics: {
      bucketMs: 1000,
      points: Array.from({ length: points }, (_, i) => ({
        t: Date.parse(s.startedAt) + i * 1000,
        latencyP50: i === 0 ? null : 1 + i,
        latencyP99: i === 0 ? null : 5 + i,
        inBytesPerSec: 100 * i,
        outBytesPerSec: 10 * i,
      })),
    },
  };
}

let bridge: FakeBridge;
let sessions: typeof sessionsMock;

beforeEach(() => {
  bridge = resetFakeBridge();
  setActivePinia(createPinia());
  sessions = resetSessionsMock();
});

afterEach(() => {
  vi.useRealTimers();
});

const listCalls = () => bridge.callsTo('history.list') as HistoryFilter[];

describe('history filters as request parameters', () => {
  it('leaves empty filters out and turns local days into ISO times (whole days)', () => {
    expect(filterRequest(emptyFilters())).toEqual({ limit: PAGE_SIZE });
    const from = dayToIso('2026-11-02', 'start')!;
    const to = dayToIso('2026-11-03', 'end')!;
    expect(new Date(from).getDate()).toBe(2);
    expect(new Date(from).getHours()).toBe(0);
    expect(new Date(to).getDate()).toBe(4); // up to the start of the next day
    expect(new Date(to).getHours()).toBe(0);
    expect(
      filterRequest(
        { instance: '  web ', profile: 'prod', outcome: 'failed', from: '2026-11-02', to: '2026-11-03' },
        { limit: 10, before: '2026-11-03T10:00:00.000Z' },
      ),
    ).toEqual({
      instance: 'web',
      profile: 'prod',
      outcome: 'failed',
      from,
      to,
      limit: 10,
      before: '2026-11-03T10:00:00.000Z',
    });
    expect(dayToIso('', 'start')).toBeUndefined();
    expect(dayToIso('nonsense', 'end')).toBeUndefined();
  });

  it('debounces typing in the instance box and applies selects and dates at once', async () => {
    vi.useFakeTimers();
    bridge.handle('history.list', page([]));
    const store = useHistoryStore();
    store.attach();
    await vi.advanceTimersByTimeAsync(0);
    expect(listCalls()).toEqual([{ limit: PAGE_SIZE }]);

    for (const text of ['w', 'we', 'web', 'web-']) {
      store.filters.instance = text;
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(listCalls()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS);
    expect(listCalls()).toHaveLength(2);
    expect(listCalls()[1]).toEqual({ instance: 'web-', limit: PAGE_SIZE });

    store.filters.profile = 'prod';
    await vi.advanceTimersByTimeAsync(0);
    expect(listCalls()[2]).toEqual({ instance: 'web-', profile: 'prod', limit: PAGE_SIZE });
    store.filters.outcome = 'open';
    await vi.advanceTimersByTimeAsync(0);
    expect(listCalls()[3]).toMatchObject({ outcome: 'open' });
    store.filters.from = '2026-11-02';
    await vi.advanceTimersByTimeAsync(0);
    expect(listCalls()[4]).toMatchObject({ from: dayToIso('2026-11-02', 'start') });

    // A select while typing is pending sends the text too, once.
    store.filters.instance = 'api';
    store.filters.outcome = 'failed';
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS * 2);
    expect(listCalls()).toHaveLength(6);
    expect(listCalls()[5]).toMatchObject({ instance: 'api', outcome: 'failed' });

    store.clearFilters();
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS * 2);
    expect(listCalls().at(-1)).toEqual({ limit: PAGE_SIZE });
  });

  it('does not ask for a backwards date range', async () => {
    bridge.handle('history.list', page([recorded()]));
    const store = useHistoryStore();
    store.attach();
    await flush();
    expect(store.rows).toHaveLength(1);
    store.filters.from = '2026-11-05';
    store.filters.to = '2026-11-01';
    await flush();
    expect(store.invalidRange).toBe(true);
    expect(store.rows).toHaveLength(0);
    expect(listCalls().filter((c) => c.to)).toHaveLength(0);
  });
});

describe('the history list', () => {
  it('loads the newest page with the status, and pages with `before` = the last start', async () => {
    const first = Array.from({ length: PAGE_SIZE }, () => recorded());
    const second = [recorded(), recorded()];
    bridge.handle('history.list', (req) => page(req?.before ? second : first));
    const store = useHistoryStore();
    store.attach();
    await flush();
    expect(store.rows).toHaveLength(PAGE_SIZE);
    expect(store.status).toEqual(OK_STATUS);
    expect(store.hasMore).toBe(true);

    await store.loadMore();
    expect(listCalls()[1]).toEqual({ limit: PAGE_SIZE, before: first.at(-1)!.startedAt });
    expect(store.rows.map((r) => r.id)).toEqual([...first, ...second].map((r) => r.id));
    expect(store.hasMore).toBe(false);
    await store.loadMore(); // nothing more to ask for
    expect(listCalls()).toHaveLength(2);

    // A refresh re-reads as many rows as are shown.
    await store.refresh();
    expect(listCalls()[2]).toEqual({ limit: PAGE_SIZE + 2 });
  });

  it('keeps the answer to the newest request only', async () => {
    const slow = deferred<ResponseOf<'history.list'>>();
    const stale = recorded({ instanceName: 'stale' });
    const fresh = recorded({ instanceName: 'fresh' });
    bridge.handle('history.list', (req) => (req?.outcome === 'failed' ? page([fresh]) : slow.promise));
    const store = useHistoryStore();
    store.attach();
    store.filters.outcome = 'failed';
    await flush();
    slow.resolve(page([stale]));
    await flush();
    expect(store.rows.map((r) => r.instanceName)).toEqual(['fresh']);
    expect(store.loading).toBe(false);
  });

  it('passes on that history is off, and a failed list as an error', async () => {
    const off = { available: false, problem: 'The disk holding /data is full.', file: '/data/history.db' };
    bridge.handle('history.list', page([], off));
    const store = useHistoryStore();
    store.attach();
    await flush();
    expect(store.available).toBe(false);
    expect(store.status?.problem).toBe('The disk holding /data is full.');

    bridge.fail('history.list', 'database is locked', 'SqliteError');
    await store.load();
    expect(store.error).toBe('SqliteError: database is locked');
  });
});

describe('following history.changed', () => {
  it('refreshes the list at most every 500 ms, and the open detail when it is that session', async () => {
    vi.useFakeTimers();
    const a = recorded();
    const b = recorded();
    bridge.handle('history.list', page([a, b]));
    bridge.handle('history.get', (req) => detailOf(req.sessionId === a.id ? a : b));
    const store = useHistoryStore();
    store.attach();
    await vi.advanceTimersByTimeAsync(0);
    await store.select(a.id);
    expect(bridge.callsTo('history.get')).toEqual([{ sessionId: a.id, maxPoints: 300 }]);
    const lists = () => listCalls().length;
    const gets = () => bridge.callsTo('history.get').length;
    expect(lists()).toBe(1);

    for (let i = 0; i < 10; i++) bridge.emit('history.changed', { sessionId: b.id });
    await vi.advanceTimersByTimeAsync(0);
    expect(lists()).toBe(2); // one refresh for the burst
    expect(gets()).toBe(1); // not the open detail's session

    for (let i = 0; i < 10; i++) {
      bridge.emit('history.changed', { sessionId: a.id });
      await vi.advanceTimersByTimeAsync(REFRESH_MS / 10 - 1);
    }
    expect(lists()).toBe(2);
    await vi.advanceTimersByTimeAsync(REFRESH_MS);
    expect(lists()).toBe(3);
    expect(gets()).toBe(2);
    expect(bridge.callsTo('history.get')[1]).toEqual({ sessionId: a.id, maxPoints: 300 });

    await vi.advanceTimersByTimeAsync(REFRESH_MS * 4);
    expect(lists()).toBe(3); // nothing changed since
  });

  it('re-reads open sessions every few seconds while shown (their traffic grows quietly)', async () => {
    vi.useFakeTimers();
    const open = recorded({ outcome: 'open', endedAt: null, bytesIn: 0 });
    let rows = [open, recorded()];
    bridge.handle('history.list', () => page(rows));
    bridge.handle('history.get', (req) => detailOf(rows.find((r) => r.id === req.sessionId)!));
    const store = useHistoryStore();
    const detach = store.attach();
    await vi.advanceTimersByTimeAsync(0);
    await store.select(open.id);
    rows = [{ ...open, bytesIn: 4096 }, rows[1]!];
    await vi.advanceTimersByTimeAsync(LIVE_POLL_MS + 10);
    expect(listCalls()).toHaveLength(2);
    expect(bridge.callsTo('history.get')).toHaveLength(2);
    expect(store.rows[0]!.bytesIn).toBe(4096);
    expect(store.detail?.session.bytesIn).toBe(4096);

    // Nothing open any more: no polling.
    rows = [{ ...open, outcome: 'ended', endedAt: new Date().toISOString() }, rows[1]!];
    await vi.advanceTimersByTimeAsync(LIVE_POLL_MS + 10);
    expect(listCalls()).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(LIVE_POLL_MS * 3);
    expect(listCalls()).toHaveLength(3);
    detach();
  });

  it('only notes changes while no view is attached, and catches up when one is', async () => {
    vi.useFakeTimers();
    bridge.handle('history.list', page([recorded()]));
    const store = useHistoryStore();
    const detach = store.attach();
    await vi.advanceTimersByTimeAsync(0);
    detach();
    for (let i = 0; i < 5; i++) bridge.emit('history.changed', { sessionId: 'x' });
    await vi.advanceTimersByTimeAsync(REFRESH_MS * 3);
    expect(listCalls()).toHaveLength(1);
    store.attach();
    await vi.advanceTimersByTimeAsync(0);
    expect(listCalls()).toHaveLength(2);
    expect(store.loading).toBe(false);
  });
});

describe('one session', () => {
  it('loads its events and metrics as chart columns', async () => {
    const s = recorded();
    bridge.handle('history.list', page([s]));
    bridge.handle('history.get', detailOf(s, 4));
    const store = useHistoryStore();
    store.attach();
    await flush();
    await store.select(s.id);
    expect(store.selectedRow?.id).toBe(s.id);
    expect(store.detail?.events.map((e) => e.kind)).toEqual(['opened', 'closed']);
    const [x, p50, p99] = detailChartData(store.detail, 'latency');
    expect(x).toHaveLength(4);
    expect(x[1]! - x[0]!).toBe(1); // epoch seconds
    expect(p50).toEqual([null, 2, 3, 4]);
    expect(p99).toEqual([null, 6, 7, 8]);
    expect(detailChartData(store.detail, 'throughput').slice(1)).toEqual([
      [0, 100, 200, 300],
      [0, 10, 20, 30],
    ]);
    expect(detailChartData(null, 'latency')).toEqual([[], [], []]);
    store.closeDetail();
    expect(store.selectedId).toBeNull();
    expect(store.detail).toBeNull();
  });

  it('drops a detail that arrives after going back or choosing another', async () => {
    const a = recorded();
    const b = recorded();
    const slow = deferred<HistoryDetail>();
    bridge.handle('history.get', (req) => (req.sessionId === a.id ? slow.promise : detailOf(b)));
    const store = useHistoryStore();
    const pending = store.select(a.id);
    await store.select(b.id);
    slow.resolve(detailOf(a));
    await pending;
    expect(store.detail?.session.id).toBe(b.id);
  });

  it('shows why a detail failed', async () => {
    bridge.fail('history.get', 'no such session');
    const store = useHistoryStore();
    await store.select('gone');
    expect(store.detailError).toBe('no such session');
  });
});

describe('reopen', () => {
  it('opens a new session to the instance and shows it in a tab of its own', async () => {
    const s = recorded();
    const live = session({ instanceId: s.instanceId, instanceName: s.instanceName });
    bridge.handle('history.reopen', live);
    const store = useHistoryStore();
    const info = await store.reopen(s.id);
    expect(bridge.callsTo('history.reopen')).toEqual([{ sessionId: s.id }]);
    expect(info?.id).toBe(live.id);
    expect(sessions.sessions[live.id]?.instanceId).toBe(s.instanceId);
    expect(sessions.focusSession).toHaveBeenCalledWith(live.id);
    expect(store.reopening).toBeNull();
    expect(store.reopenError).toBeNull();
  });

  it('keeps a newer state of the session the store already has', async () => {
    const live = session({ state: 'open' });
    const known = { ...live, bytesIn: 99_999 };
    resetSessionsMock([known]);
    bridge.handle('history.reopen', live);
    await useHistoryStore().reopen('recorded-1');
    expect(sessions.sessions[live.id]?.bytesIn).toBe(99_999);
  });

  it('says why the main side refused', async () => {
    bridge.fail('history.reopen', 'the profile old-prod is not in your AWS config');
    const store = useHistoryStore();
    expect(await store.reopen('recorded-1')).toBeNull();
    expect(store.reopenError).toEqual({
      sessionId: 'recorded-1',
      message: 'the profile old-prod is not in your AWS config',
    });
    expect(sessions.focusSession).not.toHaveBeenCalled();
  });
});
