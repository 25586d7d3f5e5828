/**
 * What the CLI benchmarks start: the `ec2-connect` command as users run it, the official
 * session-manager-plugin when it is installed, and the resident memory of a running process.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** How the `ec2-connect` command is started, and a short label for figure names. */
export interface CliLaunch {
  /** Executable and leading arguments; the command's own arguments follow. */
  argv: string[];
  label: string;
}

let cliLaunch: CliLaunch | undefined;

/**
 * The CLI as package.json's "bin" ships it: the esbuild bundle out/cli/ec2-connect.cjs run by
 * node, rebuilt from the current sources once per run (build/build-cli.mjs, under a second). If
 * the build fails, the sources under tsx, with a notice: slower to start, and named so.
 */
export function ec2ConnectLaunch(): CliLaunch {
  if (cliLaunch) return cliLaunch;
  const bundle = join(repo, 'out/cli/ec2-connect.cjs');
  try {
    execFileSync(process.execPath, [join(repo, 'build/build-cli.mjs')], {
      cwd: repo,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 120_000,
    });
    cliLaunch = { argv: [process.execPath, bundle], label: 'node out/cli/ec2-connect.cjs' };
  } catch (err) {
    const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || String(err);
    process.stdout.write(`CLI bundle build failed, benchmarking the sources under tsx instead: ${why}\n`);
    cliLaunch = {
      argv: [process.execPath, '--import', 'tsx', join(repo, 'main/cli/bin.ts')],
      label: 'node --import tsx main/cli/bin.ts',
    };
  }
  return cliLaunch;
}

/** Where the official plugin is looked for, in order (as test/helpers/plugin.ts does, plus PATH). */
export function pluginCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return [
    env.SESSION_MANAGER_PLUGIN,
    resolve(repo, '../shared/tools/session-manager-plugin/session-manager-plugin'),
    '/usr/local/bin/session-manager-plugin',
    '/usr/local/sessionmanagerplugin/bin/session-manager-plugin',
    ...(env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((d) => join(d, 'session-manager-plugin')),
  ].filter((p): p is string => Boolean(p));
}

/** The official session-manager-plugin's path, or undefined when it is not on this machine. */
export function findPlugin(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return pluginCandidates(env).find((p) => existsSync(p));
}

/** A kB field (VmRSS, VmHWM) of /proc/<pid>/status, from its text; undefined when absent. */
export function statusFieldKb(status: string, field: 'VmRSS' | 'VmHWM'): number | undefined {
  const m = new RegExp(`^${field}:\\s*(\\d+)\\s*kB`, 'm').exec(status);
  return m ? Number(m[1]) : undefined;
}

/** A running process's VmRSS or VmHWM in kB; undefined once it has exited. */
export async function processKb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number | undefined> {
  try {
    return statusFieldKb(await readFile(`/proc/${pid}/status`, 'utf8'), field);
  } catch {
    return undefined;
  }
}
