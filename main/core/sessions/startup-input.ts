/**
 * Run-as, login shell and shell profile on the client side: what is typed into a new shell once
 * its prompt appears (SessionManager's `startupInput`).
 *
 * Real AWS has no StartSession parameter for the OS user: the account's Session Manager
 * preferences (or a custom Standard_Stream document with runAsEnabled / runAsDefaultUser /
 * shellProfile) decide it service-side, for everyone. A user who wants their own login shell on
 * some instances gets it here instead, by typing into the shell the agent started:
 *
 *   run as alice, login shell     exec sudo -iu alice      (sudo -i: alice's login shell, in her home)
 *   run as alice                  exec sudo -u alice -s    (her shell, not a login one; same folder)
 *   login shell alone             exec bash -l
 *   shell profile                 each line, after the above
 *
 * `exec` replaces the agent's shell, so leaving alice's shell ends the session as on a server.
 * The user name is checked against the POSIX portable user-name pattern (it never needs quoting);
 * anything else, shell metacharacters above all, is refused with a message saying why.
 */
import { runAsUserProblem } from '../../../preload/api.js';

export interface ShellSetup {
  /** Become this user (`sudo -iu`). */
  runAs?: string | undefined;
  /** A login shell (`bash -l`; with runAs, `sudo -i`). */
  loginShell?: boolean | undefined;
  /** Commands typed once the shell is up, one per line. */
  shellProfile?: string | undefined;
}

/** A run-as user or shell profile that cannot be typed into a shell safely. */
export class StartupInputError extends Error {
  override readonly name = 'StartupInputError';
}

/** The user name, checked; throws StartupInputError saying what is wrong with it. */
export function checkRunAsUser(name: string): string {
  const problem = runAsUserProblem(name);
  if (problem) throw new StartupInputError(problem);
  return name;
}

/** The lines of a shell profile: CR/LF line ends, blank lines dropped; control characters refused. */
export function shellProfileLines(profile: string): string[] {
  const lines = profile.split(/\r\n|\r|\n/);
  for (const line of lines) {
    const bad = [...line].find((c) => (c < ' ' && c !== '\t') || c === '\x7f');
    if (bad !== undefined) {
      throw new StartupInputError(
        `The shell profile contains control character 0x${bad.charCodeAt(0).toString(16).padStart(2, '0')}; it is typed into the shell, so write commands as plain text, one per line.`,
      );
    }
  }
  return lines.filter((l) => l.trim() !== '');
}

/**
 * What to type into the new shell (each line ending in "\r", as the Enter key sends it), or
 * undefined when there is nothing to do.
 */
export function buildStartupInput(setup: ShellSetup): string | undefined {
  const lines: string[] = [];
  if (setup.runAs !== undefined) {
    const user = checkRunAsUser(setup.runAs);
    lines.push(setup.loginShell ? `exec sudo -iu ${user}` : `exec sudo -u ${user} -s`);
  } else if (setup.loginShell) lines.push('exec bash -l');
  if (setup.shellProfile !== undefined) lines.push(...shellProfileLines(setup.shellProfile));
  return lines.length ? lines.map((l) => `${l}\r`).join('') : undefined;
}
