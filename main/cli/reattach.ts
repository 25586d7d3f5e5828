/**
 * `ec2-connect connect --persist tmux|screen`: after a session was lost for good (the drop
 * outlasted what ResumeSession recovers, so the service ended it), open a new session whose
 * startup input joins the same tmux or screen session. The tries follow the app's schedule
 * (AUTO_REATTACH_DELAYS_MS of main/core/sessions/persistent.ts: 5 tries within about a minute), a
 * waiting try is made at once when the network changes, each step is a status line on stderr, and
 * the user can stop them (Ctrl-C).
 */
import { NetworkWatcher, type InterfacesProvider } from '../core/sessions/network-watcher.js';
import {
  AUTO_REATTACH_DELAYS_MS,
  checkPersistentName,
  reattachDelayMs,
  type Persistence,
} from '../core/sessions/persistent.js';

export interface ReattachTriesOptions<T> {
  /** One attempt: open the new session (rejects with why it could not). */
  open: () => Promise<T>;
  /** End a session opened after the user stopped the tries. */
  discard: (value: T) => Promise<void> | void;
  /** The instance as the user named it. */
  where: string;
  persistence: Persistence;
  /** Each status line (without line ends). */
  status: (line: string) => void;
  /** Aborted when the user stops the tries. */
  signal: AbortSignal;
  /** Waits before each attempt; its length is the number of attempts (default AUTO_REATTACH_DELAYS_MS). */
  delaysMs?: readonly number[];
  /** While a try waits, a network change makes it at once (interfaces polled this often). */
  networkWatch?: { intervalMs?: number; provider?: InterfacesProvider } | false;
}

export type ReattachOutcome<T> =
  | { ok: true; value: T; attempts: number }
  | { ok: false; stopped: boolean; attempts: number; lastError: string | null };

/** "tmux session ec2c-1a2b3c4d". */
export function describePersistence(p: Persistence): string {
  return `${p.tool} session ${p.name}`;
}

/** What to do to continue by hand in a tmux or screen session that keeps running. */
export function rejoinHint(where: string, p: Persistence): string {
  // Nothing but one of our names is ever printed as a command.
  const name = checkPersistentName(p.name);
  const join = p.tool === 'tmux' ? `tmux attach -t ${name}` : `screen -x ${name}`;
  return `${describePersistence(p)} keeps running on ${where}: connect again and run \`${join}\` to continue there`;
}

/** The first sentence of an error message (a status line; the whole message ends the tries). */
export function firstSentence(message: string): string {
  const m = /^.*?[.!?](?=\s|$)/s.exec(message.trim());
  return (m ? m[0] : message.trim()).replace(/\s+/g, ' ');
}

function seconds(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}

/** Wait `ms`, less when the network changes; 'stopped' when `signal` aborts first. */
function waitForTry(
  ms: number,
  signal: AbortSignal,
  networkWatch: ReattachTriesOptions<unknown>['networkWatch'],
): Promise<'elapsed' | 'network' | 'stopped'> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve('stopped');
      return;
    }
    let watcher: NetworkWatcher | undefined;
    const finish = (how: 'elapsed' | 'network' | 'stopped'): void => {
      clearTimeout(timer);
      watcher?.dispose();
      signal.removeEventListener('abort', onAbort);
      resolve(how);
    };
    const onAbort = (): void => finish('stopped');
    const timer = setTimeout(() => finish('elapsed'), ms);
    signal.addEventListener('abort', onAbort);
    if (networkWatch !== false) watcher = new NetworkWatcher(() => finish('network'), networkWatch ?? {});
  });
}

/**
 * Try to re-attach: wait, open, and again after a failure, up to the schedule's length. Resolves
 * with the new session, or with why not (stopped by the user, or every attempt failed).
 */
export async function reattachWithTries<T>(o: ReattachTriesOptions<T>): Promise<ReattachOutcome<T>> {
  const delays = o.delaysMs?.length ? o.delaysMs : AUTO_REATTACH_DELAYS_MS;
  const max = delays.length;
  const what = describePersistence(o.persistence);
  let lastError: string | null = null;
  for (let attempt = 1; attempt <= max; attempt++) {
    const wait = reattachDelayMs(attempt, delays);
    o.status(
      attempt === 1
        ? `ec2-connect: connection to ${o.where} lost for longer than the service keeps sessions; re-attaching to ${what} (attempt 1 of ${max} in ${seconds(wait)}, Ctrl-C stops)…`
        : `ec2-connect: attempt ${attempt - 1} of ${max} failed: ${firstSentence(lastError ?? '')} Next: attempt ${attempt} of ${max} in ${seconds(wait)}…`,
    );
    const waited = await waitForTry(wait, o.signal, o.networkWatch);
    if (waited === 'stopped') return { ok: false, stopped: true, attempts: attempt - 1, lastError };
    if (waited === 'network')
      o.status(`ec2-connect: the network changed; re-attaching now (attempt ${attempt} of ${max})…`);
    let value: T;
    try {
      value = await o.open();
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      if (o.signal.aborted) return { ok: false, stopped: true, attempts: attempt, lastError };
      continue;
    }
    if (o.signal.aborted) {
      await o.discard(value);
      return { ok: false, stopped: true, attempts: attempt, lastError };
    }
    return { ok: true, value, attempts: attempt };
  }
  return { ok: false, stopped: false, attempts: max, lastError };
}
