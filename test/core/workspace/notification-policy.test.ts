import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type Settings } from '../../../preload/api.js';
import { NotificationPolicy } from '../../../main/core/workspace/notification-policy.js';

describe('NotificationPolicy', () => {
  const setup = (overrides: Partial<Settings['notifications']> = {}) => {
    let now = 0;
    const settings = { ...DEFAULT_SETTINGS.notifications, minIntervalSeconds: 60, ...overrides };
    const policy = new NotificationPolicy(
      () => settings,
      () => now,
    );
    return { policy, advance: (ms: number) => (now += ms), settings };
  };

  it('maps connection notices to notification kinds, with the instance in the body', () => {
    const { policy } = setup();
    expect(
      policy.decide({
        kind: 'network-lost',
        message: 'Connection lost.',
        sessionId: 's',
        instanceName: 'web-1',
      }),
    ).toEqual({
      kind: 'disconnect',
      title: 'Connection lost',
      body: 'web-1: Connection lost.',
      sessionId: 's',
    });
    expect(policy.decide({ kind: 'reconnected', message: 'ok', sessionId: 's' })?.kind).toBe('reconnect');
    expect(policy.decide({ kind: 'limit', message: 'too many', sessionId: null })?.kind).toBe('limit');
    expect(policy.decide({ kind: 'ended-elsewhere', message: 'x', sessionId: 's' })?.kind).toBe(
      'ended-elsewhere',
    );
    // Not every notice is worth a notification.
    expect(policy.decide({ kind: 'inactive-warning', message: 'x', sessionId: 's' })).toBeUndefined();
  });

  it('a broken port forward is its own kind, allowed by the disconnects setting', () => {
    const on = setup();
    const notice = {
      kind: 'forward-failed' as const,
      message: 'Port forward to 5432 on db-1 broke: x',
      sessionId: null,
    };
    expect(on.policy.decide(notice)).toEqual({
      kind: 'forward-failed',
      title: 'Port forward broke',
      body: 'Port forward to 5432 on db-1 broke: x',
      sessionId: null,
    });
    // Rate-limited on its own, not with session disconnects.
    expect(on.policy.decide({ kind: 'network-lost', message: 'lost', sessionId: 's' })?.kind).toBe(
      'disconnect',
    );
    expect(on.policy.decide(notice)).toBeUndefined();
    expect(setup({ disconnects: false }).policy.decide(notice)).toBeUndefined();
    expect(setup({ enabled: false }).policy.decide(notice)).toBeUndefined();
  });

  it('rate-limits per kind and says how many were folded in', () => {
    const { policy, advance } = setup();
    expect(policy.decide({ kind: 'network-lost', message: 'a', sessionId: '1' })).toBeDefined();
    expect(policy.decide({ kind: 'agent-unreachable', message: 'b', sessionId: '2' })).toBeUndefined();
    expect(policy.decide({ kind: 'network-lost', message: 'c', sessionId: '3' })).toBeUndefined();
    // Another kind is not held back.
    expect(policy.decide({ kind: 'reconnected', message: 'd', sessionId: '1' })).toBeDefined();
    advance(60_000);
    expect(policy.decide({ kind: 'network-lost', message: 'e', sessionId: '4' })?.body).toBe(
      'e (and 2 more since the last notification)',
    );
  });

  it('follows the settings: off entirely, or per kind', () => {
    const off = setup({ enabled: false });
    expect(off.policy.decide({ kind: 'network-lost', message: 'a', sessionId: '1' })).toBeUndefined();
    const noReconnects = setup({ reconnects: false, minIntervalSeconds: 0 });
    expect(noReconnects.policy.decide({ kind: 'reconnected', message: 'a', sessionId: '1' })).toBeUndefined();
    expect(noReconnects.policy.decide({ kind: 'network-lost', message: 'a', sessionId: '1' })).toBeDefined();
    expect(noReconnects.policy.decide({ kind: 'network-lost', message: 'a', sessionId: '1' })).toBeDefined();
  });
});
