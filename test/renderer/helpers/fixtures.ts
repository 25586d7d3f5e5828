/** Test data shaped like the sandbox's fleet (main/sandbox/fleet.ts). */
import {
  DEFAULT_SETTINGS,
  type AppInfo,
  type InstanceList,
  type ProfileList,
  type SessionInfo,
  type Settings,
} from '../../../preload/api.js';

export type Instance = InstanceList['instances'][number];

export function instance(partial: Partial<Instance> & { instanceId: string; name: string }): Instance {
  return {
    state: 'running',
    pingStatus: 'Online',
    platform: 'Linux',
    platformName: 'Amazon Linux',
    instanceType: 't3.small',
    availabilityZone: 'us-east-1a',
    privateIpAddress: '10.0.1.11',
    tags: { Name: partial.name },
    ...partial,
  };
}

export const FLEET: Instance[] = [
  instance({
    instanceId: 'i-0b5bb7865829a72f8',
    name: 'web-1',
    privateIpAddress: '10.0.1.11',
    tags: { Name: 'web-1', Environment: 'prod', Team: 'web', Role: 'web' },
  }),
  instance({
    instanceId: 'i-0a03534fd537d6397',
    name: 'web-2',
    privateIpAddress: '10.0.2.12',
    availabilityZone: 'us-east-1b',
    tags: { Name: 'web-2', Environment: 'prod', Team: 'web', Role: 'web' },
  }),
  instance({
    instanceId: 'i-022e45fccb4896048',
    name: 'api-1',
    platformName: 'Ubuntu',
    instanceType: 'm6i.large',
    privateIpAddress: '10.0.1.21',
    tags: { Name: 'api-1', Environment: 'prod', Team: 'platform', Role: 'api' },
  }),
  instance({
    instanceId: 'i-0cff4813ded0cd81b',
    name: 'db-replica',
    pingStatus: 'ConnectionLost',
    privateIpAddress: '10.0.4.32',
    tags: { Name: 'db-replica', Environment: 'prod', Team: 'data', Role: 'database' },
  }),
  instance({
    instanceId: 'i-00c33943c694df560',
    name: 'worker-2',
    state: 'stopped',
    pingStatus: 'ConnectionLost',
    privateIpAddress: '10.1.2.42',
    tags: { Name: 'worker-2', Environment: 'staging', Team: 'data', Role: 'worker' },
    unavailableReason: 'the instance is stopped',
  }),
  instance({
    instanceId: 'i-07f645976171c294b',
    name: 'ftp-legacy',
    pingStatus: 'NotRegistered',
    platform: 'Linux',
    privateIpAddress: '10.1.3.81',
    tags: { Name: 'ftp-legacy', Environment: 'staging', Team: 'platform', Role: 'ftp', Note: 'no SSM agent' },
  }),
  instance({
    instanceId: 'i-00072a1e30e84868d',
    name: 'win-build-1',
    platform: 'Windows',
    platformName: 'Microsoft Windows Server 2022 Datacenter',
    instanceType: 'm5.large',
    privateIpAddress: '10.2.1.61',
    tags: { Name: 'win-build-1', Environment: 'dev', Team: 'web', Role: 'build' },
  }),
];

export function appInfo(profile = 'sandbox', region = 'us-east-1'): AppInfo {
  return {
    version: '0.1.0',
    profile,
    region,
    endpoint: profile === 'sandbox' ? 'http://127.0.0.1:40123/' : null,
    platform: 'linux',
  };
}

export function instanceList(
  instances: Instance[] = FLEET,
  profile = 'sandbox',
  region = 'us-east-1',
): InstanceList {
  return { profile, region, instances, fetchedAt: '2026-11-25T12:00:00.000Z' };
}

export function profileList(profile = 'sandbox', region = 'us-east-1'): ProfileList {
  return {
    active: { profile, region },
    profiles: [
      { name: 'sandbox', kind: 'sandbox', source: 'built-in' },
      { name: 'prod', kind: 'sso', region: 'eu-west-1', source: '/home/u/.aws/config' },
      { name: 'dev', kind: 'static', source: '/home/u/.aws/credentials' },
    ],
    regions: ['us-east-1', 'eu-west-1', 'us-west-2'],
    warnings: [],
  };
}

export function settings(patch: Partial<Settings> = {}): Settings {
  return { ...structuredClone(DEFAULT_SETTINGS), ...patch };
}

let sessionCounter = 0;

export function session(partial: Partial<SessionInfo> = {}): SessionInfo {
  sessionCounter++;
  const hex = sessionCounter.toString(16).padStart(12, '0');
  return {
    id: `00000000-0000-4000-8000-${hex}`,
    awsSessionId: `user-${hex}`,
    instanceId: 'i-0b5bb7865829a72f8',
    instanceName: 'web-1',
    profile: 'sandbox',
    region: 'us-east-1',
    state: 'open',
    bytesIn: 2048,
    bytesOut: 100,
    reconnects: 0,
    openedAt: new Date().toISOString(),
    openMs: 15,
    lastActivityAt: new Date().toISOString(),
    ...partial,
  };
}
