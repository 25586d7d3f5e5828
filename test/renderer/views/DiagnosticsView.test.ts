// @vitest-environment happy-dom
import { mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import DiagnosticsView from '../../../renderer/views/DiagnosticsView.vue';
import { useAppStore } from '../../../renderer/stores/app.js';
import { useDiagnosticsStore } from '../../../renderer/stores/diagnostics.js';
import { useInstancesStore } from '../../../renderer/stores/instances.js';
import type { DiagnosticReport } from '../../../preload/api.js';
import { check, diagnosticReport } from '../helpers/config-fixtures.js';
import { deferred, flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import { appInfo, instanceList } from '../helpers/fixtures.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

let bridge: FakeBridge;
let wrapper: VueWrapper | undefined;
const writeText = vi.fn(async (_text: string) => {});

beforeEach(async () => {
  bridge = resetFakeBridge();
  setActivePinia(createPinia());
  localStorage.clear();
  bridge.handle('app.info', appInfo()).handle('profiles.list', {
    active: { profile: 'sandbox', region: 'us-east-1' },
    profiles: [],
    regions: [],
    warnings: [],
  });
  bridge.handle('instances.list', instanceList());
  await useAppStore().init();
  Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
  writeText.mockClear();
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  document.body.innerHTML = '';
});

async function mountView(): Promise<VueWrapper> {
  wrapper = mount(DiagnosticsView, { attachTo: document.body });
  await flush();
  return wrapper;
}

const tid = (id: string) => `[data-testid="${id}"]`;
const select = (w: VueWrapper) => w.find(tid('diagnostics-instance')).element as HTMLSelectElement;

describe('DiagnosticsView', () => {
  it('offers the instances, defaulting to the one selected in Instances', async () => {
    useInstancesStore().selectedId = 'i-022e45fccb4896048';
    const w = await mountView();
    const options = w.findAll(`${tid('diagnostics-instance')} option`).map((o) => o.text());
    expect(options[0]).toBe('None (profile checks only)');
    expect(options).toContain('db-replica (i-0cff4813ded0cd81b) — agent ConnectionLost');
    expect(select(w).value).toBe('i-022e45fccb4896048');
    expect(w.find(tid('diagnostics-empty')).exists()).toBe(true);
    // Choosing "none" leaves only the full diagnosis.
    await w.find(tid('diagnostics-instance')).setValue('');
    expect(w.find(tid('diagnostics-run-preventive')).attributes('disabled')).toBeDefined();
    expect(w.find(tid('diagnostics-run-full')).attributes('disabled')).toBeUndefined();
  });

  it('keeps the instance chosen last, and says why it cannot take a session', async () => {
    localStorage.setItem('ec2connect.diagnostics.instance', 'i-0cff4813ded0cd81b');
    const w = await mountView();
    expect(select(w).value).toBe('i-0cff4813ded0cd81b');
    expect(w.find(tid('diagnostics-blocker')).text()).toBe('SSM agent ConnectionLost');
  });

  it('shows checks live (pending ones spinning), then the report with fixes and counts', async () => {
    const answer = deferred<DiagnosticReport>();
    bridge.handle('diagnostics.run', () => answer.promise);
    const w = await mountView();
    await w.find(tid('diagnostics-instance')).setValue('i-0cff4813ded0cd81b');
    await w.find(tid('diagnostics-run-preventive')).trigger('click');
    await flush();
    expect(bridge.callsTo('diagnostics.run')).toEqual([
      { kind: 'preventive', instanceId: 'i-0cff4813ded0cd81b' },
    ]);
    expect(w.find(tid('diagnostics-run-title')).text()).toBe('Preventive check of db-replica');
    expect(w.findAll('[data-status="pending"] .spinner').length).toBe(8);
    expect(w.find(tid('diagnostics-progress')).text()).toBe('0 of 8 checks done');
    expect(w.find(tid('diagnostics-run-preventive')).attributes('disabled')).toBeDefined();

    bridge.emit('diagnostics.progress', {
      check: check('instance', 'fail', {
        title: 'Instance registered and online',
        figure: 'PingStatus ConnectionLost',
        detail: 'The SSM agent on i-0cff4813ded0cd81b last reported 3 h ago.',
        fix: 'Start the instance or restart the SSM agent on it.',
      }),
    });
    await flush();
    const failed = w.find('[data-check-id="instance"]');
    expect(failed.attributes('data-status')).toBe('fail');
    expect(failed.find(tid('check-figure')).text()).toBe('PingStatus ConnectionLost');
    expect(failed.find(tid('check-fix')).text()).toContain('restart the SSM agent');
    expect(w.find(tid('diagnostics-progress')).text()).toBe('1 of 8 checks done');

    answer.resolve(
      diagnosticReport(
        [
          check('credentials', 'pass', {
            title: 'Credentials valid',
            figure: 'sandbox-user',
            fix: 'never shown',
          }),
          check('instance', 'fail', { title: 'Instance registered and online', fix: 'Restart the agent.' }),
          check('clock', 'warn', {
            title: 'Clock in sync',
            figure: 'clock 45 s ahead',
            fix: 'Sync the clock.',
          }),
          check('proxy', 'skip', { title: 'Proxy settings', fix: null }),
        ],
        { instanceId: 'i-0cff4813ded0cd81b', durationMs: 1234 },
      ),
    );
    await flush();
    expect(w.find(tid('diagnostics-summary')).text()).toContain('1 failed, 1 warning, 1 passed, 1 skipped');
    expect(w.find(tid('diagnostics-summary')).text()).toContain('1.2 s');
    expect(w.find(tid('diagnostics-summary')).attributes('data-tone')).toBe('bad');
    expect(w.find(tid('count-fail')).text()).toBe('1 failed');
    expect(w.findAll(tid('diagnostic-check')).map((r) => r.attributes('data-status'))).toEqual([
      'pass',
      'fail',
      'warn',
      'skip',
    ]);
    expect(w.find('[data-check-id="credentials"]').find(tid('check-fix')).exists()).toBe(false);
    expect(w.find('[data-check-id="clock"]').find(tid('check-fix')).text()).toContain('Sync the clock.');
    expect(w.find(tid('diagnostics-regions')).exists()).toBe(false);
  });

  it('ranks the regions of a full run; copies the report; runs again', async () => {
    const report = diagnosticReport([check('region-latency', 'pass')], {
      kind: 'full',
      regions: [
        {
          region: 'eu-west-1',
          endpoint: 'https://ssm.eu-west-1.amazonaws.com',
          ok: true,
          latencyMs: 80,
          error: null,
        },
        {
          region: 'ap-south-1',
          endpoint: 'https://ssm.ap-south-1.amazonaws.com',
          ok: false,
          latencyMs: null,
          error: 'timed out',
        },
        { region: 'us-east-1', endpoint: 'http://127.0.0.1:4000', ok: true, latencyMs: 2.5, error: null },
      ],
    });
    bridge.handle('diagnostics.run', () => structuredClone(report));
    const w = await mountView();
    await w.find(tid('diagnostics-run-full')).trigger('click');
    await flush();
    expect(bridge.callsTo('diagnostics.run')[0]).toMatchObject({ kind: 'full' });
    const rows = w.findAll(tid('region-row'));
    expect(rows.map((r) => r.attributes('data-region'))).toEqual(['us-east-1', 'eu-west-1', 'ap-south-1']);
    expect(rows[0]!.text()).toContain('current');
    expect(rows[0]!.text()).toContain('2.5 ms');
    expect(rows[2]!.text()).toContain('unreachable');
    expect(rows[2]!.text()).toContain('timed out');

    await w.find(tid('diagnostics-copy')).trigger('click');
    await flush();
    expect(JSON.parse(writeText.mock.calls[0]![0])).toEqual(report);
    expect(w.find(tid('diagnostics-copied')).text()).toContain('copied');

    await w.find(tid('diagnostics-rerun')).trigger('click');
    await flush();
    expect(bridge.callsTo('diagnostics.run')).toHaveLength(2);
    expect(bridge.callsTo('diagnostics.run')[1]).toEqual(bridge.callsTo('diagnostics.run')[0]);
  });

  it('shows why a run failed, with Try again', async () => {
    bridge.fail('diagnostics.run', 'the diagnostics are not available', 'Error');
    const w = await mountView();
    await w.find(tid('diagnostics-run-preventive')).trigger('click');
    await flush();
    expect(w.find(tid('diagnostics-error')).text()).toContain('the diagnostics are not available');
    bridge.handle('diagnostics.run', () => diagnosticReport([check('credentials', 'pass')]));
    await w.find(`${tid('diagnostics-error')} button`).trigger('click');
    await flush();
    expect(w.find(tid('diagnostics-error')).exists()).toBe(false);
    expect(w.find(tid('diagnostics-summary')).text()).toContain('All 1 check passed');
  });

  it('focuses the run button when opened for an instance', async () => {
    const w = await mountView();
    bridge.handle('diagnostics.run', () => new Promise(() => {}));
    useDiagnosticsStore().openFor('i-0a03534fd537d6397');
    await flush();
    expect(select(w).value).toBe('i-0a03534fd537d6397');
    expect(document.activeElement).toBe(w.find(tid('diagnostics-run-preventive')).element);
  });
});
