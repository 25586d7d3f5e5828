/** Local tools and processes, for the persistent-session tests (tmux and screen run here). */
import { execFileSync } from 'node:child_process';

/** Whether `tool` is on this machine's PATH. */
export function haveTool(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Processes whose command line mentions `name` (tmux and screen servers keep the session name in theirs). */
export function processesNamed(name: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', name], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim() && !l.includes('pgrep'));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}
