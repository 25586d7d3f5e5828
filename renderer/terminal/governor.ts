/**
 * What the resource governor asks of one terminal (GovernorState.ui, preload/api.ts):
 * - economy: no WebGL (the canvas renderer draws instead; a terminal set to the DOM renderer keeps
 *   it) and no cursor blink, in every terminal. Not the DOM renderer: it is the one that costs the
 *   most CPU under heavy output, which is when a CPU limit is hit;
 * - backgroundScrollback: terminals not on screen (background tabs) keep at most that many lines.
 * PaneController.setGovernor applies it and restores the settings' values when it is lifted.
 */
import type { GovernorState } from '../../preload/api.js';
import type { RendererSetting } from './xterm-kit.js';

export interface TerminalPolicy {
  economy: boolean;
  /** Most lines of scrollback to keep; null = the setting. */
  scrollbackCap: number | null;
}

export const NO_POLICY: TerminalPolicy = { economy: false, scrollbackCap: null };

/** The renderer a terminal uses in economy mode, given the user's setting. */
export function economyRenderer(setting: RendererSetting): RendererSetting {
  return setting === 'dom' ? 'dom' : 'canvas';
}

export function terminalPolicy(ui: GovernorState['ui'] | null | undefined, visible: boolean): TerminalPolicy {
  if (!ui) return NO_POLICY;
  return { economy: ui.economy, scrollbackCap: visible ? null : ui.backgroundScrollback };
}
