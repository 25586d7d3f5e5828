/**
 * The resource governor: from each sample of EC2 Connect's own processes (memory and CPU), a
 * graded level and what the app should do about it. Each level includes the actions of the ones
 * before it:
 *
 * | level     | when (use over limit = the higher of memory and averaged CPU)        | action                                   |
 * |-----------|----------------------------------------------------------------------|------------------------------------------|
 * | `warn`    | at 85 % of a limit (CPU: averaged over the last 3 samples)          | tell the user (toast, log)               |
 * | `slow-ui` | at the limit                                                         | slower UI updates; low-power mode (auto) |
 * | `trim`    | over it for 2 samples in a row, or at 115 %                          | trim background tabs' scrollback         |
 * | `refuse`  | over it for 4 samples in a row, or at 130 %                          | refuse new sessions, saying why          |
 *
 * Levels go up at once and come down only after the use stayed below 90 % of the level's
 * threshold for two samples (hysteresis, so a use that hovers at a limit does not flap).
 * Nothing here ever closes a session: the worst the governor does is refuse new ones.
 *
 * Pure state: it is fed samples (`observe`) and battery changes; timers and effects belong to
 * the ResourceMonitor that owns it.
 */
import type { GovernorChange, GovernorLevel, GovernorState, LowPowerReason } from '../../../preload/api.js';
import type { EffectiveLimits } from './limits.js';

export const LEVELS: readonly GovernorLevel[] = ['normal', 'warn', 'slow-ui', 'trim', 'refuse'];

export const THRESHOLDS = {
  warn: 0.85,
  limit: 1.0,
  trimAt: 1.15,
  refuseAt: 1.3,
  trimAfterSamples: 2,
  refuseAfterSamples: 4,
  recoverSamples: 2,
  hysteresis: 0.9,
  /** CPU is averaged over this many samples (one busy second is not a problem). */
  cpuWindow: 3,
} as const;

/** What the UI does at each level (the renderer follows GovernorState.ui). */
export const UI_POLICY = {
  baseUpdateMs: 1000,
  slowUpdateMs: 2000,
  lowPowerUpdateMs: 3000,
  backgroundScrollback: 1000,
} as const;

export interface GovernorInput {
  /** Resident memory of the governed processes, bytes. */
  memoryBytes: number;
  /** CPU of the governed processes as a share of the machine (all cores = 100). */
  cpuPercent: number;
}

const rank = (level: GovernorLevel): number => LEVELS.indexOf(level);

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${Math.round(n / 1024 ** 2)} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} B`;
}

export class Governor {
  private level: GovernorLevel = 'normal';
  private since: number;
  private overStreak = 0;
  private recoverStreak = 0;
  private cpuWindow: number[] = [];
  private memoryBytes = 0;
  private cpuPercent = 0;
  private pressure: number | null = null;
  private reason: string | null = null;
  private onBattery = false;

  constructor(
    private limits: EffectiveLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.since = now();
  }

  get currentLevel(): GovernorLevel {
    return this.level;
  }

  get refusing(): boolean {
    return this.level === 'refuse';
  }

  /** New limits (settings changed): judged again at the next sample. Returns the change of low-power state, if any. */
  setLimits(limits: EffectiveLimits): GovernorChange | null {
    const before = this.lowPowerActive();
    this.limits = limits;
    if (this.pressure !== null || limits.maxMemoryMb > 0 || limits.maxCpuPercent > 0) {
      // Re-judge the last figures against the new limits right away (a raised limit ends a refusal now).
      return this.judge(true) ?? this.lowPowerChange(before);
    }
    return this.lowPowerChange(before);
  }

  setOnBattery(onBattery: boolean): GovernorChange | null {
    if (onBattery === this.onBattery) return null;
    const before = this.lowPowerActive();
    this.onBattery = onBattery;
    return this.lowPowerChange(before);
  }

  /** Feed one sample; returns the change of level (or of low-power state) it caused, if any. */
  observe(input: GovernorInput): GovernorChange | null {
    this.memoryBytes = Math.max(0, Math.round(input.memoryBytes));
    this.cpuWindow.push(Math.max(0, input.cpuPercent));
    if (this.cpuWindow.length > THRESHOLDS.cpuWindow) this.cpuWindow.shift();
    this.cpuPercent = this.cpuWindow.reduce((a, b) => a + b, 0) / this.cpuWindow.length;
    return this.judge(false);
  }

  private judge(limitsChanged: boolean): GovernorChange | null {
    const lowPowerBefore = this.lowPowerActive();
    const memLimit = this.limits.maxMemoryMb > 0 ? this.limits.maxMemoryMb * 1024 * 1024 : null;
    const cpuLimit = this.limits.maxCpuPercent > 0 ? this.limits.maxCpuPercent : null;
    const memRatio = memLimit ? this.memoryBytes / memLimit : null;
    // CPU is judged on a full window only: a process's first readings (start-up work, or
    // pidusage's lifetime average on a first call) say nothing about its load now.
    const cpuJudged = this.cpuWindow.length >= THRESHOLDS.cpuWindow;
    const cpuRatio = cpuLimit && cpuJudged ? this.cpuPercent / cpuLimit : null;
    const pressure = memRatio === null && cpuRatio === null ? null : Math.max(memRatio ?? 0, cpuRatio ?? 0);
    this.pressure = pressure;
    const r = pressure ?? 0;
    const byMemory = (memRatio ?? -1) >= (cpuRatio ?? -1);

    if (!limitsChanged) {
      if (r >= THRESHOLDS.limit) this.overStreak++;
      else this.overStreak = 0;
    } else if (r < THRESHOLDS.limit) {
      this.overStreak = 0;
    }

    const target: GovernorLevel =
      r >= THRESHOLDS.refuseAt || (r >= THRESHOLDS.limit && this.overStreak >= THRESHOLDS.refuseAfterSamples)
        ? 'refuse'
        : r >= THRESHOLDS.trimAt || (r >= THRESHOLDS.limit && this.overStreak >= THRESHOLDS.trimAfterSamples)
          ? 'trim'
          : r >= THRESHOLDS.limit
            ? 'slow-ui'
            : r >= THRESHOLDS.warn
              ? 'warn'
              : 'normal';

    let next = this.level;
    if (rank(target) > rank(this.level)) {
      next = target;
      this.recoverStreak = 0;
    } else if (rank(target) < rank(this.level)) {
      // Come down only when clearly below the current level's entry threshold, for long enough
      // (at once when the limits changed: the user raised them on purpose).
      const entry = this.level === 'warn' ? THRESHOLDS.warn : THRESHOLDS.limit;
      if (limitsChanged || r < entry * THRESHOLDS.hysteresis) this.recoverStreak++;
      else this.recoverStreak = 0;
      if (limitsChanged || this.recoverStreak >= THRESHOLDS.recoverSamples) {
        next = target;
        this.recoverStreak = 0;
      }
    } else {
      this.recoverStreak = 0;
    }

    this.reason = next === 'normal' ? null : this.describe(byMemory, memLimit, cpuLimit);
    if (next === this.level) return this.lowPowerChange(lowPowerBefore);
    const from = this.level;
    this.level = next;
    this.since = this.now();
    return {
      at: new Date(this.since).toISOString(),
      from,
      to: next,
      message: this.changeMessage(from, next),
    };
  }

  private describe(byMemory: boolean, memLimit: number | null, cpuLimit: number | null): string {
    if (byMemory && memLimit) {
      return `EC2 Connect uses ${formatBytes(this.memoryBytes)} of memory; its limit is ${formatBytes(memLimit)} (max_memory_mb = ${this.limits.maxMemoryMb}).`;
    }
    if (cpuLimit) {
      return `EC2 Connect uses ${this.cpuPercent.toFixed(1)} % of the machine's CPU; its limit is ${cpuLimit} % (max_cpu_percent = ${this.limits.maxCpuPercent}).`;
    }
    return 'No limit is set.';
  }

  private changeMessage(from: GovernorLevel, to: GovernorLevel): string {
    const reason = this.reason ?? '';
    if (rank(to) < rank(from)) {
      if (to === 'normal') return 'Back under the resource limits: full speed again.';
      return `Easing off (${to}): ${reason}`;
    }
    switch (to) {
      case 'warn':
        return `Close to a resource limit. ${reason}`;
      case 'slow-ui':
        return `Resource limit reached: UI updates are slowed. ${reason}`;
      case 'trim':
        return `Over the resource limit: scrollback of background tabs is trimmed to ${UI_POLICY.backgroundScrollback} lines. ${reason}`;
      case 'refuse':
        return `Over the resource limit: new sessions are refused until use falls. Open sessions keep running. ${reason}`;
      default:
        return reason;
    }
  }

  private lowPowerReasons(): LowPowerReason[] {
    const mode = this.limits.lowPower;
    if (mode === 'off') return [];
    if (mode === 'on') return [this.limits.sources.lowPower === 'env' ? 'env' : 'config'];
    const reasons: LowPowerReason[] = [];
    if (this.onBattery) reasons.push('battery');
    if (rank(this.level) >= rank('slow-ui')) reasons.push('limits');
    return reasons;
  }

  lowPowerActive(): boolean {
    return this.lowPowerReasons().length > 0;
  }

  private lowPowerChange(before: boolean): GovernorChange | null {
    const after = this.lowPowerActive();
    if (after === before) return null;
    const reasons = this.lowPowerReasons();
    return {
      at: new Date(this.now()).toISOString(),
      from: this.level,
      to: this.level,
      message: after
        ? `Low-power mode is on (${reasons.join(', ')}): longer sampling and UI intervals, simpler terminal rendering.`
        : 'Low-power mode is off.',
    };
  }

  /** The message new sessions are refused with (null while not refusing). */
  refusal(): string | null {
    if (this.level !== 'refuse') return null;
    const which =
      this.reason?.includes('max_memory_mb') === true
        ? `raise max_memory_mb in Settings > Resources (or ${'EC2_CONNECT_MAX_MEMORY_MB'})`
        : `raise max_cpu_percent in Settings > Resources (or ${'EC2_CONNECT_MAX_CPU_PERCENT'})`;
    return `New sessions are refused while EC2 Connect is over its resource limit. ${this.reason ?? ''} Close some sessions, or ${which}. Open sessions are not affected.`;
  }

  state(): GovernorState {
    const lowPower = this.lowPowerActive();
    const lvl = rank(this.level);
    return {
      level: this.level,
      pressure: this.pressure === null ? null : Math.round(this.pressure * 1000) / 1000,
      memory: {
        usedBytes: this.memoryBytes,
        limitBytes: this.limits.maxMemoryMb > 0 ? this.limits.maxMemoryMb * 1024 * 1024 : null,
      },
      cpu: {
        percent: Math.round(this.cpuPercent * 10) / 10,
        limitPercent: this.limits.maxCpuPercent > 0 ? this.limits.maxCpuPercent : null,
      },
      reason: this.reason,
      since: new Date(this.since).toISOString(),
      refusal: this.refusal(),
      lowPower: { active: lowPower, mode: this.limits.lowPower, reasons: this.lowPowerReasons() },
      ui: {
        updateIntervalMs: lowPower
          ? UI_POLICY.lowPowerUpdateMs
          : lvl >= rank('slow-ui')
            ? UI_POLICY.slowUpdateMs
            : UI_POLICY.baseUpdateMs,
        backgroundScrollback: lvl >= rank('trim') ? UI_POLICY.backgroundScrollback : null,
        economy: lowPower,
      },
      sources: {
        maxMemoryMb: this.limits.sources.maxMemoryMb,
        maxCpuPercent: this.limits.sources.maxCpuPercent,
        lowPower: this.limits.sources.lowPower,
        monitoringIntervalMs: this.limits.sources.monitoringIntervalMs,
      },
    };
  }
}
