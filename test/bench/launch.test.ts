/** The CLI benchmarks' helpers: reading /proc/<pid>/status, and where the official plugin is looked for. */
import { describe, expect, it } from 'vitest';
import { findPlugin, pluginCandidates, processKb, statusFieldKb } from '../../bench/lib/launch.js';

const STATUS = 'Name:\tnode\nVmPeak:\t  900000 kB\nVmHWM:\t  150432 kB\nVmRSS:\t  148000 kB\nThreads:\t7\n';

describe('statusFieldKb', () => {
  it('reads VmRSS and VmHWM, not a field whose name only ends the same', () => {
    expect(statusFieldKb(STATUS, 'VmRSS')).toBe(148000);
    expect(statusFieldKb(STATUS, 'VmHWM')).toBe(150432);
  });

  it('is undefined when the field is absent (a zombie has no memory lines)', () => {
    expect(statusFieldKb('Name:\tnode\nState:\tZ (zombie)\n', 'VmRSS')).toBeUndefined();
  });
});

describe('processKb', () => {
  it.runIf(process.platform === 'linux')(
    'reads this process, and nothing for a pid that does not exist',
    async () => {
      expect(await processKb(process.pid, 'VmRSS')).toBeGreaterThan(1000);
      expect(await processKb(2 ** 22 + 1, 'VmRSS')).toBeUndefined();
    },
  );
});

describe('plugin lookup', () => {
  it('tries SESSION_MANAGER_PLUGIN first, then the install paths, then each PATH entry', () => {
    const c = pluginCandidates({ SESSION_MANAGER_PLUGIN: '/opt/smp', PATH: '/a/bin::/b' });
    expect(c[0]).toBe('/opt/smp');
    expect(c).toContain('/usr/local/bin/session-manager-plugin');
    expect(c.slice(-2)).toEqual(['/a/bin/session-manager-plugin', '/b/session-manager-plugin']);
  });

  it('finds an executable given by SESSION_MANAGER_PLUGIN, and skips paths that do not exist', () => {
    expect(findPlugin({ SESSION_MANAGER_PLUGIN: process.execPath, PATH: '' })).toBe(process.execPath);
    const found = findPlugin({ SESSION_MANAGER_PLUGIN: '/nonexistent/smp', PATH: '/nonexistent' });
    expect(found).not.toBe('/nonexistent/smp');
  });
});
