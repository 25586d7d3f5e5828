/**
 * Fakes for the Electron shell's tests (main/app runs under plain Node here: its modules import
 * electron for types only and get Electron's objects as parameters).
 */
import { EventEmitter } from 'node:events';
import pino from 'pino';
import type { BridgeEvent, BridgeHandlers } from '../../preload/api.js';
import type { Logger } from '../../main/core/log/logger.js';
import { Emitter } from '../../main/core/util/lifecycle.js';
import type {
  RecentInstance,
  WorkspaceNotification,
  WorkspaceService,
} from '../../main/core/workspace/types.js';

export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

/** A logger that keeps its JSON lines (warn = 40). */
export function captureLogger(level: pino.LevelWithSilent = 'trace'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level },
    {
      write(line: string) {
        lines.push(JSON.parse(line) as LogLine);
      },
    },
  );
  return { logger, lines };
}

export function warnings(lines: LogLine[]): string[] {
  return lines.filter((l) => l.level >= 40).map((l) => String(l.msg));
}

export class FakeWorkspace implements WorkspaceService {
  readonly events = new Emitter<BridgeEvent>();
  readonly notifications = new Emitter<WorkspaceNotification>();
  readonly counts = new Emitter<number>();
  readonly onEvent = this.events.event;
  readonly onNotification = this.notifications.event;
  readonly onSessionCountChanged = this.counts.event;
  readonly handlers = {} as BridgeHandlers;
  count = 0;
  recents: RecentInstance[] = [];
  calls: string[] = [];

  sessionCount(): number {
    return this.count;
  }
  recentInstances(): RecentInstance[] {
    return this.recents;
  }
  onSystemResume(): void {
    this.calls.push('resume');
  }
  onSystemSuspend(): void {
    this.calls.push('suspend');
  }
  setOnBattery(onBattery: boolean): void {
    this.calls.push(`battery:${onBattery}`);
  }
  async close(): Promise<void> {
    this.calls.push('close');
  }

  setCount(n: number): void {
    this.count = n;
    this.counts.fire(n);
  }
}

export function recent(instanceId: string, name: string): RecentInstance {
  return {
    instanceId,
    name,
    profile: 'sandbox',
    region: 'us-east-1',
    lastOpenedAt: '2025-01-01T00:00:00.000Z',
  };
}

/** A BrowserWindow as events.ts and the window-state tracker see it. */
export class FakeWindow extends EventEmitter {
  destroyed = false;
  maximized = false;
  fullScreen = false;
  minimized = false;
  bounds = { x: 10, y: 20, width: 1000, height: 700 };
  readonly sent: unknown[][] = [];
  readonly webContents = Object.assign(new EventEmitter(), {
    destroyed: false,
    loading: false,
    isDestroyed: () => this.webContents.destroyed,
    isLoading: () => this.webContents.loading,
    send: (...args: unknown[]) => {
      this.sent.push(args);
    },
  });

  isDestroyed(): boolean {
    return this.destroyed;
  }
  isMaximized(): boolean {
    return this.maximized;
  }
  isFullScreen(): boolean {
    return this.fullScreen;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  getNormalBounds() {
    return { ...this.bounds };
  }
}
