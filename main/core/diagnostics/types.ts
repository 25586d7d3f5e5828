/**
 * The contract between the diagnostics runner and its checks. A check is a named async function
 * that gets an abort signal and a deadline, may read the results of the checks it names in
 * `requires` (which must pass or warn, else it is skipped) or `after` (which only have to be
 * finished), and returns a status, a measured figure, what it found and what to do.
 */
import type { CheckStatus, DiagnosticCheck } from '../../../preload/api.js';

export type { CheckStatus, DiagnosticCheck, DiagnosticReport, RegionLatency } from '../../../preload/api.js';

/** What a check returns. `data` is for later checks and never reaches the report. */
export interface CheckResult<T = unknown> {
  status: CheckStatus;
  /** The measured figure, e.g. `42 ms`, `agent 3.2.1582.0`, `clock 3 s ahead`; null when there is none. */
  figure: string | null;
  /** What was found, in words. */
  detail: string;
  /** What to do, in plain words; null when it passed. */
  fix: string | null;
  data?: T;
}

/** A finished check: what the report shows, plus what it handed on. */
export interface CompletedCheck<T = unknown> extends DiagnosticCheck {
  data?: T;
}

export interface CheckContext {
  /** Aborted when the check passes its deadline or the run is cancelled: stop the work it guards. */
  readonly signal: AbortSignal;
  /** Milliseconds left before the deadline (never negative). */
  remainingMs(): number;
  /** Say what the check is doing now; a check that runs past its deadline is reported with it. */
  step(what: string): void;
  /** The result of a check named in `requires` or `after` (always finished by now). */
  result<T = unknown>(id: string): CompletedCheck<T> | undefined;
}

export interface CheckSpec<T = unknown> {
  id: string;
  title: string;
  /** Checks that must pass (or warn) first; if one fails or is skipped, this one is skipped with the reason. */
  requires?: readonly string[];
  /** Checks that must only have finished first (this one reads what they found, whatever their status). */
  after?: readonly string[];
  /** The fix shown when the check runs past its deadline (a generic one otherwise). */
  timeoutFix?: string;
  /** After its deadline, how long the run still waits for it to release what it holds (default 2 s). */
  graceMs?: number;
  run(ctx: CheckContext): Promise<CheckResult<T>>;
}
