/**
 * The "Proxy settings" check: which proxy applies to the SSM host and to the data-channel host
 * under the settings (the configuration's, else the environment's), whether EC2 Connect's own
 * connections (its Network) go the same way, and, for each host a proxy applies to, whether the
 * proxy opens a CONNECT tunnel to it (nothing is sent through).
 */
import { proxySourceName } from '../../net/proxy-server.js';
import { formatMs } from '../format.js';
import { proxyConnect } from '../net.js';
import {
  proxyFor,
  proxySettings,
  redactProxy,
  type ProxyDecision,
  type ProxySettings,
  type ProxyVariable,
} from '../proxy.js';
import type { CheckSpec } from '../types.js';
import type { SessionData } from './aws.js';
import { CHECK_IDS, hostOf, type RunEnv } from './env.js';
import { dataChannelTarget } from './network.js';
import { proxyFix } from './route.js';

export function proxyCheck(env: RunEnv): CheckSpec {
  return {
    id: CHECK_IDS.proxy,
    title: 'Proxy settings',
    after: [CHECK_IDS.startSession],
    async run(ctx) {
      const settings: ProxySettings = proxySettings(env.env, env.proxy);
      const session = ctx.result<SessionData>(CHECK_IDS.startSession)?.data;
      const dc = dataChannelTarget(env, session);
      const targets = [
        { what: 'SSM API', url: env.ssmEndpoint },
        { what: 'data channel', url: dc.url },
      ];
      // EC2 Connect's connections follow its Network, made from these same settings; a caller
      // that passed other ones is told how its connections really go.
      const differs = targets.flatMap(({ url }) => {
        const actual = env.network.route(url);
        const expected = proxyFor(url, settings);
        return !!actual.proxy === !!expected.proxy
          ? []
          : [`${hostOf(url)} ${actual.proxy ? `through ${actual.proxy}` : 'directly'} (${actual.reason})`];
      });
      const who = differs.length
        ? `EC2 Connect's own connections are set up differently: ${differs.join('; ')}.`
        : 'EC2 Connect follows these settings.';
      if (!settings.https && !settings.http) {
        const noProxy = settings.noProxy
          ? ` (${settings.noProxy.source} is set but has nothing to exclude from)`
          : '';
        return {
          status: 'pass',
          figure: 'no proxy',
          detail: `No proxy is set (HTTPS_PROXY, HTTP_PROXY${env.proxy ? ' and the configuration' : ''} are empty)${noProxy}: ${targets.map((t) => hostOf(t.url)).join(' and ')} are reached directly.${differs.length ? ` ${who}` : ''}`,
          fix: null,
        };
      }
      const decisions = targets.map((t) => ({ ...t, d: proxyFor(t.url, settings) }));
      const reason = (d: ProxyDecision): string => d.reason.replace(/^config\b/, 'connection.proxy');
      const lines = decisions.map(
        ({ what, d }) =>
          `${what} (${d.endpoint}): ${d.proxy ? `through ${redactProxy(d.proxy.value)} (${reason(d)})` : `direct (${reason(d)})`}`,
      );
      const problems: string[] = [];
      const fixes: string[] = [];
      const tested: string[] = [];
      // The SSM API and the data channel may share a host (a custom endpoint): ask once for both.
      const asks = new Map<string, { what: string; url: string; proxy: ProxyVariable }>();
      for (const { what, url, d } of decisions) {
        if (!d.proxy) continue;
        const key = `${d.proxy.value} ${d.endpoint}`;
        const same = asks.get(key);
        if (same) same.what += ` and the ${what}`;
        else asks.set(key, { what, url, proxy: d.proxy });
      }
      for (const { what, url, proxy } of asks.values()) {
        const u = new URL(url);
        const secure = u.protocol === 'https:' || u.protocol === 'wss:';
        const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
        const port = u.port ? Number(u.port) : secure ? 443 : 80;
        const endpoint = `${u.hostname}:${port}`;
        ctx.step(`asking the proxy ${redactProxy(proxy.value)} for a tunnel to ${endpoint}`);
        const r = await proxyConnect(proxy, host, port, {
          signal: ctx.signal,
          timeoutMs: Math.max(1, Math.min(5000, ctx.remainingMs())),
          network: env.network,
        });
        if (r.ok) {
          tested.push(`the proxy opened a tunnel to ${endpoint} in ${formatMs(r.ms ?? 0)}`);
          continue;
        }
        problems.push(
          r.status !== null
            ? `the proxy ${redactProxy(proxy.value)} refuses CONNECT to ${endpoint} for the ${what} (HTTP ${r.status}${r.statusText ? ` ${r.statusText}` : ''})`
            : (r.error ?? 'the proxy did not answer').replace(/\.$/, ''),
        );
        fixes.push(proxyFix(r.status, r.code, endpoint, proxySourceName(proxy.source)));
      }
      const shown = (settings.https ?? settings.http)!;
      const figure = `${proxySourceName(shown.source)}=${redactProxy(shown.value)}`;
      const detail = `${lines.join('; ')}. ${who}${tested.length ? ` Checked: ${tested.join('; ')}.` : ''}`;
      if (problems.length) {
        return {
          status: 'warn',
          figure,
          detail: `${detail} Problem: ${problems.join('; ')}.`,
          fix: [...new Set(fixes)].join(' '),
        };
      }
      return { status: 'pass', figure, detail, fix: null };
    },
  };
}
