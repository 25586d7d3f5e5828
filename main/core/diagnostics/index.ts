/**
 * Connection diagnostics (issue 8): `runDiagnostics()` runs the preventive checks (credentials,
 * SSM endpoint, instance, agent version, permission to start a session, data channel, clock,
 * proxy) or the full set (those plus region latency, local resources, store health and recent
 * session failures) against a ControlPlane and plain inputs, and returns a DiagnosticReport. The
 * CLI (`ec2-connect diagnose`) and the app call it the same way. See docs/diagnostics.md.
 */
import {
  DiagnosticReportSchema,
  type DiagnosticCheck,
  type DiagnosticReport,
  type HistorySession,
} from '../../../preload/api.js';
import type { Network } from '../net/network.js';
import type { ControlPlane } from '../ssm/control-plane.js';
import { credentialSourceFor, type CredentialSource } from './credential-source.js';
import { DEFAULT_PARALLEL, DEFAULT_TIMEOUT_MS, runChecks } from './runner.js';
import type { CheckSpec } from './types.js';
import type { ConfiguredProxy } from './proxy.js';
import { agentVersionCheck, credentialsCheck, instanceCheck, startSessionCheck } from './checks/aws.js';
import { CHECK_IDS, awsEndpoint, defaultDataChannelEndpoint, endpointOf, type RunEnv } from './checks/env.js';
import {
  clockCheck,
  dataChannelCheck,
  regionLatencyCheck,
  ssmEndpointCheck,
  type RegionTarget,
} from './checks/network.js';
import { proxyCheck } from './checks/proxy.js';
import {
  recentFailuresCheck,
  resourcesCheck,
  storeCheck,
  type ResourceStateInput,
  type StoreHealthInput,
} from './checks/local.js';

export { CHECK_IDS } from './checks/env.js';
export { rankRegions, type RegionTarget } from './checks/network.js';
export type { ResourceStateInput, StoreHealthInput } from './checks/local.js';
export type { ConfiguredProxy } from './proxy.js';
export type { CredentialSource, CredentialSourceKind } from './credential-source.js';
export { formatReportText, summaryLine, STATUS_SYMBOLS } from './format.js';
export { runChecks, DEFAULT_PARALLEL, DEFAULT_TIMEOUT_MS } from './runner.js';
export { AGENT_FEATURES, RECOMMENDED_AGENT_VERSION, compareAgentVersions } from './agent-version.js';
export type { CheckSpec, CheckResult, CheckContext } from './types.js';

export type DiagnosticKind = DiagnosticReport['kind'];

export const DEFAULT_LATENCY_THRESHOLD_MS = 300;

/** Commercial regions measured by a full run against real AWS (when no endpoint is configured). */
export const DEFAULT_REGIONS: readonly string[] = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'sa-east-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-north-1',
  'eu-south-1',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'me-south-1',
  'af-south-1',
];

/** https://ssm.<region>.amazonaws.com (amazonaws.com.cn in China). */
export function ssmEndpointFor(region: string): string {
  return awsEndpoint('ssm', region);
}

export interface DiagnosticsOptions {
  kind: DiagnosticKind;
  controlPlane: ControlPlane;
  /** The profile name, for the report and for fixes (`aws sso login --profile X`). */
  profile: string;
  /** Default: the control plane's region. */
  region?: string;
  /** An instance id (or a Name tag); required for the instance checks (they are skipped without). */
  instanceId?: string | null;
  /** Deadline of each check (default 10 s). */
  timeoutMs?: number;
  /** Checks at once (default 4). */
  parallel?: number;
  /** Latency above this warns (default 300 ms). */
  latencyThresholdMs?: number;
  /** Each check as it finishes, for live progress. */
  onCheck?: (check: DiagnosticCheck) => void;
  /** Each check as it starts. */
  onStart?: (id: string, title: string) => void;
  /** Cancels the run (the checks not finished are reported as skipped). */
  signal?: AbortSignal;
  /**
   * Run only these checks (ids from CHECK_IDS), e.g. to repeat one; a check then goes without
   * what an unselected one would have found (as if it had not run).
   */
  checks?: readonly string[];
  /** Environment for the proxy variables (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** A proxy from EC2 Connect's configuration; it replaces the environment's ("Proxy settings" reports them). */
  proxy?: ConfiguredProxy | null;
  /**
   * The route and trusted CAs the endpoint probes take (default: the control plane's Network):
   * through the proxy that applies to each host, as EC2 Connect's own connections.
   */
  network?: Network;
  /** Where the credentials come from (default: read from the shared AWS config files). */
  credentialSource?: CredentialSource;
  /** Override the SSM endpoint probed (default: the control plane's). */
  ssmEndpoint?: string;
  /** This computer's clock (default Date.now); the clock check compares it with AWS's. */
  now?: () => number;
  /** Full runs: the regions to rank, each with its SSM endpoint (default: the profile's region only when an endpoint is configured, else DEFAULT_REGIONS). */
  regions?: readonly RegionTarget[];
  /** Full runs: the resource governor's state (null: skipped, with `resourcesUnavailable` as the reason). */
  resources?: ResourceStateInput | null;
  resourcesUnavailable?: string;
  /** Full runs: the history store's health. */
  store?: StoreHealthInput | null;
  storeUnavailable?: string;
  /** Full runs: recorded sessions (those that failed in the last 24 h are reported). */
  recentSessions?: readonly HistorySession[] | null;
  recentSessionsUnavailable?: string;
}

function buildEnv(o: DiagnosticsOptions): RunEnv {
  const cp = o.controlPlane;
  let source: Promise<CredentialSource> | undefined;
  return {
    cp,
    profile: o.profile,
    region: o.region ?? cp.region,
    instance: o.instanceId?.trim() ? o.instanceId.trim() : null,
    ssmEndpoint: o.ssmEndpoint ?? endpointOf(cp, 'ssm'),
    stsEndpoint: endpointOf(cp, 'sts'),
    dataChannelFallback: defaultDataChannelEndpoint(cp),
    latencyThresholdMs: o.latencyThresholdMs ?? DEFAULT_LATENCY_THRESHOLD_MS,
    now: o.now ?? Date.now,
    env: o.env ?? process.env,
    proxy: o.proxy ?? null,
    network: o.network ?? cp.network,
    credentialSource: () =>
      (source ??= o.credentialSource ? Promise.resolve(o.credentialSource) : credentialSourceFor(o.profile)),
  };
}

function defaultRegions(env: RunEnv, cp: ControlPlane): RegionTarget[] {
  const custom = cp.options.endpoints?.ssm ?? cp.options.endpoint;
  if (custom) return [{ region: env.region, endpoint: custom }];
  return DEFAULT_REGIONS.map((region) => ({ region, endpoint: ssmEndpointFor(region) }));
}

/** The checks of a run, in report order. */
export function diagnosticChecks(o: DiagnosticsOptions): CheckSpec[] {
  const env = buildEnv(o);
  const checks: CheckSpec[] = [
    credentialsCheck(env),
    ssmEndpointCheck(env),
    instanceCheck(env),
    agentVersionCheck(env),
    startSessionCheck(env),
    dataChannelCheck(env),
    clockCheck(env),
    proxyCheck(env),
  ] as CheckSpec[];
  if (o.kind === 'full') {
    checks.push(
      regionLatencyCheck(env, o.regions ?? defaultRegions(env, o.controlPlane)) as CheckSpec,
      resourcesCheck(env, o.resources, o.resourcesUnavailable),
      storeCheck(env, o.store, o.storeUnavailable),
      recentFailuresCheck(env, o.recentSessions, o.recentSessionsUnavailable),
    );
  }
  if (!o.checks) return checks;
  const selected = new Set(o.checks);
  const unknown = [...selected].filter((id) => !checks.some((c) => c.id === id));
  if (unknown.length) {
    throw new Error(
      `unknown check ${unknown.map((u) => `"${u}"`).join(', ')} for a ${o.kind} run; checks: ${checks.map((c) => c.id).join(', ')}`,
    );
  }
  return checks
    .filter((c) => selected.has(c.id))
    .map((c) => ({
      ...c,
      requires: (c.requires ?? []).filter((d) => selected.has(d)),
      after: (c.after ?? []).filter((d) => selected.has(d)),
    }));
}

/** The checks a run will report, in order (for a UI that lists them before they finish). */
export function plannedChecks(
  kind: DiagnosticKind,
  only?: readonly string[],
): Array<{ id: string; title: string }> {
  const titles: Array<[string, string]> = [
    [CHECK_IDS.credentials, 'Credentials valid'],
    [CHECK_IDS.ssmEndpoint, 'SSM endpoint reachable'],
    [CHECK_IDS.instance, 'Instance registered and online'],
    [CHECK_IDS.agentVersion, 'SSM agent version'],
    [CHECK_IDS.startSession, 'Permission to start a session'],
    [CHECK_IDS.dataChannel, 'Data-channel endpoint reachable'],
    [CHECK_IDS.clock, 'Clock in sync'],
    [CHECK_IDS.proxy, 'Proxy settings'],
  ];
  if (kind === 'full') {
    titles.push(
      [CHECK_IDS.regionLatency, 'Region latency'],
      [CHECK_IDS.resources, 'Local resources'],
      [CHECK_IDS.store, 'History store health'],
      [CHECK_IDS.recentFailures, 'Recent session failures'],
    );
  }
  return titles.filter(([id]) => !only || only.includes(id)).map(([id, title]) => ({ id, title }));
}

/** Run the diagnostics; resolves with a report that DiagnosticReportSchema accepts. Rejects only for invalid options. */
export async function runDiagnostics(o: DiagnosticsOptions): Promise<DiagnosticReport> {
  if (o.kind !== 'preventive' && o.kind !== 'full')
    throw new Error(`unknown diagnostics kind "${String(o.kind)}"`);
  const startedAt = new Date();
  const t0 = performance.now();
  const specs = diagnosticChecks(o);
  const results = await runChecks(specs, {
    parallel: o.parallel ?? DEFAULT_PARALLEL,
    timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(o.onCheck ? { onCheck: o.onCheck } : {}),
    ...(o.onStart ? { onStart: o.onStart } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const summary = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const r of results) summary[r.status]++;
  const regions = results.find((r) => r.id === CHECK_IDS.regionLatency)?.data as DiagnosticReport['regions'];
  const report: DiagnosticReport = {
    kind: o.kind,
    profile: o.profile,
    region: o.region ?? o.controlPlane.region,
    instanceId: o.instanceId?.trim() ? o.instanceId.trim() : null,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round((performance.now() - t0) * 10) / 10,
    checks: results.map(({ data: _data, ...c }) => c),
    ...(o.kind === 'full' ? { regions: regions ?? [] } : {}),
    summary,
  };
  return DiagnosticReportSchema.parse(report);
}
