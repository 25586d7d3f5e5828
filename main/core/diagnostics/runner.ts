/**
 * Runs diagnostic checks: independent ones in parallel (`parallel` at a time), each with its own
 * deadline, in the order their dependencies allow. A check past its deadline is reported as
 * failed ("did not finish within N s") at once, and its signal is aborted so that its sockets,
 * requests and timers are released; the run then waits (briefly) for such abandoned work to wind
 * down before it resolves, so a caller may dispose of what the checks used.
 */
import type { DiagnosticCheck } from '../../../preload/api.js';
import type { CheckContext, CheckResult, CheckSpec, CompletedCheck } from './types.js';
import { formatSeconds } from './format.js';

export const DEFAULT_PARALLEL = 4;
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Longest wait, after the last result, for abandoned checks to release what they hold. */
const DEFAULT_SETTLE_MS = 2_000;

export interface RunChecksOptions {
  /** Checks running at once (default 4). */
  parallel?: number;
  /** Deadline of each check, from when it starts (default 10 s). */
  timeoutMs?: number;
  /** Each check as it finishes (skipped ones included), in the order they finish. */
  onCheck?: (check: DiagnosticCheck) => void;
  /** Each check as it starts running. */
  onStart?: (id: string, title: string) => void;
  /** Cancels the run: running checks are aborted; they and the ones not started are reported as skipped. */
  signal?: AbortSignal;
  /** How long to wait for abandoned checks to wind down before resolving (default 2 s). */
  settleMs?: number;
  now?: () => number;
}

/** The abort reason of a check that ran past its deadline. */
export class DeadlineError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`did not finish within ${formatSeconds(timeoutMs)}`);
    this.name = 'DeadlineError';
  }
}

const GENERIC_TIMEOUT_FIX =
  'Something on the way answers too slowly or not at all (network, proxy, firewall or VPN, or the service ' +
  'throttling): look at what the check was waiting for, then run it again; --timeout gives each check longer.';

/** Throws when ids repeat, a dependency is unknown, or dependencies form a cycle. */
export function validateSpecs(specs: readonly CheckSpec[]): void {
  const ids = new Set<string>();
  for (const s of specs) {
    if (ids.has(s.id)) throw new Error(`diagnostics: check "${s.id}" is defined twice`);
    ids.add(s.id);
  }
  for (const s of specs) {
    for (const d of [...(s.requires ?? []), ...(s.after ?? [])]) {
      if (!ids.has(d)) throw new Error(`diagnostics: check "${s.id}" depends on unknown check "${d}"`);
    }
  }
  const byId = new Map(specs.map((s) => [s.id, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): void => {
    const st = state.get(id);
    if (st === 'done') return;
    if (st === 'visiting') throw new Error(`diagnostics: dependency cycle ${[...path, id].join(' -> ')}`);
    state.set(id, 'visiting');
    const s = byId.get(id)!;
    for (const d of [...(s.requires ?? []), ...(s.after ?? [])]) visit(d, [...path, id]);
    state.set(id, 'done');
  };
  for (const s of specs) visit(s.id, []);
}

function clampInt(value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || !Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, Math.floor(value)));
}

/** Run the checks; resolves with one result per spec, in the specs' order. Never rejects for a check's failure. */
export async function runChecks(
  specs: readonly CheckSpec[],
  options: RunChecksOptions = {},
): Promise<CompletedCheck[]> {
  validateSpecs(specs);
  const parallel = clampInt(options.parallel, DEFAULT_PARALLEL, 1, 64);
  const timeoutMs = Math.max(1, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const now = options.now ?? (() => performance.now());
  const settleMs = Math.max(0, options.settleMs ?? DEFAULT_SETTLE_MS);
  const done = new Map<string, CompletedCheck>();
  const pending = [...specs];
  const abandoned: Array<{ work: Promise<unknown>; graceMs: number }> = [];
  const running = new Map<string, { cancel: () => void }>();
  const titleOf = new Map(specs.map((s) => [s.id, s.title]));

  return new Promise<CompletedCheck[]>((resolveRun) => {
    let finished = false;

    const complete = (spec: CheckSpec, result: CheckResult, durationMs: number): void => {
      if (done.has(spec.id)) return;
      const check: CompletedCheck = {
        id: spec.id,
        title: spec.title,
        status: result.status,
        figure: result.figure,
        detail: result.detail,
        fix: result.status === 'pass' ? null : result.fix,
        durationMs: Math.max(0, Math.round(durationMs * 10) / 10),
        ...(result.data !== undefined ? { data: result.data } : {}),
      };
      done.set(spec.id, check);
      running.delete(spec.id);
      if (options.onCheck) {
        const { data: _data, ...visible } = check;
        try {
          options.onCheck(visible);
        } catch {
          // a listener's error must not stop the run
        }
      }
      pump();
    };

    const cancelled = (): boolean => options.signal?.aborted === true;

    const skipReason = (spec: CheckSpec): string | undefined => {
      for (const dep of spec.requires ?? []) {
        const r = done.get(dep)!;
        if (r.status === 'pass' || r.status === 'warn') continue;
        const title = titleOf.get(dep) ?? dep;
        return r.status === 'skip'
          ? `Not checked: it needs "${title}", which was skipped.`
          : `Not checked: it needs "${title}", which failed (${r.figure ?? lowerFirst(r.detail.replace(/\.$/, ''))}).`;
      }
      return undefined;
    };

    const start = (spec: CheckSpec): void => {
      const ac = new AbortController();
      const t0 = now();
      let step = '';
      let settled = false;
      // What the check is doing; kept (after a deadline or cancel) until it has wound down.
      let work: Promise<unknown> = Promise.resolve();
      const ctx: CheckContext = {
        signal: ac.signal,
        remainingMs: () => Math.max(0, timeoutMs - (now() - t0)),
        step: (what) => {
          step = what;
        },
        result: <T>(id: string) => done.get(id) as CompletedCheck<T> | undefined,
      };
      const finish = (result: CheckResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onCancel);
        complete(spec, result, now() - t0);
      };
      const onCancel = (): void => {
        if (settled) return;
        ac.abort(options.signal?.reason);
        abandoned.push({ work, graceMs: spec.graceMs ?? settleMs });
        finish({ status: 'skip', figure: null, detail: 'Cancelled before it finished.', fix: null });
      };
      const timer = setTimeout(() => {
        if (settled) return;
        const err = new DeadlineError(timeoutMs);
        ac.abort(err);
        abandoned.push({ work, graceMs: spec.graceMs ?? settleMs });
        finish({
          status: 'fail',
          figure: err.message,
          detail: step
            ? `It was still ${step} after ${formatSeconds(timeoutMs)}; that work was stopped.`
            : `It did not finish within ${formatSeconds(timeoutMs)}; its work was stopped.`,
          fix: spec.timeoutFix ?? GENERIC_TIMEOUT_FIX,
        });
      }, timeoutMs);
      options.signal?.addEventListener('abort', onCancel, { once: true });
      running.set(spec.id, { cancel: onCancel });
      try {
        options.onStart?.(spec.id, spec.title);
      } catch {
        // a listener's error must not stop the run
      }
      if (settled) return; // cancelled from onStart
      try {
        work = spec.run(ctx).then(
          (r) => finish(r),
          (err: unknown) => {
            if (ac.signal.aborted) return; // already reported (deadline or cancel)
            finish({
              status: 'fail',
              figure: null,
              detail: `The check could not run: ${(err as Error)?.message ?? String(err)}`,
              fix: 'This is a fault in EC2 Connect; please report it with this message.',
            });
          },
        );
      } catch (err) {
        work = Promise.resolve();
        finish({
          status: 'fail',
          figure: null,
          detail: `The check could not run: ${(err as Error)?.message ?? String(err)}`,
          fix: 'This is a fault in EC2 Connect; please report it with this message.',
        });
      }
    };

    let pumping = false;
    let again = false;
    const pump = (): void => {
      if (finished) return;
      // complete() calls pump() again; run the loop once more instead of nesting.
      if (pumping) {
        again = true;
        return;
      }
      pumping = true;
      try {
        do {
          again = false;
          schedule();
        } while (again);
      } finally {
        pumping = false;
      }
      if (!finished && pending.length === 0 && running.size === 0 && done.size === specs.length) {
        finished = true;
        options.signal?.removeEventListener('abort', pump);
        void settle().then(() => resolveRun(specs.map((s) => done.get(s.id)!)));
      }
    };

    const schedule = (): void => {
      if (cancelled()) {
        for (const r of [...running.values()]) r.cancel();
        for (const spec of pending.splice(0)) {
          complete(
            spec,
            { status: 'skip', figure: null, detail: 'Cancelled before it started.', fix: null },
            0,
          );
        }
        return;
      }
      for (let i = 0; i < pending.length;) {
        const spec = pending[i]!;
        const deps = [...(spec.requires ?? []), ...(spec.after ?? [])];
        if (!deps.every((d) => done.has(d))) {
          i++;
          continue;
        }
        const reason = skipReason(spec);
        if (reason !== undefined) {
          pending.splice(i, 1);
          complete(spec, { status: 'skip', figure: null, detail: reason, fix: null }, 0);
          continue;
        }
        if (running.size >= parallel) {
          i++;
          continue;
        }
        pending.splice(i, 1);
        start(spec);
      }
    };

    const settle = async (): Promise<void> => {
      const timers: NodeJS.Timeout[] = [];
      await Promise.all(
        abandoned.map(({ work, graceMs }) =>
          Promise.race([
            work.then(
              () => undefined,
              () => undefined,
            ),
            new Promise<void>((r) => {
              const t = setTimeout(r, graceMs);
              t.unref?.();
              timers.push(t);
            }),
          ]),
        ),
      );
      for (const t of timers) clearTimeout(t);
    };

    if (specs.length === 0) {
      finished = true;
      resolveRun([]);
      return;
    }
    options.signal?.addEventListener('abort', pump, { once: true });
    pump();
  });
}

function lowerFirst(s: string): string {
  return s.length > 1 && /^[A-Z][a-z]/.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s;
}
