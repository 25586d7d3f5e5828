// @vitest-environment happy-dom
/**
 * The presets store: loading and following presets.changed, save and delete (the back end's words
 * on refusal), the preset an instance of the active profile gets (the main side's rule), the
 * dialog's state, and the words used for presets and for the tabs of sessions that are not the
 * plain shell.
 */
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SessionPreset } from '../../../preload/api.js';
import { useAppStore } from '../../../renderer/stores/app.js';
import {
  describeChoice,
  describeMatch,
  sessionTitle,
  usePresetsStore,
} from '../../../renderer/stores/presets.js';
import { resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import { appInfo, instance, profileList } from '../helpers/fixtures.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

const WEB1 = 'i-0b5bb7865829a72f8';
const WEB2 = 'i-0a03534fd537d6397';

function preset(partial: Partial<SessionPreset> = {}): SessionPreset {
  return {
    id: crypto.randomUUID(),
    match: { instanceId: WEB1 },
    profile: 'sandbox',
    document: 'shell',
    createdAt: 1,
    updatedAt: 1,
    ...partial,
  };
}

describe('preset words', () => {
  it('say what a preset runs and where it applies', () => {
    expect(describeChoice(preset({ runAs: 'alice', loginShell: true, shellProfile: 'cd /srv' }))).toBe(
      'shell, as alice, login shell, shell profile',
    );
    expect(describeChoice(preset({ document: 'command', command: 'htop' }))).toBe('command: htop');
    expect(describeChoice(preset({ document: 'Team-Shell' }))).toBe('document Team-Shell');
    expect(describeMatch(preset(), (id) => (id === WEB1 ? 'web-1' : undefined))).toBe('web-1 · sandbox');
    expect(describeMatch(preset({ match: { tag: { key: 'Team', value: 'web' } }, profile: null }))).toBe(
      'tag Team=web · all profiles',
    );
  });

  it('title a tab with the user, command or document when not the plain shell', () => {
    const launch = { document: null, command: null, runAs: null, loginShell: false, preset: null };
    expect(sessionTitle('web-1', undefined)).toBe('web-1');
    expect(sessionTitle('web-1', { ...launch, runAs: 'alice', loginShell: true })).toBe('alice@web-1');
    expect(
      sessionTitle('web-1', { ...launch, document: 'AWS-StartInteractiveCommand', command: 'top' }),
    ).toBe('web-1: top');
    expect(sessionTitle('web-1', { ...launch, document: 'Team-Shell', runAs: 'bob' })).toBe(
      'bob@web-1 (Team-Shell)',
    );
    expect(sessionTitle('web-1', { ...launch, loginShell: true })).toBe('web-1 (login)');
  });
});

describe('usePresetsStore', () => {
  let bridge: FakeBridge;

  beforeEach(async () => {
    bridge = resetFakeBridge();
    setActivePinia(createPinia());
    bridge.handle('app.info', appInfo()).handle('profiles.list', profileList());
    await useAppStore().init();
  });

  afterEach(() => {
    usePresetsStore().dispose();
  });

  it('loads once, follows presets.changed, and resolves an instance’s preset as the main side does', async () => {
    const own = preset({ runAs: 'alice' });
    const tag = preset({ match: { tag: { key: 'Team', value: 'web' } }, profile: null, runAs: 'web' });
    const other = preset({ match: { instanceId: WEB2 }, profile: 'prod', runAs: 'prod' });
    bridge.handle('presets.list', { presets: [tag, own, other], problem: 'set aside' });
    const store = usePresetsStore();
    await store.init();
    await store.init();
    expect(bridge.callsTo('presets.list')).toHaveLength(1);
    expect(store.problem).toBe('set aside');
    expect(store.presetFor(instance({ instanceId: WEB1, name: 'web-1', tags: { Team: 'web' } }))?.id).toBe(
      own.id,
    );
    expect(store.presetFor(instance({ instanceId: WEB2, name: 'web-2', tags: { Team: 'web' } }))?.id).toBe(
      tag.id,
    );
    expect(store.presetFor(instance({ instanceId: WEB2, name: 'web-2', tags: {} }))).toBeUndefined();
    // The active profile's (and every profile's) first.
    expect(store.sorted.map((p) => p.id)).toEqual([tag.id, own.id, other.id]);

    bridge.emit('presets.changed', { presets: [other] });
    expect(store.presets).toEqual([other]);
    store.dispose();
    expect(bridge.listenerCount('presets.changed')).toBe(0);
  });

  it('saves and deletes, keeping the list right; a refusal keeps the back end’s words', async () => {
    bridge.handle('presets.list', { presets: [], problem: null });
    const store = usePresetsStore();
    await store.init();
    const saved = preset({ runAs: 'alice' });
    bridge.handle('presets.save', saved);
    expect(
      await store.save({
        match: { instanceId: WEB1 },
        profile: 'sandbox',
        document: 'shell',
        runAs: 'alice',
      }),
    ).toEqual(saved);
    expect(store.presets).toEqual([saved]);
    bridge.fail('presets.save', 'The run-as user "a b" contains a space, a shell metacharacter.');
    await expect(
      store.save({ match: { instanceId: WEB1 }, profile: 'sandbox', document: 'shell' }),
    ).rejects.toThrow('The run-as user "a b" contains a space, a shell metacharacter.');
    bridge.handle('presets.delete', null);
    await store.remove(saved.id);
    expect(store.presets).toEqual([]);
    expect(bridge.callsTo('presets.delete')).toEqual([{ id: saved.id }]);
  });

  it('opens the dialog to connect or to edit, and closes it', () => {
    bridge.handle('presets.list', { presets: [], problem: null });
    const store = usePresetsStore();
    const web1 = instance({ instanceId: WEB1, name: 'web-1' });
    store.openConnect(web1);
    expect(store.dialog).toEqual({ mode: 'connect', instance: web1 });
    const p = preset();
    store.openEdit(p);
    expect(store.dialog).toEqual({ mode: 'edit', preset: p });
    store.closeDialog();
    expect(store.dialog).toBeNull();
  });
});
