import { EventEmitter } from 'node:events';
import type { NotificationConstructorOptions } from 'electron';
import { beforeEach, describe, expect, it } from 'vitest';
import { connectNotifications, notificationOptions } from '../../main/app/notifications.js';
import type { WorkspaceNotification } from '../../main/core/workspace/types.js';
import { FakeWorkspace, captureLogger, warnings } from './fakes.js';

class FakeNotification extends EventEmitter {
  static supported = true;
  static created: FakeNotification[] = [];
  shown = false;
  constructor(readonly options: NotificationConstructorOptions) {
    super();
    FakeNotification.created.push(this);
  }
  static isSupported(): boolean {
    return FakeNotification.supported;
  }
  show(): void {
    this.shown = true;
  }
}

const notice = (patch: Partial<WorkspaceNotification> = {}): WorkspaceNotification => ({
  kind: 'disconnect',
  title: 'Connection lost',
  body: 'web-1: reconnecting',
  sessionId: '00000000-0000-4000-8000-000000000001',
  ...patch,
});

describe('notificationOptions', () => {
  it('uses the title and body; reconnects are silent', () => {
    expect(notificationOptions(notice())).toEqual({
      title: 'Connection lost',
      body: 'web-1: reconnecting',
      silent: false,
    });
    expect(notificationOptions(notice({ kind: 'reconnect' }), '/icon.png')).toMatchObject({
      silent: true,
      icon: '/icon.png',
    });
  });
});

describe('connectNotifications', () => {
  beforeEach(() => {
    FakeNotification.supported = true;
    FakeNotification.created = [];
  });

  function setup() {
    const workspace = new FakeWorkspace();
    const focused: WorkspaceNotification[] = [];
    const { logger, lines } = captureLogger();
    const connection = connectNotifications(workspace, {
      Notification: FakeNotification,
      focusWindow: (n) => focused.push(n),
      logger,
    });
    return { workspace, focused, connection, lines };
  }

  it('shows each notification of the workspace; a click focuses the window', () => {
    const { workspace, focused } = setup();
    workspace.notifications.fire(notice());
    workspace.notifications.fire(notice({ kind: 'reconnect', title: 'Reconnected', sessionId: null }));
    const [first, second] = FakeNotification.created;
    expect(first!.shown && second!.shown).toBe(true);
    expect(first!.options).toMatchObject({ title: 'Connection lost', silent: false });
    expect(second!.options).toMatchObject({ title: 'Reconnected', silent: true });
    second!.emit('click');
    expect(focused.map((n) => n.title)).toEqual(['Reconnected']);
    expect(second!.listenerCount('click')).toBe(0);
  });

  it('shows nothing where notifications are not supported', () => {
    FakeNotification.supported = false;
    const { workspace } = setup();
    workspace.notifications.fire(notice());
    expect(FakeNotification.created).toEqual([]);
  });

  it('logs notifications that fail', () => {
    const { workspace, lines } = setup();
    workspace.notifications.fire(notice());
    FakeNotification.created[0]!.emit('failed', {}, 'no notification daemon');
    expect(warnings(lines)).toEqual(['a notification could not be shown']);
  });

  it('stops listening on dispose and drops the handlers of shown notifications', () => {
    const { workspace, connection, focused } = setup();
    workspace.notifications.fire(notice());
    connection.dispose();
    expect(workspace.notifications.listenerCount).toBe(0);
    const shown = FakeNotification.created[0]!;
    expect(shown.listenerCount('click')).toBe(0);
    shown.emit('click');
    workspace.notifications.fire(notice());
    expect(FakeNotification.created).toHaveLength(1);
    expect(focused).toEqual([]);
  });

  it('keeps at most a bounded number of notifications referenced', () => {
    const { workspace } = setup();
    for (let i = 0; i < 30; i++) workspace.notifications.fire(notice({ title: `n${i}` }));
    const withHandlers = FakeNotification.created.filter((n) => n.listenerCount('click') > 0);
    expect(withHandlers.length).toBe(20);
    expect(withHandlers[0]!.options.title).toBe('n10');
  });
});
