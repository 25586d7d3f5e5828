import { describe, expect, it } from 'vitest';
import { filterInstances, formatTable } from '../../main/cli/commands/list.js';
import type { InstanceSummary } from '../../main/core/ssm/types.js';

const inst = (over: Partial<InstanceSummary>): InstanceSummary => ({
  instanceId: 'i-0123456789abcdef0',
  name: 'web-1',
  state: 'running',
  pingStatus: 'Online',
  platform: 'Linux',
  tags: { Name: 'web-1', Environment: 'prod' },
  ...over,
});

describe('list filters', () => {
  const all = [
    inst({}),
    inst({ instanceId: 'i-1', name: 'db-primary', tags: { Name: 'db-primary', Environment: 'staging' } }),
    inst({
      instanceId: 'i-2',
      name: 'web-2',
      state: 'stopped',
      pingStatus: 'ConnectionLost',
      unavailableReason: 'the instance is stopped',
    }),
  ];
  it('by name (substring, glob, case-insensitive), tag, state and availability', () => {
    expect(filterInstances(all, { name: 'WEB' }).map((i) => i.name)).toEqual(['web-1', 'web-2']);
    expect(filterInstances(all, { name: 'w*2' }).map((i) => i.name)).toEqual(['web-2']);
    expect(filterInstances(all, { tag: ['Environment=prod'] }).map((i) => i.name)).toEqual([
      'web-1',
      'web-2',
    ]);
    expect(filterInstances(all, { tag: ['Environment=stag*'] }).map((i) => i.name)).toEqual(['db-primary']);
    expect(filterInstances(all, { state: 'stopped' }).map((i) => i.name)).toEqual(['web-2']);
    expect(filterInstances(all, { online: true }).map((i) => i.name)).toEqual(['web-1', 'db-primary']);
  });
  it('rejects a malformed tag filter with a clear message', () => {
    expect(() => filterInstances(all, { tag: ['Environment'] })).toThrow(
      /--tag must be key=value, got "Environment"/,
    );
  });
  it('formats an aligned table without the Name tag repeated', () => {
    const t = formatTable(all).split('\n');
    expect(t[0]).toMatch(/^NAME\s+INSTANCE ID\s+STATE\s+PING\s+PLATFORM\s+TAGS$/);
    expect(t[1]).toMatch(/^web-1\s+i-0123456789abcdef0\s+running\s+Online\s+Linux\s+Environment=prod$/);
  });
});
