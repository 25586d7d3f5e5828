/**
 * What the resource governor asks of one terminal (GovernorState.ui, preload/api.ts):
 * - economy: xterm's DOM renderer instead of WebGL/canvas, and no cursor blink (every terminal);
 * - backgroundScrollback: terminals not on screen (background tabs) keep at most that many lines.
 * PaneController.setGovernor applies it and restores the settings' values when it is lifted.
 */
import type { GovernorState } from '../../preload/api.js';

export interface TerminalPolicy {
  economy: boolean;
  /** Most lines of scrollback to keep; null = the setting. */
  scrollbackCap: number | null;
}

export const NO_POLICY: TerminalPolicy = { economy: false, scrollbackCap: null };

export function terminalPolicy(ui: GovernorState['ui'] | null | undefined, visible: boolean): TerminalPolicy {
  if (!ui) return NO_POLICY;
  return { economy: ui.economy, scrollbackCap: visible ? null : ui.backgroundScrollback };
}
