/**
 * What a port session does depends on the agent at the other end, as in the reference client
 * (session-manager-plugin, src/sessionmanagerplugin/session/portsession and src/version):
 * - the handshake's SessionType properties say what the document asked for: `type`
 *   "LocalPortForwarding" means a local listener, anything else (AWS-StartSSHSession) one
 *   stream on standard input and output;
 * - agents newer than 3.0.196.0 multiplex TCP connections with smux; older ones carry one
 *   connection at a time, ended by the DisconnectToPort flag;
 * - agents newer than 3.1.1511.0 no longer need smux keep-alives.
 */
import { z } from 'zod';

export const LOCAL_PORT_FORWARDING = 'LocalPortForwarding';
export const MULTIPLEXING_AFTER_AGENT = '3.0.196.0';
export const SMUX_KEEPALIVE_OPTIONAL_AFTER_AGENT = '3.1.1511.0';

/**
 * Compare dotted version numbers (3.0.196.0); missing parts count as 0, non-numeric parts make
 * the version unknown (null), as the reference client treats them as unsupported.
 */
export function compareVersions(a: string, b: string): number | null {
  const parse = (v: string): number[] | null => {
    const parts = v.trim().split('.');
    if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p))) return null;
    return parts.map(Number);
  };
  const x = parse(a);
  const y = parse(b);
  if (!x || !y) return null;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

const isAfter = (agentVersion: string, version: string): boolean =>
  (compareVersions(agentVersion, version) ?? -1) > 0;

export function agentSupportsMultiplexing(agentVersion: string): boolean {
  return isAfter(agentVersion, MULTIPLEXING_AFTER_AGENT);
}

export function agentAllowsSmuxWithoutKeepAlive(agentVersion: string): boolean {
  return isAfter(agentVersion, SMUX_KEEPALIVE_OPTIONAL_AFTER_AGENT);
}

/** The SessionType properties of a port session (strings, as the documents define them). */
export const PortPropertiesSchema = z
  .object({
    portNumber: z.string().optional(),
    localPortNumber: z.string().optional(),
    host: z.string().optional(),
    type: z.string().optional(),
  })
  .passthrough();
export type PortProperties = z.infer<typeof PortPropertiesSchema>;

export type PortMode = 'multiplexed' | 'basic' | 'stream';

/** How the reference client would carry this session. */
export function portMode(properties: PortProperties, agentVersion: string): PortMode {
  if (properties.type !== LOCAL_PORT_FORWARDING) return 'stream';
  return agentSupportsMultiplexing(agentVersion) ? 'multiplexed' : 'basic';
}

export function parsePortProperties(raw: unknown): PortProperties {
  const parsed = PortPropertiesSchema.safeParse(raw ?? {});
  return parsed.success ? parsed.data : {};
}
