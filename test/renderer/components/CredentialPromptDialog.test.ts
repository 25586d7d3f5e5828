// @vitest-environment happy-dom
import { mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import CredentialPromptDialog from '../../../renderer/components/CredentialPromptDialog.vue';
import {
  mfaCodeProblem,
  normalizeMfaCode,
  timeLeft,
  useCredentialsStore,
} from '../../../renderer/stores/credentials.js';
import { useNoticesStore } from '../../../renderer/stores/notices.js';
import { mfaPrompt, ssoPrompt } from '../helpers/config-fixtures.js';
import { flush, resetFakeBridge, type FakeBridge } from '../helpers/fake-bridge.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);

let bridge: FakeBridge;
let wrapper: VueWrapper | undefined;

beforeEach(() => {
  bridge = resetFakeBridge();
  setActivePinia(createPinia());
  bridge.handle('credentials.answer', null);
  useCredentialsStore().init();
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = undefined;
  document.body.innerHTML = '';
  vi.useRealTimers();
});

async function mountDialog(): Promise<VueWrapper> {
  wrapper = mount(CredentialPromptDialog, { attachTo: document.body });
  await flush();
  return wrapper;
}

const tid = (id: string) => `[data-testid="${id}"]`;

describe('MFA codes and time left', () => {
  it('accepts 6 digits (spaces ignored) and says what is wrong otherwise', () => {
    expect(normalizeMfaCode(' 123 456 ')).toBe('123456');
    expect(mfaCodeProblem('123 456')).toBeNull();
    expect(mfaCodeProblem('')).toMatch(/6-digit/);
    expect(mfaCodeProblem('12a456')).toBe('The code is digits only.');
    expect(mfaCodeProblem('12345')).toBe('The code has 6 digits (5 entered).');
    expect(timeLeft('2026-01-01T00:10:00Z', Date.parse('2026-01-01T00:00:01Z'))).toBe('9:59');
    expect(timeLeft('2026-01-01T02:00:00Z', Date.parse('2026-01-01T00:00:00Z'))).toBe('2:00:00');
    expect(timeLeft('2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:00:01Z'))).toBeNull();
  });
});

describe('CredentialPromptDialog', () => {
  it('stays hidden without a prompt', async () => {
    const w = await mountDialog();
    expect(w.find(tid('credential-prompt')).exists()).toBe(false);
  });

  it('asks for an MFA code, checks it, and sends it', async () => {
    const w = await mountDialog();
    bridge.emit('credentials.prompt', mfaPrompt());
    await flush();
    const dialog = w.find(tid('credential-prompt'));
    expect(dialog.attributes('role')).toBe('dialog');
    expect(dialog.attributes('aria-modal')).toBe('true');
    expect(w.find(tid('prompt-profile')).text()).toBe('admin');
    expect(w.find(tid('mfa-serial')).text()).toBe('arn:aws:iam::123456789012:mfa/alice');
    const input = w.find(tid('mfa-code'));
    expect(document.activeElement).toBe(input.element);
    expect(w.find(tid('prompt-submit')).attributes('disabled')).toBeDefined();

    await input.setValue('12a');
    expect(w.find(tid('mfa-problem')).text()).toBe('The code is digits only.');
    await input.setValue('12345');
    expect(w.find(tid('mfa-problem')).exists()).toBe(false); // not yet: still typing
    await w.find('form').trigger('submit');
    expect(w.find(tid('mfa-problem')).text()).toBe('The code has 6 digits (5 entered).');
    expect(bridge.callsTo('credentials.answer')).toEqual([]);

    await input.setValue('123 456');
    expect(w.find(tid('prompt-submit')).attributes('disabled')).toBeUndefined();
    await w.find('form').trigger('submit');
    await flush();
    expect(bridge.callsTo('credentials.answer')).toEqual([{ id: mfaPrompt().id, code: '123456' }]);
    expect(w.find(tid('credential-prompt')).exists()).toBe(false);
  });

  it('shows a refused code and lets the user try again', async () => {
    bridge.fail(
      'credentials.answer',
      'MultiFactorAuthentication failed with invalid MFA one time pass code.',
      'AccessDenied',
    );
    const w = await mountDialog();
    bridge.emit('credentials.prompt', mfaPrompt());
    await flush();
    await w.find(tid('mfa-code')).setValue('000000');
    await w.find('form').trigger('submit');
    await flush();
    expect(w.find(tid('mfa-problem')).text()).toContain('invalid MFA one time pass code');
    expect(w.find(tid('credential-prompt')).exists()).toBe(true);
    await w.find(tid('mfa-code')).setValue('111111');
    expect(w.find(tid('mfa-problem')).exists()).toBe(false);
  });

  it('names the role, and shows why it asks again (a refused code) until the user types', async () => {
    const w = await mountDialog();
    bridge.emit(
      'credentials.prompt',
      mfaPrompt({
        roleArn: 'arn:aws:iam::123456789012:role/Admin',
        problem:
          'STS refused the code 123456 (invalid MFA one time pass code). Enter the code the device shows now.',
      }),
    );
    await flush();
    expect(w.find(tid('mfa-role')).text()).toBe('arn:aws:iam::123456789012:role/Admin');
    const problem = w.find(tid('mfa-problem'));
    expect(problem.text()).toContain('STS refused the code 123456');
    expect(problem.attributes('role')).toBe('alert');
    expect(w.find(tid('mfa-code')).attributes('aria-invalid')).toBe('true');
    await w.find(tid('mfa-code')).setValue('65');
    expect(w.find(tid('mfa-problem')).exists()).toBe(false);
  });

  it('cancels with the button or Escape', async () => {
    const w = await mountDialog();
    bridge.emit('credentials.prompt', mfaPrompt());
    await flush();
    await w.find(tid('prompt-cancel')).trigger('click');
    await flush();
    expect(bridge.callsTo('credentials.answer')).toEqual([{ id: mfaPrompt().id, cancel: true }]);
    expect(w.find(tid('credential-prompt')).exists()).toBe(false);

    bridge.emit('credentials.prompt', mfaPrompt({ id: '33333333-3333-4333-8333-333333333333' }));
    await flush();
    await w.find(tid('credential-prompt')).trigger('keydown', { key: 'Escape' });
    await flush();
    expect(bridge.callsTo('credentials.answer')[1]).toEqual({
      id: '33333333-3333-4333-8333-333333333333',
      cancel: true,
    });
  });

  it('queues prompts and drops those answered elsewhere', async () => {
    const w = await mountDialog();
    bridge.emit('credentials.prompt', mfaPrompt());
    bridge.emit('credentials.prompt', ssoPrompt());
    bridge.emit('credentials.prompt', mfaPrompt()); // the same again: once
    await flush();
    expect(w.find(tid('prompt-queue')).text()).toBe('1 of 2');
    expect(w.find(tid('credential-prompt')).attributes('data-kind')).toBe('mfa');
    bridge.emit('credentials.promptDone', { id: mfaPrompt().id, outcome: 'expired' });
    await flush();
    expect(w.find(tid('credential-prompt')).attributes('data-kind')).toBe('sso');
    expect(w.find(tid('prompt-queue')).exists()).toBe(false);
    expect(useCredentialsStore().lastOutcome).toEqual({ profile: 'admin', outcome: 'expired' });
    expect(useNoticesStore().toasts.at(-1)).toMatchObject({
      title: 'Sign-in expired',
      message: 'The credentials prompt for admin expired.',
    });
    bridge.emit('credentials.promptDone', { id: ssoPrompt().id, outcome: 'answered' });
    await flush();
    expect(w.find(tid('credential-prompt')).exists()).toBe(false);
  });

  it('shows the SSO code large and copyable, the sign-in link and the time left', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ['setInterval', 'clearInterval', 'Date'] });
    const writeText = vi.fn(async (_t: string) => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const w = await mountDialog();
    const prompt = ssoPrompt({
      sso: {
        ...ssoPrompt().sso!,
        expiresAt: new Date(Date.now() + 65_000).toISOString(),
      },
    });
    bridge.emit('credentials.prompt', prompt);
    await flush();
    expect(w.find(tid('sso-user-code')).text()).toBe('ABCD-EFGH');
    const link = w.find(tid('sso-open'));
    expect(link.attributes('href')).toBe('https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH');
    expect(link.attributes('target')).toBe('_blank');
    expect(link.attributes('rel')).toBe('noopener noreferrer');
    expect(document.activeElement).toBe(link.element);
    expect(w.find(tid('sso-expiry')).text()).toMatch(/expires in 1:0[45]/);
    await w.find(tid('sso-copy')).trigger('click');
    await flush();
    expect(writeText).toHaveBeenCalledWith('ABCD-EFGH');
    vi.advanceTimersByTime(70_000);
    await flush();
    expect(w.find(tid('sso-expiry')).text()).toContain('The code has expired');
    await w.find(tid('prompt-cancel')).trigger('click');
    await flush();
    expect(bridge.callsTo('credentials.answer')).toEqual([{ id: prompt.id, cancel: true }]);
  });

  it('falls back to the plain verification address', async () => {
    const w = await mountDialog();
    const sso = { ...ssoPrompt().sso! };
    delete sso.verificationUriComplete;
    bridge.emit('credentials.prompt', ssoPrompt({ sso }));
    await flush();
    expect(w.find(tid('sso-open')).attributes('href')).toBe('https://device.sso.us-east-1.amazonaws.com/');
  });
});
