/**
 * Native notifications for what the workspace reports (disconnects, reconnects, limits, sessions
 * ended elsewhere). The workspace has already applied the user's notification settings and the
 * rate limit; this only shows them. Reconnects are silent. Clicking one brings the window to the
 * front (the page decides what to focus in it).
 *
 * Electron's Notification class is passed in, so tests use a fake.
 */
import type { NotificationConstructorOptions } from 'electron';
import type { Logger } from '../core/log/logger.js';
import { toDisposable, type Disposable } from '../core/util/lifecycle.js';
import type { WorkspaceNotification, WorkspaceService } from '../core/workspace/types.js';

/** What is used of an Electron Notification. */
export interface NativeNotification {
  on(event: 'click' | 'close' | 'failed', listener: (...args: unknown[]) => void): unknown;
  removeAllListeners(event?: string): unknown;
  show(): void;
}

export interface NotificationClass {
  new (options: NotificationConstructorOptions): NativeNotification;
  isSupported(): boolean;
}

export interface NotificationOptions {
  Notification: NotificationClass;
  /** Show, restore and focus the main window. */
  focusWindow(notification: WorkspaceNotification): void;
  /** The app icon (Linux shows it; macOS and Windows use the app's own). */
  iconPath?: string;
  logger?: Logger;
}

/**
 * Shown notifications are kept referenced until clicked or closed: an Electron Notification
 * that is garbage collected loses its click handler. Bounded, oldest dropped first.
 */
const MAX_TRACKED = 20;

export function notificationOptions(
  notification: WorkspaceNotification,
  iconPath?: string,
): NotificationConstructorOptions {
  return {
    title: notification.title,
    body: notification.body,
    silent: notification.kind === 'reconnect',
    ...(iconPath ? { icon: iconPath } : {}),
  };
}

export function connectNotifications(
  workspace: Pick<WorkspaceService, 'onNotification'>,
  options: NotificationOptions,
): Disposable {
  const { Notification, logger } = options;
  const shown = new Set<NativeNotification>();
  let supported: boolean | undefined;

  const forget = (n: NativeNotification): void => {
    shown.delete(n);
    n.removeAllListeners();
  };

  const subscription = workspace.onNotification((notice) => {
    supported ??= Notification.isSupported();
    if (!supported) {
      logger?.debug({ kind: notice.kind }, 'native notifications are not supported here');
      return;
    }
    try {
      const n = new Notification(notificationOptions(notice, options.iconPath));
      n.on('click', () => {
        forget(n);
        options.focusWindow(notice);
      });
      n.on('close', () => forget(n));
      n.on('failed', (_event, error) => {
        forget(n);
        logger?.warn({ error, kind: notice.kind }, 'a notification could not be shown');
      });
      shown.add(n);
      if (shown.size > MAX_TRACKED) forget(shown.values().next().value!);
      n.show();
    } catch (err) {
      logger?.warn({ err, kind: notice.kind }, 'a notification could not be shown');
    }
  });

  return toDisposable(() => {
    subscription.dispose();
    for (const n of [...shown]) forget(n);
  });
}
