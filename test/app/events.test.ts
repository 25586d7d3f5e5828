import { describe, expect, it } from 'vitest';
import {
  appCommandPayload,
  createCommandSender,
  forwardWorkspaceEvents,
  sendEvent,
} from '../../main/app/events.js';
import { IPC_EVENT, type BridgeEvent } from '../../preload/api.js';
import { FakeWindow, FakeWorkspace, captureLogger, warnings } from './fakes.js';

const output: BridgeEvent = {
  name: 'session.output',
  payload: { sessionId: '00000000-0000-4000-8000-000000000001', offset: 0, bytes: 2, data: 'hi' },
};

describe('sendEvent', () => {
  it('sends on the event channel', () => {
    const window = new FakeWindow();
    expect(sendEvent(window, 'session.output', output.payload)).toBe(true);
    expect(window.sent).toEqual([[IPC_EVENT, 'session.output', output.payload]]);
  });

  it('skips a missing or destroyed window or page', () => {
    expect(sendEvent(undefined, 'session.output', output.payload)).toBe(false);
    const closed = new FakeWindow();
    closed.destroyed = true;
    const crashed = new FakeWindow();
    crashed.webContents.destroyed = true;
    expect(sendEvent(closed, 'session.output', output.payload)).toBe(false);
    expect(sendEvent(crashed, 'session.output', output.payload)).toBe(false);
    expect(closed.sent.length + crashed.sent.length).toBe(0);
  });

  it('survives a send that throws (the frame went away)', () => {
    const window = new FakeWindow();
    window.webContents.send = () => {
      throw new Error('Render frame was disposed');
    };
    expect(sendEvent(window, 'session.output', output.payload)).toBe(false);
  });
});

describe('forwardWorkspaceEvents', () => {
  it('forwards every event to the current window until disposed', () => {
    const workspace = new FakeWorkspace();
    const current: { window?: FakeWindow } = {};
    const forwarding = forwardWorkspaceEvents(workspace.onEvent, () => current.window);
    workspace.events.fire(output); // no window yet: dropped
    const window = (current.window = new FakeWindow());
    workspace.events.fire(output);
    workspace.events.fire({ name: 'settings.changed', payload: { theme: 'dark' } as never });
    expect(window.sent.map((s) => s[1])).toEqual(['session.output', 'settings.changed']);
    forwarding.dispose();
    expect(workspace.events.listenerCount).toBe(0);
    workspace.events.fire(output);
    expect(window.sent).toHaveLength(2);
  });
});

describe('appCommandPayload', () => {
  it('accepts the commands of the contract, with an optional instance id', () => {
    expect(appCommandPayload('find')).toEqual({ command: 'find' });
    expect(appCommandPayload('new-session', 'i-0123456789abcdef0')).toEqual({
      command: 'new-session',
      instanceId: 'i-0123456789abcdef0',
    });
  });

  it('refuses what the schema refuses', () => {
    const { logger, lines } = captureLogger();
    expect(appCommandPayload('explode' as never, undefined, logger)).toBeUndefined();
    expect(appCommandPayload('new-session', 'not-an-instance', logger)).toBeUndefined();
    expect(warnings(lines)).toHaveLength(2);
  });
});

describe('createCommandSender', () => {
  it('sends valid commands to the window as app.command events', () => {
    const window = new FakeWindow();
    const send = createCommandSender(() => window);
    expect(send('show-sessions')).toBe(true);
    expect(send('new-session', 'bad id')).toBe(false);
    expect(window.sent).toEqual([[IPC_EVENT, 'app.command', { command: 'show-sessions' }]]);
  });

  it('waits for a page that is still loading', () => {
    const window = new FakeWindow();
    window.webContents.loading = true;
    const send = createCommandSender(() => window);
    expect(send('new-session', 'i-0123456789abcdef0')).toBe(true);
    expect(window.sent).toEqual([]);
    window.webContents.loading = false;
    window.webContents.emit('did-finish-load');
    expect(window.sent).toEqual([
      [IPC_EVENT, 'app.command', { command: 'new-session', instanceId: 'i-0123456789abcdef0' }],
    ]);
  });

  it('sends nothing without a window', () => {
    expect(createCommandSender(() => undefined)('find')).toBe(false);
  });
});
