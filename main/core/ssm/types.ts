/** Shapes the protocol core hands to the rest of the app (CLI, bridge, renderer). */

export type InstanceState =
  'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated' | 'unknown';
export type InstancePingStatus = 'Online' | 'ConnectionLost' | 'Inactive' | 'NotRegistered';

/** One EC2 instance as the instance explorer and `ec2-connect list` show it (EC2 joined with SSM). */
export interface InstanceSummary {
  instanceId: string;
  name: string;
  state: InstanceState;
  /** SSM agent status; 'NotRegistered' when SSM does not know the instance. */
  pingStatus: InstancePingStatus;
  platform: string;
  platformName?: string;
  agentVersion?: string;
  instanceType?: string;
  availabilityZone?: string;
  privateIpAddress?: string;
  launchTime?: string;
  tags: Record<string, string>;
  /** Why a session cannot be opened now (stopped, agent offline, not managed), or undefined when it can. */
  unavailableReason?: string;
}

export interface SessionStartResult {
  sessionId: string;
  tokenValue: string;
  streamUrl: string;
}
