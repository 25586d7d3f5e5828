import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { connectPowerMonitor } from '../../main/app/power.js';
import { FakeWorkspace, captureLogger } from './fakes.js';

class FakePowerMonitor extends EventEmitter {
  onBattery = false;
  isOnBatteryPower(): boolean {
    return this.onBattery;
  }
}

const EVENTS = ['resume', 'unlock-screen', 'suspend', 'on-battery', 'on-ac'];

describe('connectPowerMonitor', () => {
  it('passes the current power source on at once', () => {
    const power = new FakePowerMonitor();
    power.onBattery = true;
    const workspace = new FakeWorkspace();
    connectPowerMonitor(power, workspace);
    expect(workspace.calls).toEqual(['battery:true']);
  });

  it('maps resume, unlock, suspend and the power source to the workspace', () => {
    const power = new FakePowerMonitor();
    const workspace = new FakeWorkspace();
    connectPowerMonitor(power, workspace);
    for (const event of EVENTS) power.emit(event);
    expect(workspace.calls).toEqual([
      'battery:false',
      'resume',
      'resume',
      'suspend',
      'battery:true',
      'battery:false',
    ]);
  });

  it('removes every listener on dispose (twice is harmless)', () => {
    const power = new FakePowerMonitor();
    const workspace = new FakeWorkspace();
    const other = (): void => undefined;
    power.on('resume', other);
    const dispose = connectPowerMonitor(power, workspace);
    for (const event of EVENTS) expect(power.listenerCount(event), event).toBeGreaterThan(0);
    dispose();
    dispose();
    expect(power.listenerCount('resume')).toBe(1); // someone else's stays
    for (const event of EVENTS.filter((e) => e !== 'resume'))
      expect(power.listenerCount(event), event).toBe(0);
    power.emit('suspend');
    expect(workspace.calls).toEqual(['battery:false']);
  });

  it('logs, and does not throw into Electron, when the workspace fails', () => {
    const power = new FakePowerMonitor();
    const workspace = new FakeWorkspace();
    workspace.onSystemResume = () => {
      throw new Error('boom');
    };
    const { logger, lines } = captureLogger();
    connectPowerMonitor(power, workspace, logger);
    expect(() => power.emit('resume')).not.toThrow();
    expect(lines.some((l) => l.msg === 'handling a power event failed')).toBe(true);
  });
});
