/**
 * What the composition roots (the Electron shell in main/app, web mode in main/cli) see of the
 * workspace: the bridge handlers, the events to forward to every window, and the few hooks the
 * native shell needs (notifications, tray count, power events).
 */
import type { BridgeEvent, BridgeHandlers } from '../../../preload/api.js';
import type { Event } from '../util/lifecycle.js';

export type NotificationKind =
  | 'disconnect'
  | 'reconnect'
  | 'limit'
  | 'resources'
  | 'ended-elsewhere'
  /** A port forward broke (the page shows the Port Forwards view when clicked). */
  | 'forward-failed';

/** A notification worth showing natively; already filtered by the settings and rate-limited. */
export interface WorkspaceNotification {
  kind: NotificationKind;
  title: string;
  body: string;
  sessionId: string | null;
}

export interface RecentInstance {
  instanceId: string;
  name: string;
  profile: string;
  region: string;
  /** ISO time of the last session opened to it. */
  lastOpenedAt: string;
}

export interface WorkspaceService {
  /** The contract implementation (preload/api.ts), for IPC and the web-mode server. */
  readonly handlers: BridgeHandlers;
  /** Every event for the renderer, in order; forward each to every window/page. */
  readonly onEvent: Event<BridgeEvent>;
  readonly onNotification: Event<WorkspaceNotification>;
  /** Fires when the number of live (not closed) sessions changes. */
  readonly onSessionCountChanged: Event<number>;
  sessionCount(): number;
  /** Instances sessions were opened to, most recent first (at most 5). */
  recentInstances(): RecentInstance[];
  /** The machine woke up: check every connection now. */
  onSystemResume(): void;
  /** The machine is about to sleep. */
  onSystemSuspend(): void;
  /** Power source changed: on battery, low-power mode (auto) lengthens intervals and simplifies rendering. */
  setOnBattery(onBattery: boolean): void;
  /** Close every session and release everything. */
  close(): Promise<void>;
}
