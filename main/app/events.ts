/**
 * Main -> renderer events over IPC: `webContents.send(IPC_EVENT, name, payload)`, which the
 * preload checks against the event schemas and hands to the page's `ec2connect.on` listeners.
 *
 * - every event of the workspace is forwarded to the main window as it is (the core built it
 *   from typed values; the preload validates it again on arrival);
 * - commands of the native menu and tray (`app.command`) are built here, so they are checked
 *   against their schema before they are sent.
 *
 * Electron is imported for types only; windows are passed in.
 */
import type { BrowserWindow } from 'electron';
import {
  IPC_EVENT,
  events,
  type AppCommand,
  type BridgeEvent,
  type EventName,
  type EventPayload,
} from '../../preload/api.js';
import type { Logger } from '../core/log/logger.js';
import { toDisposable, type Disposable, type Event } from '../core/util/lifecycle.js';

/** What sending needs of a BrowserWindow. */
export interface EventWindow {
  isDestroyed(): boolean;
  webContents: {
    isDestroyed(): boolean;
    isLoading(): boolean;
    send(channel: string, ...args: unknown[]): void;
    once(event: 'did-finish-load', listener: () => void): unknown;
  };
}

/** The current main window, if there is one. */
export type WindowSource = () => EventWindow | BrowserWindow | undefined;

function usable(window: EventWindow | undefined): window is EventWindow {
  return !!window && !window.isDestroyed() && !window.webContents.isDestroyed();
}

/** Send one event to a window's page; false (and nothing sent) when the window or page is gone. */
export function sendEvent(
  window: EventWindow | undefined,
  name: EventName,
  payload: unknown,
  logger?: Logger,
): boolean {
  if (!usable(window)) return false;
  try {
    window.webContents.send(IPC_EVENT, name, payload);
    return true;
  } catch (err) {
    // The page's frame can go away between the check and the send (a reload, a crash).
    logger?.debug({ err, event: name }, 'could not send an event to the window');
    return false;
  }
}

/** Forward every workspace event to the main window (skipped while there is none). */
export function forwardWorkspaceEvents(
  onEvent: Event<BridgeEvent>,
  getWindow: WindowSource,
  logger?: Logger,
): Disposable {
  const subscription = onEvent((event) => {
    sendEvent(getWindow() as EventWindow | undefined, event.name, event.payload, logger);
  });
  return toDisposable(() => subscription.dispose());
}

export type AppCommandPayload = EventPayload<'app.command'>;

/** An app.command payload, checked against its schema; undefined (and a warning) if invalid. */
export function appCommandPayload(
  command: AppCommand,
  instanceId?: string,
  logger?: Logger,
): AppCommandPayload | undefined {
  const parsed = events['app.command'].safeParse(
    instanceId === undefined ? { command } : { command, instanceId },
  );
  if (!parsed.success) {
    logger?.warn({ command, instanceId }, 'refused to send an invalid app.command');
    return undefined;
  }
  return parsed.data;
}

/** Run `fn` once the window's page has loaded (at once if it has). */
export function whenLoaded(window: EventWindow, fn: () => void): void {
  if (window.webContents.isLoading()) window.webContents.once('did-finish-load', fn);
  else fn();
}

export type CommandSender = (command: AppCommand, instanceId?: string) => boolean;

/**
 * Send menu and tray commands to the main window. A command for a page that is still loading
 * (a window just opened from the tray) waits for the load. False when invalid or no window.
 */
export function createCommandSender(getWindow: WindowSource, logger?: Logger): CommandSender {
  return (command, instanceId) => {
    const payload = appCommandPayload(command, instanceId, logger);
    const window = getWindow() as EventWindow | undefined;
    if (!payload || !usable(window)) return false;
    whenLoaded(window, () => sendEvent(window, 'app.command', payload, logger));
    return true;
  };
}
