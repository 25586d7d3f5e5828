/** Port forwards shaped like the back end's (preload/api.ts PortForwardInfo, SavedForward). */
import type { PortForwardInfo, PortList, SavedForward } from '../../../preload/api.js';

let counter = 0;

function uuid(n: number, prefix = '00000000-0000-4000-8000-'): string {
  return `${prefix}${n.toString(16).padStart(12, '0')}`;
}

export const WEB1 = 'i-0b5bb7865829a72f8';
export const API1 = 'i-022e45fccb4896048';

export function forward(partial: Partial<PortForwardInfo> = {}): PortForwardInfo {
  counter++;
  const localPort = partial.localPort ?? 15432 + counter;
  return {
    id: uuid(counter),
    instanceId: WEB1,
    instanceName: 'web-1',
    profile: 'sandbox',
    region: 'us-east-1',
    remotePort: 5432,
    host: null,
    label: null,
    localAddress: `127.0.0.1:${localPort}`,
    localPort,
    mode: 'multiplexed',
    state: 'open',
    sessionId: `user-${counter.toString(16).padStart(12, '0')}`,
    startedAt: Date.now() - 65_000,
    endedAt: null,
    reason: null,
    activeConnections: 0,
    totalConnections: 0,
    failedConnections: 0,
    bytesIn: 0,
    bytesOut: 0,
    connections: [],
    savedId: null,
    ...partial,
  };
}

export function savedForward(partial: Partial<SavedForward> = {}): SavedForward {
  counter++;
  return {
    id: uuid(counter, '11111111-1111-4111-8111-'),
    label: 'prod db',
    instanceId: WEB1,
    instanceName: 'web-1',
    profile: 'sandbox',
    region: 'us-east-1',
    remotePort: 5432,
    host: null,
    localPort: 0,
    createdAt: Date.now() - 3_600_000,
    lastUsedAt: null,
    ...partial,
  };
}

export function portList(partial: Partial<PortList> = {}): PortList {
  return { forwards: [], saved: [], savedProblem: null, ...partial };
}
