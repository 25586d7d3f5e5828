/**
 * Run the real `ec2-connect` CLI (main/cli/bin.ts under tsx) in a child process, with a small
 * environment: PATH, HOME (the given one or this process's) and what the test adds. Never
 * rejects: the exit status, stdout and stderr come back either way.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const repoRoot = path.resolve(import.meta.dirname, '../..');
/** node + tsx + the CLI entry, as argv. */
export const cliArgv = [process.execPath, '--import', 'tsx', 'main/cli/bin.ts'];

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCliProcess(
  args: string[],
  env: Record<string, string | undefined> = {},
  argv: string[] = cliArgv,
): Promise<CliResult> {
  try {
    const r = await run(argv[0]!, [...argv.slice(1), ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
