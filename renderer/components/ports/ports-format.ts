/** Words, tones and checks of the Ports view (pure, no DOM). */
import {
  RemoteHostSchema,
  type PortForwardInfo,
  type PortForwardSpec,
  type PortForwardState,
  type SavedForward,
} from '../../../preload/api.js';
import { formatDuration } from '../history/history-format.js';

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted';

type Target = Pick<PortForwardInfo, 'remotePort' | 'host' | 'instanceName'>;

/** Still forwarding (or about to): not closed or failed. */
export function isLiveForward(f: Pick<PortForwardInfo, 'state'>): boolean {
  return f.state !== 'closed' && f.state !== 'failed';
}

/** "port 5432 on web-1", or "db.internal:5432 via web-1" for a host the instance reaches. */
export function targetText(t: Target): string {
  return t.host
    ? `${t.host}:${t.remotePort} via ${t.instanceName}`
    : `port ${t.remotePort} on ${t.instanceName}`;
}

/** The forward's label, else its target. */
export function forwardTitle(f: Target & { label: string | null }): string {
  return f.label?.trim() || targetText(f);
}

export function stateTone(state: PortForwardState): Tone {
  switch (state) {
    case 'open':
      return 'ok';
    case 'starting':
      return 'info';
    case 'reconnecting':
      return 'warn';
    case 'failed':
      return 'bad';
    default:
      return 'muted';
  }
}

/** Live forwards first (newest first), then ended ones (most recently ended first). */
export function sortForwards(list: readonly PortForwardInfo[]): PortForwardInfo[] {
  return [...list].sort((a, b) => {
    const la = isLiveForward(a);
    const lb = isLiveForward(b);
    if (la !== lb) return la ? -1 : 1;
    if (!la) return (b.endedAt ?? b.startedAt) - (a.endedAt ?? a.startedAt);
    return b.startedAt - a.startedAt;
  });
}

/** Saved forwards by label (natural order), then target. */
export function sortSaved(list: readonly SavedForward[]): SavedForward[] {
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  return [...list].sort(
    (a, b) => collator.compare(a.label, b.label) || collator.compare(targetText(a), targetText(b)),
  );
}

const HTTP_PORTS = new Set([
  80, 3000, 3001, 4200, 5000, 5173, 5601, 8000, 8008, 8080, 8081, 8088, 8888, 9000, 9090, 9200, 15672,
]);
const HTTPS_PORTS = new Set([443, 4443, 8443, 9443]);

/**
 * "http://127.0.0.1:8080" when the remote port is a usual web port (to paste in a browser), else null.
 * Shown as text: the page never opens links to local ports itself.
 */
export function webHint(remotePort: number, localAddress: string): string | null {
  if (!localAddress) return null;
  if (HTTPS_PORTS.has(remotePort)) return `https://${localAddress}`;
  if (HTTP_PORTS.has(remotePort)) return `http://${localAddress}`;
  return null;
}

/** How long a forward has run: "0 s" … "9 s", then "42 s", "3 min 20 s", "2 h 5 min", "3 d 4 h". */
export function formatUptime(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const clamped = Math.max(0, ms);
  if (clamped < 10_000) return `${Math.floor(clamped / 1000)} s`;
  return formatDuration(clamped);
}

/** "2 active · 5 total", with " · 1 failed" when some failed. */
export function connectionsText(
  f: Pick<PortForwardInfo, 'activeConnections' | 'totalConnections' | 'failedConnections'>,
): string {
  const text = `${f.activeConnections} active · ${f.totalConnections} total`;
  return f.failedConnections > 0 ? `${text} · ${f.failedConnections} failed` : text;
}

/** "any" for 0, else the port. */
export function localPortText(port: number): string {
  return port === 0 ? 'any free port' : `local port ${port}`;
}

// ---- the form ---------------------------------------------------------------------------------

/** The Start form as typed (strings: what the inputs hold). */
export interface PortDraft {
  instanceId: string | null;
  remotePort: string;
  localPort: string;
  host: string;
  label: string;
  save: boolean;
}

export function emptyDraft(instanceId: string | null = null): PortDraft {
  return { instanceId, remotePort: '', localPort: '', host: '', label: '', save: false };
}

export type DraftField = 'instanceId' | 'remotePort' | 'localPort' | 'host' | 'label';
export type DraftErrors = Partial<Record<DraftField, string>>;

function parsePort(text: string, min: number): number | string {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return `a number from ${min} to 65535`;
  const n = Number(t);
  if (n < min || n > 65535) return `a number from ${min} to 65535`;
  return n;
}

/** Check the form: the spec to send, or what is wrong with each field. */
export function validateDraft(
  draft: PortDraft,
): { ok: true; spec: PortForwardSpec & { save?: boolean } } | { ok: false; errors: DraftErrors } {
  const errors: DraftErrors = {};
  if (!draft.instanceId) errors.instanceId = 'Choose an instance.';

  let remotePort: number | undefined;
  if (!draft.remotePort.trim()) errors.remotePort = 'The port on the instance (or host), 1 to 65535.';
  else {
    const p = parsePort(draft.remotePort, 1);
    if (typeof p === 'string') errors.remotePort = `Expected ${p}.`;
    else remotePort = p;
  }

  let localPort: number | undefined;
  if (draft.localPort.trim()) {
    const p = parsePort(draft.localPort, 0);
    if (typeof p === 'string') errors.localPort = `Expected ${p} (blank or 0: any free port).`;
    else localPort = p;
  }

  const host = draft.host.trim();
  if (host) {
    const parsed = RemoteHostSchema.safeParse(host);
    if (!parsed.success) {
      const message = parsed.error.issues[0]?.message ?? 'expected a host name or IP address';
      errors.host = message.charAt(0).toUpperCase() + message.slice(1) + (message.endsWith('.') ? '' : '.');
    }
  }

  const label = draft.label.trim();
  if (label.length > 80) errors.label = 'At most 80 characters.';

  if (Object.keys(errors).length > 0 || remotePort === undefined || !draft.instanceId)
    return { ok: false, errors };
  return {
    ok: true,
    spec: {
      instanceId: draft.instanceId,
      remotePort,
      ...(localPort !== undefined && localPort !== 0 ? { localPort } : {}),
      ...(host ? { host } : {}),
      ...(label ? { label } : {}),
      ...(draft.save ? { save: true } : {}),
    },
  };
}

/** A forward's spec (to open it again or save it). */
export function specOf(f: PortForwardInfo): PortForwardSpec {
  return {
    instanceId: f.instanceId,
    remotePort: f.remotePort,
    ...(f.localPort ? { localPort: f.localPort } : {}),
    ...(f.host ? { host: f.host } : {}),
    ...(f.label ? { label: f.label } : {}),
  };
}

/** Does a saved forward describe this forward (same instance, target, profile and region)? */
export function sameTarget(
  f: Pick<PortForwardInfo, 'instanceId' | 'remotePort' | 'host' | 'profile' | 'region'>,
  s: Pick<SavedForward, 'instanceId' | 'remotePort' | 'host' | 'profile' | 'region'>,
): boolean {
  return (
    f.instanceId === s.instanceId &&
    f.remotePort === s.remotePort &&
    (f.host ?? null) === (s.host ?? null) &&
    f.profile === s.profile &&
    f.region === s.region
  );
}
