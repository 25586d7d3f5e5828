// @vitest-environment happy-dom
import { mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import HistoryView from '../../../renderer/views/HistoryView.vue';
import { findView, shortcutLabel, viewForCommand, views } from '../../../renderer/views/registry.js';
import { shortcutAction } from '../../../renderer/components/shortcuts.js';
import { useAppStore } from '../../../renderer/stores/app.js';
import { DEBOUNCE_MS, PAGE_SIZE, type HistoryDetail } from '../../../renderer/stores/history.js';
import {
  eventStyle,
  eventView,
  formatDuration,
  formatRunning,
} from '../../../renderer/components/history/history-format.js';
import { flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import { appInfo, instanceList, profileList, session } from '../helpers/fixtures.js';
import { resetSessionsMock, type sessionsMock } from '../helpers/sessions-mock.js';
import { plots } from '../helpers/uplot-mock.js';
import type { HistoryFilter, HistorySession, ResponseOf } from '../../../preload/api.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);
vi.mock('../../../renderer/stores/sessions.js', async () =>
  (await import('../helpers/sessions-mock.js')).sessionsModule(),
);
vi.mock('uplot', async () => (await import('../helpers/uplot-mock.js')).uplotModule());
vi.mock('uplot/dist/uPlot.min.css', () => ({}));

const OK_STATUS = { available: true, problem: null, file: '/home/u/.config/ec2-connect/history.db' };
const NOW = Date.now();

let counter = 0;
function recorded(partial: Partial<HistorySession> = {}): HistorySession {
  counter++;
  const started = new Date(NOW - 2 * 3600_000 - counter * 60_000).toISOString();
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
    endedAt: new Date(Date.parse(started) + 200_000).toISOString(),
    outcome: 'terminated',
    endReason: 'closed from EC2 Connect',
    exitCode: null,
    bytesIn: 1536,
    bytesOut: 20,
    reconnects: 0,
    openMs: 15,
    ...partial,
  };
}

function detailOf(s: HistorySession): HistoryDetail {
  return {
    session: s,
    events: [
      { at: s.startedAt, kind: 'opened', detail: 'StartSession in 15 ms' },
      { at: s.startedAt, kind: 'network-lost', detail: 'the socket closed' },
      { at: s.startedAt, kind: 'reconnected', detail: 'after 1 attempt' },
      { at: s.endedAt ?? s.startedAt, kind: 'closed', detail: 'closed from EC2 Connect' },
    ],
    metrics: {
      bucketMs: 1000,
      points: [0, 1, 2].map((i) => ({
        t: Date.parse(s.startedAt) + i * 1000,
        latencyP50: 1,
        latencyP99: 4,
        inBytesPerSec: 100,
        outBytesPerSec: 3,
      })),
    },
  };
}

let bridge: FakeBridge;
let sessions: typeof sessionsMock;
let wrapper: VueWrapper | undefined;
let list: HistorySession[];
let status: ResponseOf<'history.list'>['status'];

const web = () => recorded({ instanceName: 'web-1', outcome: 'terminated' });

beforeEach(() => {
  bridge = resetFakeBridge();
  setActivePinia(createPinia());
  sessions = resetSessionsMock();
  plots.length = 0;
  status = OK_STATUS;
  list = [
    recorded({
      instanceName: 'api-1',
      instanceId: 'i-022e45fccb4896048',
      outcome: 'open',
      endedAt: null,
      endReason: null,
      reconnects: 2,
      source: 'app',
      user: 'alice (arn:aws:sts::123456789012:assumed-role/Dev/alice)',
    }),
    web(),
    recorded({
      instanceName: 'db-replica',
      outcome: 'failed',
      endReason: 'TargetNotConnected',
      source: 'cli',
    }),
  ];
  bridge
    .handle('app.info', appInfo())
    .handle('profiles.list', profileList())
    .handle('instances.list', instanceList())
    .handle('history.list', (req) => ({
      status,
      sessions: list.filter((s) => !req?.outcome || s.outcome === req.outcome),
    }))
    .handle('history.get', (req) => detailOf(list.find((s) => s.id === req.sessionId)!));
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  document.body.innerHTML = '';
  vi.useRealTimers();
});

async function mountView(): Promise<VueWrapper> {
  wrapper = mount(HistoryView, { attachTo: document.body });
  await flush();
  return wrapper;
}

const rows = (w: VueWrapper) => w.findAll('[data-testid="history-row"]');
const selected = (w: VueWrapper) => w.find('[role="option"][aria-selected="true"]');
const listCalls = () => bridge.callsTo('history.list') as HistoryFilter[];

describe('HistoryView', () => {
  it('lists recorded sessions newest first with their details', async () => {
    const w = await mountView();
    expect(rows(w)).toHaveLength(3);
    const first = rows(w)[0]!;
    expect(first.attributes('data-session-id')).toBe(list[0]!.id);
    expect(first.attributes('data-outcome')).toBe('open');
    expect(first.text()).toContain('api-1');
    expect(first.text()).toContain('i-022e45fccb4896048');
    expect(first.text()).toContain('sandbox / us-east-1');
    expect(first.text()).toContain('2 h ago');
    expect(first.text()).toContain('1.5 KiB');
    expect(first.text()).toContain('20 B');
    expect(first.text()).toContain('app');
    expect(first.text()).toContain('alice (arn:aws:sts');
    expect(first.find('time').attributes('title')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(first.find('[data-testid="history-outcome"]').classes()).toContain('ok');
    expect(first.text()).toContain('running 2 h');
    expect(rows(w)[1]!.text()).toContain('3 min 20 s');
    expect(rows(w)[2]!.find('[data-testid="history-outcome"]').classes()).toContain('bad');
    expect(w.find('[data-testid="history-count"]').text()).toBe('3');
    expect(w.find('[data-testid="history-more"]').exists()).toBe(false);
    expect(w.find('[data-testid="history-empty"]').exists()).toBe(false);
  });

  it('sends the filters: instance text debounced, profile, outcome and dates at once', async () => {
    vi.useFakeTimers();
    wrapper = mount(HistoryView, { attachTo: document.body });
    await vi.advanceTimersByTimeAsync(0);
    const w = wrapper;
    const profiles = w.find('[data-testid="history-filter-profile"]').findAll('option');
    expect(profiles.map((o) => o.text())).toEqual(['All profiles', 'sandbox']);
    await useAppStore().init();
    await vi.advanceTimersByTimeAsync(0);
    expect(
      w
        .find('[data-testid="history-filter-profile"]')
        .findAll('option')
        .map((o) => o.text()),
    ).toEqual(['All profiles', 'sandbox', 'prod', 'dev']);

    const input = w.find('[data-testid="history-filter-instance"]');
    await input.setValue('a');
    await input.setValue('ap');
    await input.setValue('api');
    expect(listCalls()).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS);
    expect(listCalls()).toHaveLength(2);
    expect(listCalls()[1]).toEqual({ instance: 'api', limit: PAGE_SIZE });

    await w.find('[data-testid="history-filter-profile"]').setValue('prod');
    await w.find('[data-testid="history-filter-outcome"]').setValue('failed');
    await w.find('[data-testid="history-filter-from"]').setValue('2026-11-02');
    await vi.advanceTimersByTimeAsync(0);
    expect(listCalls().at(-1)).toEqual({
      instance: 'api',
      profile: 'prod',
      outcome: 'failed',
      from: new Date(2026, 10, 2).toISOString(),
      limit: PAGE_SIZE,
    });
    await w.find('[data-testid="history-filter-to"]').setValue('2026-11-03');
    await vi.advanceTimersByTimeAsync(0);
    expect(listCalls().at(-1)).toMatchObject({ to: new Date(2026, 10, 4).toISOString() });
    expect(rows(w).map((r) => r.attributes('data-outcome'))).toEqual(['failed']);

    await w.find('[data-testid="history-filter-clear"]').trigger('click');
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS);
    expect(listCalls().at(-1)).toEqual({ limit: PAGE_SIZE });
    expect(rows(w)).toHaveLength(3);
  });

  it('pages with Load more', async () => {
    list = Array.from({ length: PAGE_SIZE + 5 }, () => web());
    bridge.handle('history.list', (req) => {
      const start = req?.before ? list.findIndex((s) => s.startedAt < req.before!) : 0;
      return { status, sessions: list.slice(start, start + (req?.limit ?? PAGE_SIZE)) };
    });
    const w = await mountView();
    expect(rows(w)).toHaveLength(PAGE_SIZE);
    expect(w.find('[data-testid="history-count"]').text()).toBe(`${PAGE_SIZE}+`);
    await w.find('[data-testid="history-more"]').trigger('click');
    await flush();
    expect(listCalls()[1]).toEqual({ limit: PAGE_SIZE, before: list[PAGE_SIZE - 1]!.startedAt });
    expect(rows(w)).toHaveLength(PAGE_SIZE + 5);
    expect(w.find('[data-testid="history-more"]').exists()).toBe(false);
  });

  it('shows prominently that history is off, instead of an empty list', async () => {
    list = [];
    status = {
      available: false,
      problem: 'History is off: the disk holding /home/u/.config/ec2-connect is full.',
      file: '/home/u/.config/ec2-connect/history.db',
    };
    const w = await mountView();
    const problem = w.find('[data-testid="history-status-problem"]');
    expect(problem.exists()).toBe(true);
    expect(problem.attributes('role')).toBe('alert');
    expect(problem.text()).toContain('History is off');
    expect(problem.text()).toContain('The disk holding /home/u/.config/ec2-connect is full.');
    expect(problem.text().match(/History is off/g)).toHaveLength(1);
    expect(problem.text()).toContain('history.db');
    expect(w.find('[data-testid="history-filter-instance"]').exists()).toBe(false);
    expect(w.find('[data-testid="history-empty"]').exists()).toBe(false);
  });

  it('has empty states for no sessions and for no matches, and an error with Retry', async () => {
    list = [];
    const w = await mountView();
    const empty = w.find('[data-testid="history-empty"]');
    expect(empty.text()).toContain('No sessions yet');
    await w.find('[data-testid="history-filter-outcome"]').setValue('failed');
    await flush();
    expect(w.find('[data-testid="history-empty"]').text()).toContain('No matches');

    bridge.fail('history.list', 'database disk image is malformed', 'SqliteError');
    await w.find('[data-testid="history-filter-outcome"]').setValue('');
    await flush();
    expect(w.find('[data-testid="history-error"]').text()).toContain(
      'SqliteError: database disk image is malformed',
    );
    bridge.handle('history.list', { status, sessions: [web()] });
    await w.find('[data-testid="history-error"] button').trigger('click');
    await flush();
    expect(w.find('[data-testid="history-error"]').exists()).toBe(false);
    expect(rows(w)).toHaveLength(1);
  });

  it('moves with the keyboard and opens the detail with Enter; Escape goes back', async () => {
    const w = await mountView();
    const listbox = w.find('[data-testid="history-list"]');
    expect(selected(w).attributes('data-session-id')).toBe(list[0]!.id);
    await listbox.trigger('keydown', { key: 'ArrowDown' });
    expect(selected(w).attributes('data-session-id')).toBe(list[1]!.id);
    expect(listbox.attributes('aria-activedescendant')).toBe(`history-${list[1]!.id}`);
    await listbox.trigger('keydown', { key: 'End' });
    expect(selected(w).attributes('data-session-id')).toBe(list[2]!.id);
    await listbox.trigger('keydown', { key: 'ArrowDown' });
    expect(selected(w).attributes('data-session-id')).toBe(list[2]!.id);
    await listbox.trigger('keydown', { key: 'Home' });
    await listbox.trigger('keydown', { key: 'ArrowDown' });
    // The instance box moves the list too.
    await w.find('[data-testid="history-filter-instance"]').trigger('keydown', { key: 'ArrowUp' });
    expect(selected(w).attributes('data-session-id')).toBe(list[0]!.id);
    await listbox.trigger('keydown', { key: 'ArrowDown' });

    await listbox.trigger('keydown', { key: 'Enter' });
    await flush();
    expect(bridge.callsTo('history.get')).toEqual([{ sessionId: list[1]!.id, maxPoints: 300 }]);
    const detail = w.find('[data-testid="history-detail"]');
    expect(detail.exists()).toBe(true);
    expect(w.find('[data-testid="history-list"]').isVisible()).toBe(false);
    await detail.trigger('keydown', { key: 'Escape' });
    await flush();
    expect(w.find('[data-testid="history-detail"]').exists()).toBe(false);
    expect(selected(w).attributes('data-session-id')).toBe(list[1]!.id);
    expect(document.activeElement?.getAttribute('data-testid')).toBe('history-list');
  });

  it('shows every field, the end reason, the events and two charts in the detail', async () => {
    const w = await mountView();
    await rows(w)[2]!.trigger('click');
    await flush();
    const detail = w.find('[data-testid="history-detail"]');
    expect(detail.text()).toContain('db-replica');
    expect(detail.find('[data-testid="history-detail-outcome"]').text()).toBe('failed');
    expect(detail.find('[data-testid="history-end-reason"]').text()).toContain('TargetNotConnected');
    const figures = detail.find('[data-testid="history-figures"]').text();
    for (const text of ['3 min 20 s', '1.5 KiB', '20 B']) expect(figures).toContain(text);
    const fields = detail.find('[data-testid="history-fields"]').text();
    for (const text of ['Started', 'Ended', '15.0 ms', 'CLI', 'alice', list[2]!.id, 'alice-'])
      expect(fields).toContain(text);
    const events = detail.findAll('[data-testid="history-event"]');
    expect(events.map((e) => e.attributes('data-kind'))).toEqual([
      'opened',
      'network-lost',
      'reconnected',
      'closed',
    ]);
    expect(events[1]!.classes()).toContain('bad');
    expect(events[1]!.text()).toContain('network lost');
    expect(events[1]!.text()).toContain('the socket closed');
    expect(detail.findAll('[data-testid="line-chart"]')).toHaveLength(2);
    expect(plots).toHaveLength(2);
    expect(plots[0]!.opts.series.map((s) => s.label)).toEqual([undefined, 'p50', 'p99']);
    expect(plots[1]!.opts.series.map((s) => s.label)).toEqual([undefined, 'in', 'out']);
    expect((plots[0]!.data as number[][])[0]).toHaveLength(3);

    await w.find('[data-testid="history-back"]').trigger('click');
    await flush();
    expect(w.find('[data-testid="history-detail"]').exists()).toBe(false);
    expect(plots.every((p) => p.destroyed)).toBe(true);
  });

  it('follows history.changed for the open detail', async () => {
    const w = await mountView();
    await rows(w)[0]!.trigger('click');
    await flush();
    list[0] = {
      ...list[0]!,
      outcome: 'ended',
      endedAt: new Date().toISOString(),
      endReason: 'the shell exited',
    };
    bridge.emit('history.changed', { sessionId: list[0]!.id });
    await flush();
    expect(w.find('[data-testid="history-detail-outcome"]').text()).toBe('ended');
    expect(w.find('[data-testid="history-end-reason"]').text()).toContain('the shell exited');
  });

  it('reconnects to the instance: a new session, focused in the terminal', async () => {
    const live = session({ instanceId: list[1]!.instanceId, instanceName: 'web-1' });
    bridge.handle('history.reopen', live);
    const w = await mountView();
    await rows(w)[1]!.trigger('click');
    await flush();
    const button = w.find('[data-testid="history-reopen"]');
    expect(button.text()).toContain('Reconnect to this instance');
    await button.trigger('click');
    await flush();
    expect(bridge.callsTo('history.reopen')).toEqual([{ sessionId: list[1]!.id }]);
    expect(sessions.focusSession).toHaveBeenCalledWith(live.id);
    expect(sessions.sessions[live.id]).toBeTruthy();
    expect(w.find('[data-testid="history-reopen-error"]').exists()).toBe(false);
  });

  it('shows why a reconnect was refused, and disables it for a profile that is gone', async () => {
    bridge.fail('history.reopen', 'instance i-0b5bb7865829a72f8 is terminated', 'ReopenError');
    list.push(recorded({ instanceName: 'legacy', profile: 'old-prod' }));
    const w = await mountView();
    await useAppStore().init();
    await rows(w)[1]!.trigger('click');
    await flush();
    await w.find('[data-testid="history-reopen"]').trigger('click');
    await flush();
    expect(w.find('[data-testid="history-reopen-error"]').text()).toContain(
      'ReopenError: instance i-0b5bb7865829a72f8 is terminated',
    );
    expect(sessions.focusSession).not.toHaveBeenCalled();

    await w.find('[data-testid="history-back"]').trigger('click');
    await flush();
    await rows(w)[3]!.trigger('click');
    await flush();
    expect(w.find('[data-testid="history-reopen"]').attributes('disabled')).toBeDefined();
    expect(w.find('[data-testid="history-reopen-blocked"]').text()).toContain('old-prod');
    expect(w.find('[data-testid="history-reopen-error"]').exists()).toBe(false);
  });
});

describe('history formatting', () => {
  it('formats durations, running times and event kinds', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(1_900)).toBe('1.9 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(200_000)).toBe('3 min 20 s');
    expect(formatDuration(7_500_000)).toBe('2 h 5 min');
    expect(formatDuration(200_000_000)).toBe('2 d 7 h');
    expect(formatDuration(-1)).toBe('–');
    expect(formatRunning(30_000)).toBe('running');
    expect(formatRunning(3 * 3600_000 + 5 * 60_000 + 12_000)).toBe('running 3 h 5 min');
    expect(eventStyle('network-lost')).toMatchObject({ label: 'network lost', tone: 'bad' });
    expect(eventStyle('opened').tone).toBe('ok');
    expect(eventStyle('something-new')).toMatchObject({ label: 'something new', tone: 'info' });
    expect(eventView({ kind: 'state', detail: 'reconnecting' })).toMatchObject({
      label: 'state → reconnecting',
      tone: 'warn',
      detail: '',
    });
    expect(eventView({ kind: 'closed', detail: 'closed by the user' })).toMatchObject({
      label: 'closed',
      detail: 'closed by the user',
    });
  });
});

describe('the History view in the activity bar', () => {
  it('sits between Sessions and Performance, shown by show-history and Ctrl/Cmd+Shift+H', () => {
    expect(views.map((v) => v.id).slice(0, 4)).toEqual(['instances', 'sessions', 'history', 'performance']);
    expect(viewForCommand('show-history')?.id).toBe('history');
    const key = { key: 'H', ctrlKey: true, metaKey: false, shiftKey: true, altKey: false, target: null };
    expect(shortcutAction(key, views, false)).toEqual({ type: 'view', id: 'history' });
    expect(shortcutAction({ ...key, ctrlKey: false, metaKey: true }, views, true)).toEqual({
      type: 'view',
      id: 'history',
    });
    expect(shortcutLabel(findView('history')?.shortcut, false)).toBe('Ctrl+Shift+H');
  });
});
