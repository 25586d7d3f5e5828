/**
 * How the Settings view lays out the configuration's keys (pure): the window's keys (ui.*,
 * resources.*) in hand-made sections with presentation overrides (a label, words for the help and
 * for enum values, a row of buttons instead of a select, a step, an enable condition), then every
 * other key in a section per configuration section. Every key is rendered by ConfigField either way.
 */
import type { ConfigKey, GovernorState } from '../../../preload/api.js';
import { keyLabel, sectionTitle, sortSections } from './config-format.js';

/** How one key shows (everything optional: by default, what its description says). */
export interface FieldView {
  /** Replaces the label made from the key's name. */
  label?: string;
  /** Replaces the key's description under the field (a number's range is still added). */
  help?: string;
  /** An enum as a row of buttons (few values) instead of a select. */
  control?: 'segmented';
  /** Words for an enum's values. */
  options?: Readonly<Record<string, string>>;
  /** The step of a number field. */
  step?: number;
  /** Disabled unless this boolean key is on. */
  enabledBy?: string;
  /** The governor also reports the value in effect (said when a variable pins the key). */
  governor?: keyof GovernorState['sources'];
}

interface LayoutSection {
  id: string;
  title: string;
  /** Its keys, in order, and how each shows. */
  fields: Readonly<Record<string, FieldView>>;
  /** The configuration section whose other keys join this one at the end. */
  rest?: string;
}

const NOTIFY = 'ui.notifications_enabled';

export const LAYOUT: readonly LayoutSection[] = [
  {
    id: 'appearance',
    title: 'Appearance',
    fields: {
      'ui.theme': {
        label: 'Theme',
        control: 'segmented',
        options: { system: 'System', light: 'Light', dark: 'Dark' },
      },
      'ui.font_family': { label: 'Terminal font family', help: 'A CSS font-family list.' },
      'ui.font_size': { label: 'Font size', help: '', step: 1 },
      'ui.line_height': { label: 'Line height', help: 'A multiple of the font size.', step: 0.05 },
    },
  },
  {
    id: 'terminal',
    title: 'Terminal',
    fields: {
      'ui.scrollback': { label: 'Scrollback', help: 'Lines kept per terminal.', step: 1000 },
      'ui.cursor_blink': { label: 'Blinking cursor', help: '' },
      'ui.renderer': {
        label: 'Renderer',
        help: 'Auto tries WebGL and falls back to canvas.',
        options: { auto: 'Auto', webgl: 'WebGL', canvas: 'Canvas', dom: 'DOM' },
      },
      'ui.paste_warning_lines': {
        label: 'Warn before pasting more than',
        help: '0 never asks.',
        step: 10,
      },
      'ui.copy_on_select': { label: 'Copy on select' },
    },
  },
  {
    id: 'notifications',
    title: 'Notifications',
    fields: {
      [NOTIFY]: { label: 'Show notifications' },
      'ui.notify_disconnects': { label: 'Disconnects', help: '', enabledBy: NOTIFY },
      'ui.notify_reconnects': { label: 'Reconnects', help: '', enabledBy: NOTIFY },
      'ui.notify_limits': { label: 'Limits reached', help: '', enabledBy: NOTIFY },
      'ui.notify_ended_elsewhere': { label: 'Sessions ended elsewhere', help: '', enabledBy: NOTIFY },
      'ui.notification_min_interval_seconds': {
        label: 'At most one per kind every',
        help: '',
        step: 5,
        enabledBy: NOTIFY,
      },
    },
  },
  {
    id: 'resources',
    title: 'Resources',
    rest: 'resources',
    fields: {
      'resources.max_memory_mb': {
        label: 'Memory limit',
        help: "Resident memory of EC2 Connect's own processes; 0 means no limit.",
        step: 64,
        governor: 'maxMemoryMb',
      },
      'resources.max_cpu_percent': {
        label: 'CPU limit',
        help: 'Of the whole machine (all cores = 100); 0 means no limit.',
        step: 5,
        governor: 'maxCpuPercent',
      },
      'resources.low_power_mode': {
        label: 'Low-power mode',
        control: 'segmented',
        options: { auto: 'Automatic', on: 'On', off: 'Off' },
        help: 'Automatic turns it on while on battery or over a limit.',
        governor: 'lowPower',
      },
      'resources.monitoring_interval': {
        label: 'Sampling interval',
        help: 'Time between CPU and memory samples; tripled in low-power mode.',
        step: 250,
        governor: 'monitoringIntervalMs',
      },
      'resources.prometheus_port': {
        label: 'Prometheus port',
        help: 'Serve metrics on http://127.0.0.1:<port>/metrics; 0 means off.',
        step: 1,
      },
    },
  },
];

const VIEWS: ReadonlyMap<string, FieldView> = new Map(LAYOUT.flatMap((s) => Object.entries(s.fields)));
const NONE: FieldView = {};

/** How a key shows (its overrides, or none). */
export function fieldView(key: string): FieldView {
  return VIEWS.get(key) ?? NONE;
}

/** The label a key shows under. */
export function fieldLabel(key: ConfigKey): string {
  return fieldView(key.key).label ?? keyLabel(key);
}

/** The words a search looks at for a key. */
export function fieldTexts(key: ConfigKey): string[] {
  const view = fieldView(key.key);
  return [
    fieldLabel(key),
    key.key,
    key.description,
    view.help ?? '',
    key.env ?? '',
    ...(key.values ?? []),
    ...Object.values(view.options ?? {}),
  ];
}

export interface FieldSection {
  id: string;
  title: string;
  keys: ConfigKey[];
}

/** The sections shown, in order, each key in exactly one (empty sections left out). */
export function layoutSections(keys: readonly ConfigKey[]): FieldSection[] {
  const byKey = new Map(keys.map((k) => [k.key, k]));
  const out: FieldSection[] = LAYOUT.map((s) => ({
    id: s.id,
    title: s.title,
    keys: Object.keys(s.fields).flatMap((k) => byKey.get(k) ?? []),
  }));
  const rest = new Map<string, ConfigKey[]>();
  for (const k of keys) {
    if (VIEWS.has(k.key)) continue;
    rest.set(k.section, [...(rest.get(k.section) ?? []), k]);
  }
  for (const s of LAYOUT) {
    if (!s.rest) continue;
    out.find((o) => o.id === s.id)!.keys.push(...(rest.get(s.rest) ?? []));
    rest.delete(s.rest);
  }
  for (const section of sortSections([...rest.keys()]))
    out.push({ id: section, title: sectionTitle(section), keys: rest.get(section)! });
  return out.filter((s) => s.keys.length > 0);
}
