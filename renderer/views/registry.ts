/**
 * The side views of the activity bar, in order. A view is one entry here: its id, title,
 * icon (24x24 stroke paths), component, the app.command that shows it and its shortcut.
 * A new view is one more entry (Diagnostics was added so).
 */
import type { Component } from 'vue';
import type { AppCommand } from '../../preload/api.js';
import { icons } from '../components/icons.js';
import InstancesView from './InstancesView.vue';
import SessionsView from './SessionsView.vue';
import HistoryView from './HistoryView.vue';
import PerformanceView from './PerformanceView.vue';
import DiagnosticsView from './DiagnosticsView.vue';
import PortsView from './PortsView.vue';
import SettingsView from './SettingsView.vue';

export interface ViewShortcut {
  /** `KeyboardEvent.key`, lowercase (`e`, `,`). */
  key: string;
  /** Ctrl/Cmd+Shift+key (works even inside a terminal) rather than Ctrl/Cmd+key. */
  shift: boolean;
}

export interface ViewDef {
  id: string;
  title: string;
  /** SVG path data on a 24x24 grid, drawn with a 1.75 stroke and no fill. */
  icon: readonly string[];
  component: Component;
  /** The app.command (menu, tray) that shows this view. */
  command?: AppCommand;
  shortcut?: ViewShortcut;
  /** Pinned to the bottom of the activity bar (like VS Code's settings gear). */
  bottom?: boolean;
}

export const views: readonly ViewDef[] = [
  {
    id: 'instances',
    title: 'Instances',
    icon: ['M4 4h16v6H4z', 'M4 14h16v6H4z', 'M8 7h.01', 'M8 17h.01', 'M12 7h4', 'M12 17h4'],
    component: InstancesView,
    command: 'show-instances',
    shortcut: { key: 'e', shift: true },
  },
  {
    id: 'sessions',
    title: 'Sessions',
    icon: ['M3 5h18v14H3z', 'M7 10l3 2.5L7 15', 'M12.5 15H17'],
    component: SessionsView,
    command: 'show-sessions',
    shortcut: { key: 's', shift: true },
  },
  {
    id: 'history',
    title: 'History',
    icon: ['M3 12a9 9 0 1 0 9-9 9.75 9.75 0 0 0-6.74 2.74L3 8', 'M3 3v5h5', 'M12 7v5l4 2'],
    component: HistoryView,
    command: 'show-history',
    shortcut: { key: 'h', shift: true },
  },
  {
    id: 'performance',
    title: 'Performance',
    icon: ['M3 12h4l3-8 4 16 3-8h4'],
    component: PerformanceView,
    command: 'show-performance',
    shortcut: { key: 'm', shift: true },
  },
  {
    id: 'diagnostics',
    title: 'Diagnostics',
    icon: icons.diagnose,
    component: DiagnosticsView,
    command: 'show-diagnostics',
    shortcut: { key: 'g', shift: true },
  },
  {
    id: 'ports',
    title: 'Ports',
    icon: icons.ports,
    component: PortsView,
    command: 'show-ports',
    shortcut: { key: 'p', shift: true },
  },
  {
    id: 'settings',
    title: 'Settings',
    icon: [
      'M4 6h9',
      'M17 6h3',
      'M15 4v4',
      'M4 12h3',
      'M11 12h9',
      'M9 10v4',
      'M4 18h11',
      'M19 18h1',
      'M17 16v4',
    ],
    component: SettingsView,
    command: 'show-settings',
    shortcut: { key: ',', shift: false },
    bottom: true,
  },
];

export function findView(id: string): ViewDef | undefined {
  return views.find((v) => v.id === id);
}

export function viewForCommand(command: string): ViewDef | undefined {
  return views.find((v) => v.command === command);
}

/** "Ctrl+Shift+E" / "⌘⇧E". */
export function shortcutLabel(shortcut: ViewShortcut | undefined, mac: boolean): string {
  if (!shortcut) return '';
  const key = shortcut.key.toUpperCase();
  if (mac) return `⌘${shortcut.shift ? '⇧' : ''}${key}`;
  return `Ctrl+${shortcut.shift ? 'Shift+' : ''}${key}`;
}
