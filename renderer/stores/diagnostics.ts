/**
 * Connection diagnostics from the app (issue 8): `diagnostics.run` for the active profile and
 * region, a preventive check of one instance or a full diagnosis. While a run is in progress its
 * checks arrive one by one (`diagnostics.progress`): the rows still waiting show as pending
 * (the checks a run of that kind had last time, or the usual list), then the report replaces them.
 *
 * `openFor(instanceId)` (an instance row's or a failed session's "Diagnose") shows the view with
 * that instance chosen and starts a preventive check.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { CheckStatus, DiagnosticCheck, DiagnosticReport } from '../../preload/api.js';
import { getBridge } from '../bridge/index.js';
import { describeError } from '../components/format.js';
import { useAppStore } from './app.js';

export type RunKind = 'preventive' | 'full';

export interface CheckRow {
  id: string;
  title: string;
  /** `pending` until the check reports. */
  status: CheckStatus | 'pending';
  check: DiagnosticCheck | null;
}

export interface ExpectedCheck {
  id: string;
  title: string;
}

/** What a preventive check runs (main/core/diagnostics plannedChecks), until a run says otherwise. */
export const PREVENTIVE_CHECKS: readonly ExpectedCheck[] = [
  { id: 'credentials', title: 'Credentials valid' },
  { id: 'ssm-endpoint', title: 'SSM endpoint reachable' },
  { id: 'instance', title: 'Instance registered and online' },
  { id: 'agent-version', title: 'SSM agent version' },
  { id: 'start-session', title: 'Permission to start a session' },
  { id: 'data-channel', title: 'Data-channel endpoint reachable' },
  { id: 'clock', title: 'Clock in sync' },
  { id: 'proxy', title: 'Proxy settings' },
];

/** What a full diagnosis adds. */
export const FULL_EXTRA_CHECKS: readonly ExpectedCheck[] = [
  { id: 'region-latency', title: 'Region latency' },
  { id: 'resources', title: 'Local resources' },
  { id: 'store', title: 'History store health' },
  { id: 'recent-failures', title: 'Recent session failures' },
];

const REMEMBERED_KEY = 'ec2connect.diagnostics.checks';
const LAST_INSTANCE_KEY = 'ec2connect.diagnostics.instance';

function storage(): Storage | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    return undefined;
  }
}

function rememberedKey(kind: RunKind, withInstance: boolean): string {
  return `${kind}:${withInstance ? 'instance' : 'profile'}`;
}

function loadRemembered(): Record<string, ExpectedCheck[]> {
  try {
    const raw = storage()?.getItem(REMEMBERED_KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : {};
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, ExpectedCheck[]>) : {};
  } catch {
    return {};
  }
}

/** The checks a run is expected to report, in order. */
export function expectedChecks(
  kind: RunKind,
  withInstance: boolean,
  remembered: Record<string, ExpectedCheck[]> = {},
): ExpectedCheck[] {
  const known = remembered[rememberedKey(kind, withInstance)];
  if (Array.isArray(known) && known.length > 0) return known;
  return kind === 'full' ? [...PREVENTIVE_CHECKS, ...FULL_EXTRA_CHECKS] : [...PREVENTIVE_CHECKS];
}

/** The rows shown during a run: the expected ones (pending until reported), then any others as they come. */
export function mergeRows(
  expected: readonly ExpectedCheck[],
  arrived: readonly DiagnosticCheck[],
): CheckRow[] {
  const byId = new Map(arrived.map((c) => [c.id, c]));
  const rows: CheckRow[] = expected.map((e) => {
    const c = byId.get(e.id);
    return c
      ? { id: c.id, title: c.title, status: c.status, check: c }
      : { id: e.id, title: e.title, status: 'pending', check: null };
  });
  const listed = new Set(expected.map((e) => e.id));
  for (const c of arrived)
    if (!listed.has(c.id)) rows.push({ id: c.id, title: c.title, status: c.status, check: c });
  return rows;
}

export function countStatuses(
  checks: readonly Pick<DiagnosticCheck, 'status'>[],
): DiagnosticReport['summary'] {
  const summary = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) summary[c.status]++;
  return summary;
}

export const useDiagnosticsStore = defineStore('diagnostics', () => {
  const app = useAppStore();

  const instanceId = ref<string | null>(storage()?.getItem(LAST_INSTANCE_KEY) ?? null);
  const running = ref<RunKind | null>(null);
  /** The kind of the run shown (in progress, or the report's). */
  const kind = ref<RunKind | null>(null);
  /** The instance of the run shown. */
  const runInstanceId = ref<string | null>(null);
  const arrived = ref<DiagnosticCheck[]>([]);
  const expected = shallowRef<ExpectedCheck[]>([]);
  const report = shallowRef<DiagnosticReport | null>(null);
  const error = ref<string | null>(null);
  /** Bumped by openFor: the view focuses its run button. */
  const openRequest = ref(0);
  let remembered = loadRemembered();
  let seq = 0;

  const rows = computed<CheckRow[]>(() => {
    if (running.value) return mergeRows(expected.value, arrived.value);
    if (report.value)
      return report.value.checks.map((c) => ({ id: c.id, title: c.title, status: c.status, check: c }));
    // A failed run keeps what it reported.
    return arrived.value.map((c) => ({ id: c.id, title: c.title, status: c.status, check: c }));
  });

  const summary = computed(() => report.value?.summary ?? countStatuses(arrived.value));
  const pendingCount = computed(() => rows.value.filter((r) => r.status === 'pending').length);

  function choose(id: string | null): void {
    instanceId.value = id;
    try {
      if (id) storage()?.setItem(LAST_INSTANCE_KEY, id);
    } catch {
      // not remembered
    }
  }

  function remember(r: DiagnosticReport): void {
    remembered = {
      ...remembered,
      [rememberedKey(r.kind, r.instanceId !== null)]: r.checks.map((c) => ({ id: c.id, title: c.title })),
    };
    try {
      storage()?.setItem(REMEMBERED_KEY, JSON.stringify(remembered));
    } catch {
      // not remembered
    }
  }

  /** Run the diagnostics (a preventive check needs an instance). Resolves with the report, or null. */
  async function run(
    runKind: RunKind,
    options: { instanceId?: string | null } = {},
  ): Promise<DiagnosticReport | null> {
    if (running.value) return null;
    const target = options.instanceId !== undefined ? options.instanceId : instanceId.value;
    if (runKind === 'preventive' && !target) {
      error.value = 'Choose an instance for a preventive check.';
      return null;
    }
    const mine = ++seq;
    running.value = runKind;
    kind.value = runKind;
    runInstanceId.value = target ?? null;
    arrived.value = [];
    report.value = null;
    error.value = null;
    expected.value = expectedChecks(runKind, !!target, remembered);
    const off = getBridge().on('diagnostics.progress', ({ check }) => {
      if (mine !== seq || !running.value) return;
      const i = arrived.value.findIndex((c) => c.id === check.id);
      if (i === -1) arrived.value = [...arrived.value, check];
      else arrived.value = arrived.value.map((c, j) => (j === i ? check : c));
    });
    try {
      const result = await getBridge().invoke(
        'diagnostics.run',
        target ? { kind: runKind, instanceId: target } : { kind: runKind },
      );
      if (mine !== seq) return null;
      report.value = result;
      remember(result);
      return result;
    } catch (err) {
      if (mine === seq) error.value = describeError(err);
      return null;
    } finally {
      off();
      if (mine === seq) running.value = null;
    }
  }

  /** Run again what was run last (same kind and instance). */
  function rerun(): Promise<DiagnosticReport | null> {
    return run(kind.value ?? 'preventive', { instanceId: runInstanceId.value });
  }

  /** Show the view with an instance chosen; `run` starts a preventive check on it. */
  function openFor(id: string, options: { run?: boolean } = {}): void {
    choose(id);
    app.showView('diagnostics');
    openRequest.value++;
    if (options.run && !running.value) void run('preventive', { instanceId: id });
  }

  /** The report as JSON (for "Copy report"). */
  function reportJson(): string | null {
    return report.value ? JSON.stringify(report.value, null, 2) : null;
  }

  return {
    instanceId,
    running,
    kind,
    runInstanceId,
    arrived,
    expected,
    report,
    error,
    openRequest,
    rows,
    summary,
    pendingCount,
    choose,
    run,
    rerun,
    openFor,
    reportJson,
  };
});
