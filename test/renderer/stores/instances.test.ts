// @vitest-environment happy-dom
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  connectBlocker,
  filterInstances,
  indexInstance,
  parseFilter,
  sortInstances,
  useInstancesStore,
} from '../../../renderer/stores/instances.js';
import { useAppStore } from '../../../renderer/stores/app.js';
import { FLEET, appInfo, instance, instanceList, profileList } from '../helpers/fixtures.js';
import { deferred, flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import type { InstanceList } from '../../../preload/api.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

const entries = sortInstances(FLEET).map(indexInstance);
const names = (
  text: string,
  state: 'all' | 'running' | 'stopped' = 'all',
  connectableOnly = false,
): string[] => filterInstances(entries, text, { state, connectableOnly }).map((e) => e.instance.name);

describe('connectBlocker', () => {
  it('uses unavailableReason when present, else derives one', () => {
    expect(connectBlocker(instance({ instanceId: 'i-00000001', name: 'a' }))).toBeNull();
    expect(
      connectBlocker(
        instance({ instanceId: 'i-00000001', name: 'a', unavailableReason: 'the instance is stopped' }),
      ),
    ).toBe('the instance is stopped');
    expect(connectBlocker(instance({ instanceId: 'i-00000001', name: 'a', state: 'stopped' }))).toBe(
      'stopped',
    );
    expect(
      connectBlocker(instance({ instanceId: 'i-00000001', name: 'a', pingStatus: 'ConnectionLost' })),
    ).toBe('SSM agent ConnectionLost');
    expect(
      connectBlocker(instance({ instanceId: 'i-00000001', name: 'a', pingStatus: 'NotRegistered' })),
    ).toBe('not managed by SSM');
  });
});

describe('parseFilter', () => {
  it('splits words, key=value and tag:key=value terms, case-insensitively', () => {
    expect(parseFilter('  Web  tag:Env=Prod Team=web tag:Owner "two words" ')).toEqual({
      words: ['web', 'two words'],
      tags: [
        { key: 'env', value: 'prod', pattern: null },
        { key: 'team', value: 'web', pattern: null },
        { key: 'owner', value: null, pattern: null },
      ],
    });
  });

  it('turns * into a whole-value wildcard', () => {
    const { tags } = parseFilter('Environment=st*g');
    expect(tags[0]!.pattern!.test('staging')).toBe(true);
    expect(tags[0]!.pattern!.test('xstaging')).toBe(false);
  });
});

describe('filterInstances', () => {
  it('matches name, id, platform and private IP', () => {
    expect(names('web')).toEqual(['web-1', 'web-2', 'win-build-1']); // win-build-1 has Team=web
    expect(names('i-022e45')).toEqual(['api-1']);
    expect(names('ubuntu')).toEqual(['api-1']);
    expect(names('windows')).toEqual(['win-build-1']);
    expect(names('10.0.4.32')).toEqual(['db-replica']);
    expect(names('10.1.')).toEqual(['ftp-legacy', 'worker-2']);
  });

  it('matches plain words against tag values, and key=value against one tag', () => {
    expect(names('staging')).toEqual(['ftp-legacy', 'worker-2']);
    expect(names('Environment=prod')).toEqual(['api-1', 'db-replica', 'web-1', 'web-2']);
    expect(names('tag:environment=PROD team=web')).toEqual(['web-1', 'web-2']);
    expect(names('role=platform')).toEqual([]); // platform is a Team, not a Role
    expect(names('role=data')).toEqual(['db-replica']); // values match by substring (database)
    expect(names('tag:Note')).toEqual(['ftp-legacy']);
    expect(names('Environment=st*')).toEqual(['ftp-legacy', 'worker-2']);
    expect(names('Missing=x')).toEqual([]);
  });

  it('needs every word to match (AND) and never matches across fields', () => {
    expect(names('prod database')).toEqual(['db-replica']);
    expect(names('prod staging')).toEqual([]);
    expect(names('web-1i-0b')).toEqual([]);
  });

  it('filters by state and connectable only', () => {
    expect(names('', 'stopped')).toEqual(['worker-2']);
    expect(names('', 'running')).not.toContain('worker-2');
    expect(names('', 'all', true)).toEqual(['api-1', 'web-1', 'web-2', 'win-build-1']);
    expect(names('prod', 'running', true)).toEqual(['api-1', 'web-1', 'web-2']);
  });

  it('stays fast for 5,000 instances', () => {
    const many = Array.from({ length: 5000 }, (_, i) =>
      instance({
        instanceId: `i-${i.toString(16).padStart(17, '0')}`,
        name: `node-${i}`,
        privateIpAddress: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        tags: { Name: `node-${i}`, Environment: i % 3 === 0 ? 'prod' : 'dev', Team: `team-${i % 17}` },
      }),
    );
    const start = performance.now();
    const indexed = sortInstances(many).map(indexInstance);
    const indexMs = performance.now() - start;
    const t0 = performance.now();
    let matched = 0;
    for (const text of ['n', 'no', 'nod', 'node-4', 'node-49', 'env=prod team-3', '10.0.1']) {
      matched += filterInstances(indexed, text, { state: 'all', connectableOnly: false }).length;
    }
    const perFilterMs = (performance.now() - t0) / 7;
    expect(matched).toBeGreaterThan(0);
    expect(indexed[1]!.instance.name).toBe('node-1'); // natural order: node-1 before node-10
    expect(perFilterMs).toBeLessThan(25);
    expect(indexMs).toBeLessThan(500);
  });
});

describe('sortInstances', () => {
  it('sorts by name in natural order, unnamed last', () => {
    const sorted = sortInstances([
      instance({ instanceId: 'i-0000000a', name: 'web-10' }),
      instance({ instanceId: 'i-0000000b', name: '' }),
      instance({ instanceId: 'i-0000000c', name: 'Web-2' }),
      instance({ instanceId: 'i-0000000d', name: 'api' }),
    ]);
    expect(sorted.map((i) => i.name)).toEqual(['api', 'Web-2', 'web-10', '']);
  });
});

describe('useInstancesStore', () => {
  let bridge: FakeBridge;

  beforeEach(() => {
    bridge = resetFakeBridge();
    setActivePinia(createPinia());
    bridge.handle('app.info', appInfo()).handle('profiles.list', profileList());
  });

  it('lists, sorts and indexes the active profile’s instances', async () => {
    bridge.handle('instances.list', instanceList());
    const store = useInstancesStore();
    await store.load();
    expect(store.entries.map((e) => e.instance.name)).toEqual([
      'api-1',
      'db-replica',
      'ftp-legacy',
      'web-1',
      'web-2',
      'win-build-1',
      'worker-2',
    ]);
    expect(store.counts).toEqual({ all: 7, running: 6, stopped: 1, connectable: 4 });
    expect(store.fetchedAt).toBe('2026-11-25T12:00:00.000Z');
    store.filterText = 'prod';
    store.connectableOnly = true;
    expect(store.filtered.map((e) => e.id)).toEqual([
      'i-022e45fccb4896048',
      'i-0b5bb7865829a72f8',
      'i-0a03534fd537d6397',
    ]);
  });

  it('asks for a refresh when told to', async () => {
    bridge.handle('instances.list', instanceList());
    const store = useInstancesStore();
    await store.refresh();
    expect(bridge.callsTo('instances.list')).toEqual([{ refresh: true }]);
  });

  it('drops a list that answers after a switch to another profile', async () => {
    const app = useAppStore();
    await app.init();
    const slow = deferred<InstanceList>();
    const answers = [slow.promise];
    bridge.handle('instances.list', () => answers.shift() ?? instanceList([FLEET[0]!], 'prod', 'eu-west-1'));
    bridge.handle('profiles.select', appInfo('prod', 'eu-west-1'));
    const store = useInstancesStore();

    const first = store.load(); // for sandbox, held back
    await app.selectProfile('prod', 'eu-west-1'); // the store lists again for prod
    await flush();
    expect(store.entries.map((e) => e.instance.name)).toEqual(['web-1']);

    slow.resolve(instanceList()); // the sandbox answer arrives late
    await first;
    expect(store.entries.map((e) => e.instance.name)).toEqual(['web-1']);
    expect(store.listKey).toBe('prod eu-west-1');
    expect(store.loading).toBe(false);
  });

  it('keeps the newest answer when two loads of the same profile cross', async () => {
    const app = useAppStore();
    await app.init();
    const first = deferred<InstanceList>();
    const second = deferred<InstanceList>();
    const answers = [first.promise, second.promise];
    bridge.handle('instances.list', () => answers.shift()!);
    const store = useInstancesStore();
    const a = store.load();
    const b = store.load();
    second.resolve(instanceList([FLEET[1]!]));
    await b;
    first.resolve(instanceList([FLEET[0]!]));
    await a;
    expect(store.entries.map((e) => e.instance.name)).toEqual(['web-2']);
  });

  it('lists again when app.profileChanged reports another region', async () => {
    const app = useAppStore();
    await app.init();
    let region = 'us-east-1';
    bridge.handle('instances.list', () =>
      instanceList(region === 'us-east-1' ? FLEET : [FLEET[2]!], 'sandbox', region),
    );
    const store = useInstancesStore();
    await store.load();
    expect(store.entries).toHaveLength(7);

    region = 'us-west-2';
    bridge.emit('app.profileChanged', appInfo('sandbox', 'us-west-2'));
    await flush();
    expect(bridge.callsTo('instances.list')).toHaveLength(2);
    expect(store.entries.map((e) => e.instance.name)).toEqual(['api-1']);
  });

  it('reports errors as errorName: detail, and clears them on success', async () => {
    bridge.fail('instances.list', 'Rate exceeded', 'ThrottlingException');
    const store = useInstancesStore();
    await store.load();
    expect(store.error).toBe('ThrottlingException: Rate exceeded');
    expect(store.loadedOnce).toBe(true);
    bridge.handle('instances.list', instanceList());
    await store.refresh();
    expect(store.error).toBeNull();
    expect(store.entries).toHaveLength(7);
  });
});
