/** What every check of one run shares: the control plane, the target, the endpoints, the options. */
import type { Network } from '../../net/network.js';
import type { ControlPlane } from '../../ssm/control-plane.js';
import type { CredentialSource } from '../credential-source.js';
import type { ConfiguredProxy } from '../proxy.js';

export const CHECK_IDS = {
  credentials: 'credentials',
  ssmEndpoint: 'ssm-endpoint',
  instance: 'instance',
  agentVersion: 'agent-version',
  startSession: 'start-session',
  dataChannel: 'data-channel',
  clock: 'clock',
  proxy: 'proxy',
  regionLatency: 'region-latency',
  resources: 'resources',
  store: 'store',
  recentFailures: 'recent-failures',
} as const;

export interface RunEnv {
  cp: ControlPlane;
  profile: string;
  region: string;
  /** The instance as given (an id, or a Name tag), or null. */
  instance: string | null;
  /** https://ssm.<region>.amazonaws.com, or the configured endpoint. */
  ssmEndpoint: string;
  stsEndpoint: string;
  /** The data-channel endpoint when no test session gave a StreamUrl. */
  dataChannelFallback: string;
  latencyThresholdMs: number;
  now: () => number;
  env: NodeJS.ProcessEnv;
  proxy: ConfiguredProxy | null;
  /** The route (proxy per host) and trusted CAs of EC2 Connect's connections: the probes take it too. */
  network: Network;
  credentialSource: () => Promise<CredentialSource>;
}

/** The DNS suffix of a region's partition. */
export function partitionSuffix(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}

export function awsEndpoint(service: string, region: string): string {
  return `https://${service}.${region}.${partitionSuffix(region)}`;
}

/** The endpoint the control plane sends a service's calls to. */
export function endpointOf(cp: ControlPlane, service: 'ssm' | 'sts' | 'ec2'): string {
  return cp.options.endpoints?.[service] ?? cp.options.endpoint ?? awsEndpoint(service, cp.region);
}

/** Where sessions' data channels connect when there is no StreamUrl to go by. */
export function defaultDataChannelEndpoint(cp: ControlPlane): string {
  const custom = cp.options.endpoints?.ssm ?? cp.options.endpoint;
  // A custom endpoint (the sandbox, an emulator) serves the data channel itself.
  if (custom) return custom.replace(/^http/i, 'ws');
  return `wss://ssmmessages.${cp.region}.${partitionSuffix(cp.region)}`;
}

/** Rejects with the signal's reason when it aborts first; for work that takes no signal. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}

export function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return u.port ? `${u.hostname}:${u.port}` : u.hostname;
  } catch {
    return url;
  }
}

/** AKIAIOSFODNN7EXAMPLE -> AKIA…MPLE */
export function maskKey(key: string): string {
  return key.length > 10 ? `${key.slice(0, 4)}…${key.slice(-4)}` : key;
}
