// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  PREVENTIVE_CHECKS,
  countStatuses,
  expectedChecks,
  mergeRows,
  useDiagnosticsStore,
} from '../../../renderer/stores/diagnostics.js';
import { useAppStore } from '../../../renderer/stores/app.js';
import type { DiagnosticReport } from '../../../preload/api.js';
import { check, diagnosticReport } from '../helpers/config-fixtures.js';
import { deferred, flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

const WEB1 = 'i-0b5bb7865829a72f8';

describe('diagnostics rows', () => {
  it('lists the usual checks until a run of that kind says otherwise', () => {
    expect(expectedChecks('preventive', true).map((c) => c.id)).toEqual(PREVENTIVE_CHECKS.map((c) => c.id));
    expect(expectedChecks('full', false).map((c) => c.id)).toContain('region-latency');
    const remembered = { 'preventive:instance': [{ id: 'x', title: 'X' }] };
    expect(expectedChecks('preventive', true, remembered)).toEqual([{ id: 'x', title: 'X' }]);
  });

  it('fills the expected rows as checks arrive, others appended', () => {
    const rows = mergeRows(
      [
        { id: 'a', title: 'A' },
        { id: 'b', title: 'B' },
      ],
      [check('b', 'fail', { title: 'B!' }), check('c', 'pass')],
    );
    expect(rows.map((r) => [r.id, r.title, r.status])).toEqual([
      ['a', 'A', 'pending'],
      ['b', 'B!', 'fail'],
      ['c', 'c', 'pass'],
    ]);
    expect(countStatuses([check('a', 'pass'), check('b', 'fail'), check('c', 'pass')])).toEqual({
      pass: 2,
      warn: 0,
      fail: 1,
      skip: 0,
    });
  });
});

describe('useDiagnosticsStore', () => {
  let bridge: FakeBridge;

  beforeEach(() => {
    bridge = resetFakeBridge();
    setActivePinia(createPinia());
    localStorage.clear();
  });

  it('runs a preventive check, showing checks as they arrive, then the report', async () => {
    const answer = deferred<DiagnosticReport>();
    bridge.handle('diagnostics.run', () => answer.promise);
    const store = useDiagnosticsStore();
    store.choose(WEB1);
    const run = store.run('preventive');
    await flush();
    expect(bridge.callsTo('diagnostics.run')).toEqual([{ kind: 'preventive', instanceId: WEB1 }]);
    expect(store.running).toBe('preventive');
    expect(store.rows.every((r) => r.status === 'pending')).toBe(true);
    bridge.emit('diagnostics.progress', {
      check: check('credentials', 'pass', { title: 'Credentials valid' }),
    });
    expect(store.rows[0]).toMatchObject({ id: 'credentials', status: 'pass' });
    expect(store.pendingCount).toBe(PREVENTIVE_CHECKS.length - 1);
    expect(store.summary).toEqual({ pass: 1, warn: 0, fail: 0, skip: 0 });

    const report = diagnosticReport([check('credentials', 'pass'), check('instance', 'fail')]);
    answer.resolve(report);
    expect(await run).toEqual(report);
    expect(store.running).toBeNull();
    expect(store.rows.map((r) => r.status)).toEqual(['pass', 'fail']);
    expect(store.summary).toEqual(report.summary);
    expect(JSON.parse(store.reportJson()!)).toEqual(report);
    expect(bridge.listenerCount('diagnostics.progress')).toBe(0);
    // The next run expects the checks this one reported.
    bridge.handle('diagnostics.run', () => new Promise(() => {}));
    void store.rerun();
    await flush();
    expect(store.rows.map((r) => r.id)).toEqual(['credentials', 'instance']);
    expect(localStorage.getItem('ec2connect.diagnostics.instance')).toBe(WEB1);
  });

  it('needs an instance for a preventive check; a full run may go without', async () => {
    bridge.handle('diagnostics.run', (r) =>
      diagnosticReport([check('credentials', 'pass')], { kind: r.kind }),
    );
    const store = useDiagnosticsStore();
    expect(await store.run('preventive')).toBeNull();
    expect(store.error).toMatch(/Choose an instance/);
    await store.run('full');
    expect(bridge.callsTo('diagnostics.run')).toEqual([{ kind: 'full' }]);
    expect(store.error).toBeNull();
  });

  it('says why a run failed and keeps what it reported', async () => {
    bridge.handle('diagnostics.run', () => {
      bridge.emit('diagnostics.progress', { check: check('credentials', 'fail') });
      throw new Error('HANDLER_FAILED: the profile is not resolved');
    });
    const store = useDiagnosticsStore();
    store.choose(WEB1);
    await store.run('preventive');
    expect(store.error).toBe('the profile is not resolved');
    expect(store.rows.map((r) => [r.id, r.status])).toEqual([['credentials', 'fail']]);
  });

  it('opens the view for an instance and starts a check', async () => {
    bridge.handle('diagnostics.run', () => diagnosticReport([check('credentials', 'pass')]));
    const store = useDiagnosticsStore();
    store.openFor('i-0cff4813ded0cd81b', { run: true });
    expect(useAppStore().activeView).toBe('diagnostics');
    expect(store.instanceId).toBe('i-0cff4813ded0cd81b');
    expect(store.openRequest).toBe(1);
    await flush();
    expect(bridge.callsTo('diagnostics.run')).toEqual([
      { kind: 'preventive', instanceId: 'i-0cff4813ded0cd81b' },
    ]);
  });
});
