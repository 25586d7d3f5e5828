// @vitest-environment happy-dom
/** The Sessions view marks a KMS-encrypted session's row with a lock naming the key. */
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import SessionsView from '../../../renderer/views/SessionsView.vue';
import { resetFakeBridge } from '../helpers/fake-bridge.js';
import { session } from '../helpers/fixtures.js';
import { resetSessionsMock } from '../helpers/sessions-mock.js';

vi.mock('../../../renderer/bridge/index.js', async () =>
  (await import('../helpers/fake-bridge.js')).bridgeModule(),
);
vi.mock('../../../renderer/stores/sessions.js', async () =>
  (await import('../helpers/sessions-mock.js')).sessionsModule(),
);

beforeEach(() => {
  resetFakeBridge();
  setActivePinia(createPinia());
});

describe('SessionsView: encrypted sessions', () => {
  it('shows a lock with the KMS key on encrypted sessions, open or closed, and none on plain ones', () => {
    const key = 'arn:aws:kms:us-east-1:123456789012:key/5a9b3c1e-7d2f-4e8a-9b6c-0d1e2f3a4b5c';
    const secure = session({ instanceName: 'web-1', encryption: { kmsKeyId: key } });
    const plain = session({ instanceName: 'api-1', instanceId: 'i-022e45fccb4896048' });
    const ended = session({
      instanceName: 'db',
      state: 'closed',
      closed: { reason: 'the shell exited', how: 'ended', exitCode: 0 },
      encryption: { kmsKeyId: 'alias/db' },
    });
    resetSessionsMock([secure, plain, ended]);
    const w = mount(SessionsView);
    const lock = (id: string) => w.find(`[data-session-id="${id}"] [data-testid="session-encrypted"]`);
    expect(lock(secure.id).attributes('title')).toBe(`Encrypted with KMS key ${key}`);
    expect(lock(secure.id).attributes('aria-label')).toBe(`Encrypted with KMS key ${key}`);
    expect(lock(plain.id).exists()).toBe(false);
    expect(lock(ended.id).attributes('title')).toBe('Encrypted with KMS key alias/db');
  });
});
