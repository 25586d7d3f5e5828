import { describe, expect, it } from 'vitest';
import { DEFAULT_RESOURCE_SETTINGS, GovernorStateSchema } from '../../../preload/api.js';
import { Governor, UI_POLICY } from '../../../main/core/governor/governor.js';
import { limitsFromSettings, type EffectiveLimits } from '../../../main/core/governor/limits.js';

const MiB = 1024 * 1024;

function limits(
  over: Partial<typeof DEFAULT_RESOURCE_SETTINGS> = {},
  env: NodeJS.ProcessEnv = {},
): EffectiveLimits {
  return limitsFromSettings({ ...DEFAULT_RESOURCE_SETTINGS, ...over }, env);
}

function governor(over: Partial<typeof DEFAULT_RESOURCE_SETTINGS> = {}, env: NodeJS.ProcessEnv = {}) {
  let t = 1_000_000;
  const g = new Governor(limits(over, env), () => (t += 1000));
  return g;
}

describe('Governor', () => {
  it('grades memory use against max_memory_mb: warn, slow-ui, trim after 2 samples over, refuse after 4', () => {
    const g = governor({ maxMemoryMb: 100, maxCpuPercent: 0 });
    const seen: string[] = [];
    const feed = (mb: number) => {
      const change = g.observe({ memoryBytes: mb * MiB, cpuPercent: 0 });
      if (change) seen.push(`${change.from}->${change.to}`);
      return g.currentLevel;
    };
    expect(feed(50)).toBe('normal');
    expect(feed(86)).toBe('warn');
    expect(feed(101)).toBe('slow-ui');
    expect(feed(101)).toBe('trim');
    expect(feed(101)).toBe('trim');
    expect(feed(101)).toBe('refuse');
    expect(seen).toEqual(['normal->warn', 'warn->slow-ui', 'slow-ui->trim', 'trim->refuse']);
    const state = g.state();
    expect(GovernorStateSchema.parse(state)).toEqual(state);
    expect(state.refusal).toMatch(/max_memory_mb = 100/);
    expect(state.refusal).toMatch(/Open sessions are not affected/);
    expect(state.ui.backgroundScrollback).toBe(UI_POLICY.backgroundScrollback);
    expect(state.lowPower).toEqual({ active: true, mode: 'auto', reasons: ['limits'] });
  });

  it('jumps straight to refuse far over the limit, and to trim at 115 %', () => {
    const g = governor({ maxMemoryMb: 100, maxCpuPercent: 0 });
    g.observe({ memoryBytes: 116 * MiB, cpuPercent: 0 });
    expect(g.currentLevel).toBe('trim');
    g.observe({ memoryBytes: 131 * MiB, cpuPercent: 0 });
    expect(g.currentLevel).toBe('refuse');
  });

  it('comes down only after two samples clearly below the limit (hysteresis)', () => {
    const g = governor({ maxMemoryMb: 100, maxCpuPercent: 0 });
    g.observe({ memoryBytes: 140 * MiB, cpuPercent: 0 });
    expect(g.currentLevel).toBe('refuse');
    // Just under the limit is not enough: still refusing.
    g.observe({ memoryBytes: 95 * MiB, cpuPercent: 0 });
    g.observe({ memoryBytes: 95 * MiB, cpuPercent: 0 });
    g.observe({ memoryBytes: 95 * MiB, cpuPercent: 0 });
    expect(g.currentLevel).toBe('refuse');
    g.observe({ memoryBytes: 60 * MiB, cpuPercent: 0 });
    expect(g.currentLevel).toBe('refuse');
    const change = g.observe({ memoryBytes: 60 * MiB, cpuPercent: 0 });
    expect(g.currentLevel).toBe('normal');
    expect(change?.message).toMatch(/Back under the resource limits/);
    expect(g.state().refusal).toBeNull();
    expect(g.state().lowPower.active).toBe(false);
  });

  it('averages CPU over three samples, so one busy second does not trip it', () => {
    const g = governor({ maxMemoryMb: 0, maxCpuPercent: 50 });
    g.observe({ memoryBytes: 1, cpuPercent: 10 });
    g.observe({ memoryBytes: 1, cpuPercent: 10 });
    g.observe({ memoryBytes: 1, cpuPercent: 100 }); // average 40: 80 % of the limit
    expect(g.currentLevel).toBe('normal');
    g.observe({ memoryBytes: 1, cpuPercent: 100 }); // average 70: 140 %
    expect(g.currentLevel).toBe('refuse');
    expect(g.state().reason).toMatch(/max_cpu_percent = 50/);
    expect(g.refusal()).toMatch(/raise max_cpu_percent/);
  });

  it('has no level without limits, and says so', () => {
    const g = governor({ maxMemoryMb: 0, maxCpuPercent: 0 });
    g.observe({ memoryBytes: 10_000 * MiB, cpuPercent: 100 });
    expect(g.currentLevel).toBe('normal');
    expect(g.state().pressure).toBeNull();
    expect(g.state().memory.limitBytes).toBeNull();
  });

  it('applies new limits at once: a raised limit ends a refusal without waiting', () => {
    const g = governor({ maxMemoryMb: 100, maxCpuPercent: 0 });
    g.observe({ memoryBytes: 150 * MiB, cpuPercent: 0 });
    expect(g.refusing).toBe(true);
    const change = g.setLimits(limits({ maxMemoryMb: 1000, maxCpuPercent: 0 }));
    expect(change?.to).toBe('normal');
    expect(g.refusing).toBe(false);
    const back = g.setLimits(limits({ maxMemoryMb: 1, maxCpuPercent: 0 }));
    expect(back?.to).toBe('refuse');
  });

  it('turns low-power mode on by config, by environment, on battery (auto), and never when off', () => {
    const on = governor({ lowPower: 'on' });
    expect(on.state().lowPower).toEqual({ active: true, mode: 'on', reasons: ['config'] });
    expect(on.state().ui).toMatchObject({ economy: true, updateIntervalMs: UI_POLICY.lowPowerUpdateMs });

    const env = governor({}, { EC2_CONNECT_LOW_POWER_MODE: '1' });
    expect(env.state().lowPower.reasons).toEqual(['env']);
    expect(env.state().sources.lowPower).toBe('env');

    const auto = governor();
    expect(auto.state().lowPower.active).toBe(false);
    expect(auto.setOnBattery(true)?.message).toMatch(/Low-power mode is on \(battery\)/);
    expect(auto.state().lowPower.reasons).toEqual(['battery']);
    expect(auto.setOnBattery(true)).toBeNull();
    expect(auto.setOnBattery(false)?.message).toBe('Low-power mode is off.');

    const off = governor({ lowPower: 'off', maxMemoryMb: 1 });
    off.setOnBattery(true);
    off.observe({ memoryBytes: 100 * MiB, cpuPercent: 0 });
    expect(off.currentLevel).toBe('refuse');
    expect(off.state().lowPower.active).toBe(false);
    // Slower UI still, from the level itself.
    expect(off.state().ui.updateIntervalMs).toBe(UI_POLICY.slowUpdateMs);
  });

  it('never has an action that ends sessions: the worst state only refuses new ones', () => {
    const g = governor({ maxMemoryMb: 1 });
    g.observe({ memoryBytes: 10_000 * MiB, cpuPercent: 100 });
    const s = g.state();
    expect(s.level).toBe('refuse');
    expect(JSON.stringify(s)).not.toMatch(/kill|terminat|close sessions/i);
  });
});

describe('limitsFromSettings (the configuration loader applies the environment)', () => {
  it('takes EC2_CONNECT_* over the settings and records the source', () => {
    const l = limitsFromSettings(DEFAULT_RESOURCE_SETTINGS, {
      EC2_CONNECT_MAX_MEMORY_MB: '512',
      EC2_CONNECT_MAX_CPU_PERCENT: '12.5',
      EC2_CONNECT_LOW_POWER_MODE: 'off',
      EC2_CONNECT_MONITORING_INTERVAL: '500ms',
      EC2_CONNECT_PROMETHEUS_PORT: '9464',
    });
    expect(l).toMatchObject({
      maxMemoryMb: 512,
      maxCpuPercent: 12.5,
      lowPower: 'off',
      monitoringIntervalMs: 500,
      prometheusPort: 9464,
      problems: [],
    });
    expect(Object.values(l.sources)).toEqual(['env', 'env', 'env', 'env', 'env']);
  });

  it('reads monitoring intervals as 5s, 1m, or bare seconds', () => {
    const of = (v: string) =>
      limitsFromSettings(DEFAULT_RESOURCE_SETTINGS, {
        EC2_CONNECT_MONITORING_INTERVAL: v,
      }).monitoringIntervalMs;
    expect(of('5s')).toBe(5000);
    expect(of('1m')).toBe(60_000);
    expect(of('2')).toBe(2000);
  });

  it('ignores invalid values with a problem naming the variable, the value and what is allowed', () => {
    const l = limitsFromSettings(
      { ...DEFAULT_RESOURCE_SETTINGS, maxMemoryMb: 800 },
      {
        EC2_CONNECT_MAX_MEMORY_MB: 'lots',
        EC2_CONNECT_MAX_CPU_PERCENT: '150',
        EC2_CONNECT_LOW_POWER_MODE: 'sometimes',
        EC2_CONNECT_MONITORING_INTERVAL: '10ms',
      },
    );
    expect(l.maxMemoryMb).toBe(800);
    expect(l.sources.maxMemoryMb).toBe('settings');
    expect(l.problems).toHaveLength(4);
    expect(l.problems[0]).toMatch(
      /EC2_CONNECT_MAX_MEMORY_MB="lots" \(resources\.max_memory_mb\) is not valid; allowed: a whole number .*Using 800/,
    );
    expect(l.problems[1]).toMatch(/EC2_CONNECT_MAX_CPU_PERCENT="150".*from 0 to 100/);
    expect(l.problems[2]).toMatch(/auto, on\/1\/true, off\/0\/false/);
    expect(l.problems[3]).toMatch(/from 250 to 600000 \(ms\).*5s, 500ms, 1m/);
  });
});
