/**
 * `ec2-connect diagnose preventive --instance-id ID`: the checks a session needs (credentials,
 * SSM endpoint, instance online, agent version, permission to start a session, data channel,
 * clock, proxy), in parallel with a deadline each. `ec2-connect diagnose full`: those plus region
 * latency, the running app's resource state, the history store's health and recent session
 * failures. Text (one line per check, detail and fix under warnings and failures) or JSON (the
 * DiagnosticReport). Exit status: 0 when no check failed, 1 when one did, 2 for usage errors.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  DiagnosticReportSchema,
  ResourceSnapshotSchema,
  type DiagnosticReport,
  type HistorySession,
} from '../../../preload/api.js';
import { DEFAULT_CONFIG } from '../../core/config/schema.js';
// The checks themselves are loaded when a diagnosis runs (runDiagnose), not at start-up: they
// bring the AWS SDK, most of the CLI's start-up time.
import type * as Diagnostics from '../../core/diagnostics/index.js';
import type {
  DiagnosticKind,
  DiagnosticsOptions,
  RegionTarget,
  ResourceStateInput,
  StoreHealthInput,
} from '../../core/diagnostics/index.js';
import { DEFAULT_PARALLEL, DEFAULT_TIMEOUT_MS } from '../../core/diagnostics/runner.js';
import { silentLogger } from '../../core/log/logger.js';
import { getJson, listRunning, statusDir } from '../../core/monitor/status-client.js';
import { openHistoryStore } from '../../core/store/index.js';
import type { ResolvedProfile } from '../../sandbox/embedded-profile.js';
import { addAwsOptions, cliConfig, databaseFileFor, withProfile, type AwsOptions } from '../options.js';

export interface DiagnoseOptions extends AwsOptions {
  instanceId?: string;
  /** Seconds per check. */
  timeout?: number;
  parallel?: number;
  latencyThreshold?: number;
  format?: 'text' | 'json';
  /** Full runs: regions to rank. */
  regions?: string[];
  /** Full runs: the history database. */
  db?: string;
}

export function parseTimeoutSeconds(value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isFinite(n) || n < 0.1 || n > 600)
    throw new InvalidArgumentError(
      '--timeout must be a number of seconds from 0.1 to 600, e.g. --timeout 5.',
    );
  return n;
}

export function parseParallel(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 16)
    throw new InvalidArgumentError('--parallel must be a whole number from 1 to 16, e.g. --parallel 4.');
  return n;
}

export function parseThreshold(value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isFinite(n) || n > 60_000)
    throw new InvalidArgumentError('--latency-threshold must be milliseconds from 0 to 60000, e.g. 300.');
  return n;
}

export function parseRegions(value: string, previous: string[] = []): string[] {
  const list = value
    .split(/[\s,]+/)
    .map((r) => r.trim())
    .filter(Boolean);
  for (const r of list) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(r))
      throw new InvalidArgumentError(
        `--regions takes region names like us-east-1,eu-west-1; "${r}" is not one.`,
      );
  }
  return [...previous, ...list];
}

function commonOptions(cmd: Command): Command {
  return cmd
    .option(
      '--timeout <seconds>',
      `deadline of each check (default ${DEFAULT_TIMEOUT_MS / 1000})`,
      parseTimeoutSeconds,
    )
    .option('--parallel <n>', `checks at once (default ${DEFAULT_PARALLEL})`, parseParallel)
    .option(
      '--latency-threshold <ms>',
      `warn when the endpoints answer slower than this (default: connection.latency_threshold_ms, ${DEFAULT_CONFIG.connection.latency_threshold_ms} unless configured)`,
      parseThreshold,
    )
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'));
}

export function registerDiagnoseCommands(program: Command): void {
  const diagnose = program
    .command('diagnose')
    .description('check credentials, network, instance and permissions; say what is wrong and how to fix it');
  addAwsOptions(
    commonOptions(
      diagnose
        .command('preventive')
        .description('the checks a session to one instance needs, before opening it')
        .requiredOption('-i, --instance-id <id|name>', 'instance id (i-...) or its Name tag'),
    ),
  ).action(async (opts: DiagnoseOptions) => {
    process.exitCode = await runDiagnose('preventive', opts);
  });
  addAwsOptions(
    commonOptions(
      diagnose
        .command('full')
        .description(
          'the preventive checks plus region latency, local resources, store health and recent failures',
        )
        .option('-i, --instance-id <id|name>', 'also check this instance')
        .option(
          '--regions <list>',
          'regions to rank by latency, comma-separated (default: the commercial regions; with a custom endpoint only it)',
          parseRegions,
        )
        .option(
          '--db <file>',
          'the history database (default: database.file / EC2_CONNECT_DB, else sessions.db in the data folder)',
        ),
    ),
  ).action(async (opts: DiagnoseOptions) => {
    process.exitCode = await runDiagnose('full', opts);
  });
}

/** The history store's health and its failed sessions of the last 24 h; never throws. */
export function readStoreHealth(
  file: string,
  now = Date.now(),
): { store: StoreHealthInput; sessions: HistorySession[] | null } {
  if (!fs.existsSync(file)) {
    return { store: { status: { available: true, problem: null, file }, exists: false }, sessions: [] };
  }
  // Integrity first, on a read-only connection: opening the store moves a damaged file aside.
  let integrity: string[];
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      integrity = (db.pragma('quick_check') as Array<Record<string, unknown>>).map((r) =>
        String(Object.values(r)[0]),
      );
    } finally {
      db.close();
    }
  } catch (err) {
    integrity = [(err as Error).message];
  }
  if (!(integrity.length === 1 && integrity[0] === 'ok')) {
    return { store: { status: { available: true, problem: null, file }, integrity }, sessions: null };
  }
  const store = openHistoryStore({ file, logger: silentLogger, cleanupIntervalHours: 0, closeOnExit: false });
  try {
    const status = { ...store.status };
    if (!status.available) return { store: { status, integrity }, sessions: null };
    const stats = store.stats();
    const sessions = store.listSessions({
      outcome: 'failed',
      from: new Date(now - 24 * 3_600_000).toISOString(),
      limit: 1000,
    });
    return { store: { status, stats, integrity }, sessions };
  } catch (err) {
    return {
      store: { status: { available: false, problem: (err as Error).message, file }, integrity },
      sessions: null,
    };
  } finally {
    store.close();
  }
}

/** The running app's resource state (desktop or web mode), or why there is none. */
export async function readRunningResources(): Promise<{ input: ResourceStateInput | null; reason?: string }> {
  const running = listRunning(statusDir());
  const target = running[0];
  if (!target) {
    return {
      input: null,
      reason:
        'Not checked: no EC2 Connect app (desktop or web mode) is running on this computer, and the resource governor lives in the app (see `ec2-connect resources`).',
    };
  }
  try {
    const snapshot = ResourceSnapshotSchema.safeParse(
      await getJson<unknown>(target.socket, '/v1/resources', 5000),
    );
    if (!snapshot.success)
      return {
        input: null,
        reason: `Not checked: EC2 Connect (pid ${target.pid}) answered in an unexpected form.`,
      };
    return { input: { governor: snapshot.data.governor, leak: snapshot.data.leak } };
  } catch (err) {
    return {
      input: null,
      reason: `Not checked: EC2 Connect (pid ${target.pid}) did not answer: ${(err as Error).message}.`,
    };
  }
}

function regionTargets(
  diagnostics: typeof Diagnostics,
  resolved: ResolvedProfile,
  regions: string[] | undefined,
): RegionTarget[] {
  const cp = resolved.controlPlane;
  const custom = cp.options.endpoints?.ssm ?? cp.options.endpoint;
  if (custom) return [{ region: resolved.region, endpoint: custom }];
  const list = regions?.length ? regions : [...diagnostics.DEFAULT_REGIONS];
  if (!list.includes(resolved.region)) list.unshift(resolved.region);
  return list.map((region) => ({ region, endpoint: diagnostics.ssmEndpointFor(region) }));
}

/** Progress on stderr while the checks run, when it is a terminal. */
function progress(
  diagnostics: typeof Diagnostics,
  kind: DiagnosticKind,
  enabled: boolean,
): { tick(): void; clear(): void } {
  const total = diagnostics.plannedChecks(kind).length;
  let done = 0;
  if (!enabled) return { tick() {}, clear() {} };
  const draw = (): void => {
    process.stderr.write(`\r\x1b[2KChecking… ${done} of ${total} done`);
  };
  draw();
  return {
    tick() {
      done++;
      draw();
    },
    clear() {
      process.stderr.write('\r\x1b[2K');
    },
  };
}

export async function runDiagnose(kind: DiagnosticKind, opts: DiagnoseOptions): Promise<number> {
  return withProfile(opts, async (resolved) => {
    const diagnostics = await import('../../core/diagnostics/index.js');
    const format = opts.format ?? 'text';
    const connection = cliConfig(opts).config.connection;
    const extra: Partial<DiagnosticsOptions> = {};
    if (kind === 'full') {
      const { store, sessions } = readStoreHealth(databaseFileFor(opts.db));
      const resources = await readRunningResources();
      extra.store = store;
      extra.recentSessions = sessions;
      if (!sessions)
        extra.recentSessionsUnavailable =
          'Not checked: the history database cannot be read (see "History store health").';
      extra.resources = resources.input;
      if (resources.reason) extra.resourcesUnavailable = resources.reason;
      extra.regions = regionTargets(diagnostics, resolved, opts.regions);
    }
    const bar = progress(diagnostics, kind, format === 'text' && process.stderr.isTTY === true);
    let report: DiagnosticReport;
    try {
      report = await diagnostics.runDiagnostics({
        kind,
        controlPlane: resolved.controlPlane,
        profile: resolved.profile,
        region: resolved.region,
        instanceId: opts.instanceId ?? null,
        timeoutMs: Math.round((opts.timeout ?? DEFAULT_TIMEOUT_MS / 1000) * 1000),
        parallel: opts.parallel ?? DEFAULT_PARALLEL,
        latencyThresholdMs: opts.latencyThreshold ?? connection.latency_threshold_ms,
        // The proxy settings reported; the probes take the control plane's Network (built from them).
        proxy: { url: connection.proxy, noProxy: connection.no_proxy },
        onCheck: () => bar.tick(),
        ...(resolved.sandbox ? { credentialSource: { kind: 'sandbox' as const } } : {}),
        ...extra,
      });
    } finally {
      bar.clear();
    }
    if (format === 'json') {
      process.stdout.write(JSON.stringify(DiagnosticReportSchema.parse(report), null, 2) + '\n');
    } else {
      const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
      process.stdout.write(diagnostics.formatReportText(report, { color }));
    }
    return report.summary.fail > 0 ? 1 : 0;
  });
}
