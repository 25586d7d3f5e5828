/**
 * Tells what the user types or pastes into a terminal from what the terminal answers by itself.
 *
 * xterm reports both through one `onData`: keys and pastes, but also its replies to the remote
 * program (cursor position, device attributes, colours), mouse reports and focus in/out. Only
 * the former may be broadcast to other sessions: a reply or a click belongs to its own pane.
 *
 * The gate is open while a keyboard, text input or composition event on the terminal is being
 * handled, and for two turns of the event loop after it (xterm sends composed text and input
 * of IMEs from a zero-delay timer of its own, set after the event reaches it), and during
 * `during(fn)` (a paste).
 */

const USER_EVENTS = ['keydown', 'keypress', 'beforeinput', 'input', 'compositionend'] as const;

export class UserInputGate {
  private open = 0;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private disposed = false;

  constructor(private readonly target: EventTarget) {
    for (const type of USER_EVENTS) target.addEventListener(type, this.onUserEvent, true);
  }

  /** Is what xterm reports now the user's input? */
  get active(): boolean {
    return this.open > 0;
  }

  /** Run `fn` with the gate open (a paste through xterm). */
  during<T>(fn: () => T): T {
    this.open++;
    try {
      return fn();
    } finally {
      this.open--;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const type of USER_EVENTS) this.target.removeEventListener(type, this.onUserEvent, true);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.open = 0;
  }

  private readonly onUserEvent = (): void => {
    if (this.disposed) return;
    this.open++;
    this.after(() => this.after(() => this.open--));
  };

  private after(fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.disposed) fn();
    }, 0);
    this.timers.add(timer);
  }
}
