// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import ProfileSwitcher from '../../../renderer/components/ProfileSwitcher.vue';
import { useAppStore } from '../../../renderer/stores/app.js';
import { useNoticesStore } from '../../../renderer/stores/notices.js';
import { deferred, flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';
import { appInfo, profileList } from '../helpers/fixtures.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

let bridge: FakeBridge;

beforeEach(() => {
  bridge = resetFakeBridge();
  setActivePinia(createPinia());
  bridge.handle('app.info', appInfo()).handle('profiles.list', profileList());
});

async function mountSwitcher() {
  await useAppStore().init();
  const w = mount(ProfileSwitcher, { attachTo: document.body });
  await flush();
  return w;
}

describe('ProfileSwitcher', () => {
  it('offers the profiles with their kind, and the regions', async () => {
    const w = await mountSwitcher();
    const options = w.findAll('[data-testid="profile-select"] option').map((o) => o.text());
    expect(options).toEqual(['sandbox (built-in)', 'prod (sso)', 'dev (static)']);
    expect((w.find('[data-testid="profile-select"]').element as HTMLSelectElement).value).toBe('sandbox');
    expect(w.findAll('[data-testid="region-select"] option').map((o) => o.text())).toEqual([
      'us-east-1',
      'eu-west-1',
      'us-west-2',
    ]);
  });

  it('switches profile (with its own region) and region', async () => {
    bridge.handle('profiles.select', (r) => appInfo(r.profile, r.region ?? 'us-east-1'));
    const w = await mountSwitcher();
    await w.find('[data-testid="profile-select"]').setValue('prod');
    await flush();
    await w.find('[data-testid="region-select"]').setValue('us-west-2');
    await flush();
    expect(bridge.callsTo('profiles.select')).toEqual([
      { profile: 'prod', region: 'eu-west-1' },
      { profile: 'prod', region: 'us-west-2' },
    ]);
    expect(useAppStore().activeKey).toBe('prod us-west-2');
  });

  it('shows a refused switch clearly and goes back to the active profile', async () => {
    bridge.fail(
      'profiles.select',
      'Token is expired. To refresh this SSO session run aws sso login',
      'TokenProviderError',
    );
    const w = await mountSwitcher();
    await w.find('[data-testid="profile-select"]').setValue('prod');
    await flush();
    expect(w.find('[data-testid="profile-error"]').text()).toContain(
      'TokenProviderError: Token is expired. To refresh this SSO session run aws sso login',
    );
    expect((w.find('[data-testid="profile-select"]').element as HTMLSelectElement).value).toBe('sandbox');
    expect(useNoticesStore().toasts[0]).toMatchObject({ title: 'Profile not switched', tone: 'bad' });
    await w.find('[data-testid="profile-error"] button').trigger('click');
    expect(w.find('[data-testid="profile-error"]').exists()).toBe(false);
  });

  it('shows config warnings', async () => {
    bridge.handle('profiles.list', {
      ...profileList(),
      warnings: ['~/.aws/config line 12: profile [broken] has no region'],
    });
    const w = await mountSwitcher();
    await w.find('[data-testid="profile-warnings"]').trigger('click');
    expect(w.find('[data-testid="profile-warning-list"]').text()).toContain('profile [broken] has no region');
    document.body.dispatchEvent(new Event('pointerdown', { bubbles: true }));
    await flush();
    expect(w.find('[data-testid="profile-warning-list"]').exists()).toBe(false);
  });

  it('still shows the active profile when profiles.list fails', async () => {
    bridge.fail('profiles.list', 'cannot read ~/.aws/config', 'EACCES');
    const w = await mountSwitcher();
    expect(w.findAll('[data-testid="profile-select"] option').map((o) => o.text())).toEqual([
      'sandbox (built-in)',
    ]);
    expect(w.find('[data-testid="profiles-error"]').text()).toContain('EACCES: cannot read ~/.aws/config');
  });
});

describe('ProfileSwitcher: SSO sign-in', () => {
  it('offers Sign in for an active SSO profile, with progress, and says when it worked', async () => {
    bridge
      .handle('app.info', appInfo('prod', 'eu-west-1'))
      .handle('profiles.list', profileList('prod', 'eu-west-1'));
    const login = deferred<{ profile: string; expiresAt: string | null }>();
    bridge.handle('profiles.login', () => login.promise);
    const w = await mountSwitcher();
    const button = w.find('[data-testid="profile-sign-in"]');
    expect(button.attributes('data-profile')).toBe('prod');
    await button.trigger('click');
    await flush();
    expect(bridge.callsTo('profiles.login')).toEqual([{ profile: 'prod' }]);
    expect(w.find('[data-testid="profile-sign-in"]').text()).toBe('Signing in…');
    expect(w.find('[data-testid="profile-sign-in"]').attributes('disabled')).toBeDefined();
    login.resolve({ profile: 'prod', expiresAt: '2026-11-25T20:00:00.000Z' });
    await flush();
    expect(w.find('[data-testid="profile-sign-in"]').text()).toBe('Sign in');
    expect(useNoticesStore().toasts.at(-1)).toMatchObject({ title: 'Signed in' });
    // The active profile's instances are listed again (a failure before the sign-in no longer holds).
    expect(bridge.callsTo('instances.list')).toEqual([{ refresh: true }]);
  });

  it('shows a failed sign-in next to the selects', async () => {
    bridge
      .handle('app.info', appInfo('prod', 'eu-west-1'))
      .handle('profiles.list', profileList('prod', 'eu-west-1'));
    bridge.fail('profiles.login', 'The sign-in was not approved before the code expired.', 'SsoLoginError');
    const w = await mountSwitcher();
    await w.find('[data-testid="profile-sign-in"]').trigger('click');
    await flush();
    expect(w.find('[data-testid="profile-login-error"]').text()).toContain(
      'Sign-in failed: SsoLoginError: The sign-in was not approved before the code expired.',
    );
    await w.find('[data-testid="profile-login-error"] button').trigger('click');
    expect(w.find('[data-testid="profile-login-error"]').exists()).toBe(false);
  });

  it('has no Sign in for other kinds of profile', async () => {
    const w = await mountSwitcher();
    expect(w.find('[data-testid="profile-sign-in"]').exists()).toBe(false);
  });

  it('offers Sign in after a refused switch to an SSO profile, then switches', async () => {
    bridge.fail(
      'profiles.select',
      'Token is expired. To refresh this SSO session run aws sso login',
      'TokenProviderError',
    );
    bridge.handle('profiles.login', { profile: 'prod', expiresAt: null });
    const w = await mountSwitcher();
    await w.find('[data-testid="profile-select"]').setValue('prod');
    await flush();
    const button = w.find('[data-testid="profile-sign-in"]');
    expect(button.attributes('data-profile')).toBe('prod');
    bridge.handle('profiles.select', (r) => appInfo(r.profile, r.region ?? 'us-east-1'));
    await button.trigger('click');
    await flush();
    expect(bridge.callsTo('profiles.login')).toEqual([{ profile: 'prod' }]);
    expect(bridge.callsTo('profiles.select').at(-1)).toEqual({ profile: 'prod', region: 'eu-west-1' });
    expect(useAppStore().activeKey).toBe('prod eu-west-1');
    expect(w.find('[data-testid="profile-error"]').exists()).toBe(false);
  });
});
