/**
 * Checks of the network path: the SSM endpoint (connect + an unsigned request, which needs no
 * credentials), the clock (the Date header of that answer), the data-channel endpoint (TCP+TLS to
 * the test session's StreamUrl host), and the region latency ranking. The endpoints are reached
 * along the route of EC2 Connect's own connections (RunEnv.network): through a CONNECT tunnel
 * where a proxy applies, trusting the CA bundle. ("Proxy settings" is in proxy.ts.)
 */
import type { RegionLatency } from '../../../../preload/api.js';
import type { Network } from '../../net/network.js';
import { formatMs, formatSpan } from '../format.js';
import { measureConnect, pingAws, type AwsPing } from '../net.js';
import type { CheckResult, CheckSpec } from '../types.js';
import type { SessionData } from './aws.js';
import { CHECK_IDS, hostOf, type RunEnv } from './env.js';
import { connectParts, failure, networkFix, through } from './route.js';

export interface EndpointData {
  ping: AwsPing;
}

export function ssmEndpointCheck(env: RunEnv): CheckSpec<EndpointData> {
  const host = hostOf(env.ssmEndpoint);
  return {
    id: CHECK_IDS.ssmEndpoint,
    title: 'SSM endpoint reachable',
    timeoutFix: `${host} accepts connections but does not answer: a proxy or firewall may be holding the connection. Check "Proxy settings", then run again.`,
    async run(ctx) {
      ctx.step(`waiting for an answer from ${env.ssmEndpoint}`);
      const ping = await pingAws(env.ssmEndpoint, {
        signal: ctx.signal,
        timeoutMs: ctx.remainingMs(),
        now: env.now,
        network: env.network,
      });
      const data = { ping };
      if (!ping.ok) {
        return {
          status: 'fail',
          figure:
            ping.failedAt !== 'proxy'
              ? 'unreachable'
              : ping.proxyStatus !== null
                ? `proxy refused (HTTP ${ping.proxyStatus})`
                : 'proxy unreachable',
          detail: `Could not reach the SSM endpoint ${env.ssmEndpoint}${failure(ping)}.`,
          fix: networkFix(ping, 'SSM (com.amazonaws.<region>.ssm)'),
          data,
        };
      }
      const connect = ping.connectMs !== null ? formatMs(ping.connectMs) : '?';
      const rtt = ping.roundTripMs ?? 0;
      const figure = `${formatMs(rtt)} (connect ${connect}${ping.proxy ? ' via proxy' : ''})`;
      const via = through(ping);
      if (!ping.requestId && !ping.errorType) {
        return {
          status: 'warn',
          figure,
          detail: `Something answered at ${env.ssmEndpoint}${via} (HTTP ${ping.status}${ping.contentType ? `, ${ping.contentType}` : ''}), but not the SSM service (no AWS request id): a captive portal, a proxy page or a wrong endpoint URL.`,
          fix: 'Check the endpoint URL (--endpoint, or endpoint_url in the profile) and whether this network needs a sign-in page first.',
          data,
        };
      }
      const circuit =
        env.cp.circuitState === 'open'
          ? ' EC2 Connect has paused its own calls to this endpoint for a few seconds after repeated failures (circuit breaker).'
          : '';
      const parts = ping.proxy
        ? ` (${connectParts({ proxy: ping.proxy, tcpMs: null, tunnelMs: ping.tunnelMs, tlsMs: ping.tlsMs })})`
        : '';
      const answered = `${host} answered an unsigned request (${ping.errorType ?? `HTTP ${ping.status}`})${via} in ${formatMs(rtt)}; connecting took ${connect}${parts}.`;
      if (rtt > env.latencyThresholdMs) {
        return {
          status: 'warn',
          figure,
          detail: `${answered} That is above the latency threshold of ${env.latencyThresholdMs} ms: every call (opening, resuming, listing) waits that long.${circuit}`,
          fix: 'A VPN, proxy or distant region adds latency: try without the VPN, or a region closer to you (see "Region latency" in a full run).',
          data,
        };
      }
      return { status: 'pass', figure, detail: `${answered}${circuit}`, fix: null, data };
    },
  };
}

const CLOCK_WARN_MS = 60_000;
const CLOCK_FAIL_MS = 5 * 60_000;

function clockFix(): string {
  switch (process.platform) {
    case 'darwin':
      return 'Turn on System Settings > General > Date & Time > "Set time and date automatically".';
    case 'win32':
      return 'Turn on Settings > Time & language > Date & time > "Set time automatically" (or run `w32tm /resync` as administrator).';
    default:
      return 'Turn on time synchronisation: `sudo timedatectl set-ntp true` (or start chronyd / ntpd).';
  }
}

export function clockCheck(env: RunEnv): CheckSpec {
  return {
    id: CHECK_IDS.clock,
    title: 'Clock in sync',
    after: [CHECK_IDS.ssmEndpoint],
    async run(ctx) {
      const ping = ctx.result<EndpointData>(CHECK_IDS.ssmEndpoint)?.data?.ping;
      if (!ping?.ok) {
        return {
          status: 'skip',
          figure: null,
          detail: "Not checked: the SSM endpoint did not answer, so AWS's clock could not be read.",
          fix: null,
        };
      }
      if (ping.serverDateMs === null || ping.localDateMs === null) {
        return {
          status: 'skip',
          figure: null,
          detail: `Not checked: the answer from ${hostOf(env.ssmEndpoint)} had no Date header.`,
          fix: null,
        };
      }
      // The Date header has whole seconds (truncated): AWS's time was within the second after it.
      const skew = ping.localDateMs - (ping.serverDateMs + 500);
      const abs = Math.abs(skew);
      const dir = skew > 0 ? 'ahead of' : 'behind';
      const aws = new Date(ping.serverDateMs).toISOString().replace('.000Z', 'Z');
      const local = new Date(ping.localDateMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const said = `(AWS's Date header: ${aws}; this computer: ${local})`;
      if (abs <= 1500) {
        return {
          status: 'pass',
          figure: 'in sync (within 1 s)',
          detail: `This computer's clock agrees with AWS's to within a second ${said}.`,
          fix: null,
        };
      }
      const figure = `clock ${formatSpan(abs)} ${skew > 0 ? 'ahead' : 'behind'}`;
      const text = `This computer's clock is ${formatSpan(abs)} ${dir} AWS's ${said}.`;
      if (abs > CLOCK_FAIL_MS) {
        return {
          status: 'fail',
          figure,
          detail: `${text} AWS refuses requests signed more than 5 minutes off ("Signature expired"; EC2 and STS allow 15).`,
          fix: clockFix(),
        };
      }
      if (abs > CLOCK_WARN_MS) {
        return {
          status: 'warn',
          figure,
          detail: `${text} AWS still accepts it, but refuses signed requests once the clock is 5 minutes off.`,
          fix: clockFix(),
        };
      }
      return { status: 'pass', figure, detail: `${text} That is within a minute.`, fix: null };
    },
  };
}

/** Where the data channel connects: the test session's StreamUrl, else the region's endpoint. */
export function dataChannelTarget(
  env: RunEnv,
  session: SessionData | undefined,
): { url: string; source: string } {
  return session?.streamUrl
    ? { url: session.streamUrl, source: "the test session's StreamUrl" }
    : { url: env.dataChannelFallback, source: "the region's data-channel endpoint" };
}

export function dataChannelCheck(env: RunEnv): CheckSpec {
  return {
    id: CHECK_IDS.dataChannel,
    title: 'Data-channel endpoint reachable',
    after: [CHECK_IDS.startSession],
    async run(ctx) {
      const session = ctx.result<SessionData>(CHECK_IDS.startSession)?.data;
      const { url, source } = dataChannelTarget(env, session);
      const host = hostOf(url);
      ctx.step(`connecting to ${host}`);
      const r = await measureConnect(url, {
        signal: ctx.signal,
        timeoutMs: ctx.remainingMs(),
        network: env.network,
      });
      if (!r.ok) {
        return {
          status: 'fail',
          figure: r.failedAt === 'proxy' ? 'proxy failed' : 'unreachable',
          detail:
            `Could not connect to ${r.endpoint} (${source})${failure(r)}. ` +
            'Sessions can be started (that is the SSM API), but their terminal traffic goes over this WebSocket endpoint, so they would fail while connecting.',
          fix: networkFix(r, 'Session Manager messages (com.amazonaws.<region>.ssmmessages)'),
        };
      }
      const figure = `${formatMs(r.totalMs ?? 0)} (${r.endpoint}${r.proxy ? ' via proxy' : ''})`;
      const detail = `Connected to ${r.endpoint} (${source})${through(r)} in ${formatMs(r.totalMs ?? 0)}: ${connectParts(r)}.`;
      if ((r.totalMs ?? 0) > env.latencyThresholdMs) {
        return {
          status: 'warn',
          figure,
          detail: `${detail} That is above the latency threshold of ${env.latencyThresholdMs} ms: typing will feel slow, and reconnects take longer.`,
          fix: 'A VPN, proxy or distant region adds latency: try without the VPN, or a region closer to you.',
        };
      }
      return { status: 'pass', figure, detail, fix: null };
    },
  };
}

export interface RankOptions {
  /** Per endpoint (default 5 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The route (proxy per host) and trusted CAs to connect with (default: direct). */
  network?: Network;
  /** Connections at once (default 8). */
  parallel?: number;
}

/**
 * Connect time (TCP + TLS) to each region's SSM endpoint, fastest first; unreachable ones last
 * with their errors (in the order given).
 */
export async function rankRegions(
  regions: readonly string[],
  endpointFor: (region: string) => string,
  options: RankOptions = {},
): Promise<RegionLatency[]> {
  const parallel = Math.max(1, options.parallel ?? 8);
  const results: RegionLatency[] = new Array<RegionLatency>(regions.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < regions.length) {
      const i = next++;
      const region = regions[i]!;
      const url = endpointFor(region);
      const r = await measureConnect(url, {
        timeoutMs: options.timeoutMs ?? 5000,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.network ? { network: options.network } : {}),
      });
      results[i] = {
        region,
        endpoint: r.endpoint,
        ok: r.ok,
        latencyMs: r.ok ? r.totalMs : null,
        error: r.ok ? null : r.error,
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, regions.length) }, worker));
  const order = new Map(regions.map((r, i) => [r, i]));
  return [...results].sort((a, b) => {
    if (a.ok !== b.ok) return a.ok ? -1 : 1;
    if (a.ok && b.ok) return (a.latencyMs ?? 0) - (b.latencyMs ?? 0);
    return order.get(a.region)! - order.get(b.region)!;
  });
}

export interface RegionTarget {
  region: string;
  /** URL of its SSM endpoint. */
  endpoint: string;
}

export function regionLatencyCheck(
  env: RunEnv,
  targets: readonly RegionTarget[],
): CheckSpec<RegionLatency[]> {
  return {
    id: CHECK_IDS.regionLatency,
    title: 'Region latency',
    async run(ctx): Promise<CheckResult<RegionLatency[]>> {
      if (targets.length === 0) {
        return { status: 'skip', figure: null, detail: 'No regions to measure.', fix: null };
      }
      const byRegion = new Map(targets.map((t) => [t.region, t.endpoint]));
      ctx.step(
        `connecting to the SSM endpoints of ${targets.length} region${targets.length === 1 ? '' : 's'}`,
      );
      // Fit every wave of connections (8 at a time) within the deadline.
      const waves = Math.ceil(targets.length / 8);
      const perEndpointMs = Math.max(250, Math.min(5000, Math.floor((ctx.remainingMs() - 200) / waves)));
      const ranked = await rankRegions(
        targets.map((t) => t.region),
        (r) => byRegion.get(r)!,
        { signal: ctx.signal, timeoutMs: perEndpointMs, parallel: 8, network: env.network },
      );
      const reachable = ranked.filter((r) => r.ok);
      if (reachable.length === 0) {
        return {
          status: 'fail',
          figure: 'no region reachable',
          detail: `None of the ${ranked.length} SSM endpoints answered (${ranked[0]?.error ?? 'no answer'}).`,
          fix: 'This computer cannot reach AWS: check the network connection, firewall and proxy.',
          data: ranked,
        };
      }
      const fastest = reachable[0]!;
      const mineIndex = ranked.findIndex((r) => r.region === env.region);
      const mine = mineIndex >= 0 ? ranked[mineIndex]! : undefined;
      const figure = `fastest ${fastest.region} ${formatMs(fastest.latencyMs ?? 0)}`;
      const summary = `${reachable.length} of ${ranked.length} region${ranked.length === 1 ? '' : 's'} answered; fastest ${fastest.region} (${formatMs(fastest.latencyMs ?? 0)}).`;
      if (mine && !mine.ok) {
        return {
          status: 'warn',
          figure,
          detail: `${summary} Your region ${env.region} did not answer (${mine.error}).`,
          fix: `See "SSM endpoint reachable": ${mine.endpoint} is blocked or down from here.`,
          data: ranked,
        };
      }
      const mineText = mine
        ? ` Your region ${env.region} is ${ordinal(mineIndex + 1)} at ${formatMs(mine.latencyMs ?? 0)}.`
        : '';
      return { status: 'pass', figure, detail: `${summary}${mineText}`, fix: null, data: ranked };
    },
  };
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${s}`;
}
