/**
 * `ec2-connect list`: the instances of the profile's region (EC2 joined with SSM), with
 * name, id, state, SSM ping status, platform and tags; filters by name, tag and state.
 */
import type { Command } from 'commander';
import type { InstanceSummary } from '../../core/ssm/types.js';
import { renderTable } from '../table.js';
import { addAwsOptions, withProfile, type AwsOptions } from '../options.js';

interface ListOptions extends AwsOptions {
  name?: string;
  tag?: string[];
  state?: string;
  online?: boolean;
  json?: boolean;
}

export function registerListCommand(program: Command): void {
  addAwsOptions(
    program
      .command('list')
      .description('list instances with their state and SSM ping status')
      .option('--name <pattern>', 'only names containing this text (case-insensitive; * matches anything)')
      .option('--tag <key=value...>', 'only instances with this tag (repeatable; value may use *)')
      .option('--state <state>', 'only instances in this EC2 state (running, stopped, ...)')
      .option('--online', 'only instances a session can be opened to now')
      .option('--json', 'print JSON'),
  ).action(async (opts: ListOptions) => {
    process.exitCode = await runList(opts);
  });
}

function globToRegExp(glob: string, anchored: boolean): RegExp {
  const body = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(anchored ? `^${body}$` : body, 'i');
}

export function filterInstances(
  all: InstanceSummary[],
  opts: Omit<ListOptions, keyof AwsOptions | 'json'>,
): InstanceSummary[] {
  const name = opts.name ? globToRegExp(opts.name, false) : undefined;
  const tags = (opts.tag ?? []).map((t) => {
    const eq = t.indexOf('=');
    if (eq <= 0) throw new Error(`--tag must be key=value, got "${t}"`);
    return { key: t.slice(0, eq), value: globToRegExp(t.slice(eq + 1), true) };
  });
  return all.filter(
    (i) =>
      (!name || name.test(i.name) || name.test(i.instanceId)) &&
      tags.every((t) => t.key in i.tags && t.value.test(i.tags[t.key]!)) &&
      (!opts.state || i.state === opts.state) &&
      (!opts.online || i.unavailableReason === undefined),
  );
}

export function formatTable(rows: InstanceSummary[]): string {
  const head = ['NAME', 'INSTANCE ID', 'STATE', 'PING', 'PLATFORM', 'TAGS'];
  const cells = rows.map((i) => [
    i.name || '-',
    i.instanceId,
    i.state,
    i.pingStatus,
    i.platformName ?? i.platform,
    Object.entries(i.tags)
      .filter(([k]) => k !== 'Name')
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
  ]);
  return renderTable(head, cells);
}

export function runList(opts: ListOptions): Promise<number> {
  return withProfile(opts, async ({ controlPlane }) => {
    const rows = filterInstances(await controlPlane.listInstances(), opts);
    if (opts.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    else if (rows.length === 0) process.stderr.write('no instances match\n');
    else process.stdout.write(formatTable(rows) + '\n');
    return 0;
  });
}
