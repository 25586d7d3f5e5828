/**
 * Typing a startup input (startup-input.ts) into one SsmSession, for callers that drive a
 * session: the SessionManager for its sessions, `ec2-connect connect` for its own.
 *
 * The input is typed once the session has printed something (the shell's prompt), or after
 * `fallbackMs` of silence; what the user types meanwhile is held and sent right after it, so
 * their keystrokes never land before (or inside) the startup line.
 */
import type { SsmSession } from '../ssm/session.js';
import type { Disposable } from '../util/lifecycle.js';

/** How long a session may stay silent before its startup input is typed anyway. */
export const STARTUP_INPUT_FALLBACK_MS = 2_000;

type GatedSession = Pick<SsmSession, 'onOutput' | 'write' | 'state'>;

export interface StartupGate extends Disposable {
  /** Write to the session: now if the startup input went out, else after it. */
  write(data: Buffer | string): void;
  /** True once the startup input was typed (or there was none). */
  readonly typed: boolean;
}

export function startupGate(
  session: GatedSession,
  input: string | undefined,
  fallbackMs = STARTUP_INPUT_FALLBACK_MS,
): StartupGate {
  let held: Array<Buffer | string> | undefined = input ? [] : undefined;
  let timer: NodeJS.Timeout | undefined;
  let sub: Disposable | undefined;
  let immediate: NodeJS.Immediate | undefined;
  const stop = (): void => {
    sub?.dispose();
    sub = undefined;
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (immediate) clearImmediate(immediate);
    immediate = undefined;
  };
  const type = (): void => {
    if (!held) return;
    const pending = held;
    held = undefined;
    stop();
    if (session.state === 'closed') return;
    session.write(input!);
    for (const data of pending) session.write(data);
  };
  if (input) {
    // After the output event's other listeners (the prompt is on screen first).
    sub = session.onOutput(() => {
      immediate ??= setImmediate(type);
    });
    timer = setTimeout(type, fallbackMs);
    timer.unref?.();
  }
  return {
    write(data) {
      if (held) held.push(data);
      else if (session.state !== 'closed') session.write(data);
    },
    get typed() {
      return held === undefined;
    },
    dispose() {
      held = undefined;
      stop();
    },
  };
}
