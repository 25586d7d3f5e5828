/**
 * Contracts between the parts of the sandbox (a local emulation of the few AWS
 * services EC2 Connect uses). The HTTP control plane (ssm/ec2/sts APIs), the
 * session registry, the fault controller and the data-channel agent meet here.
 */
import type { EventEmitter } from 'node:events';

export type PingStatus = 'Online' | 'ConnectionLost' | 'Inactive';
export type InstanceStateName =
  'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
export type PlatformType = 'Linux' | 'Windows' | 'MacOS';

export interface SandboxInstance {
  instanceId: string; // i- + 17 hex
  name: string; // the Name tag
  tags: Record<string, string>; // includes Name
  state: InstanceStateName;
  pingStatus: PingStatus;
  platformType: PlatformType;
  platformName: string; // e.g. "Amazon Linux"
  platformVersion: string; // e.g. "2023"
  agentVersion: string; // e.g. "3.3.1142.0"
  instanceType: string; // e.g. "t3.micro"
  availabilityZone: string; // e.g. "us-east-1a"
  privateIpAddress: string; // e.g. "10.0.1.12" (display only; never dialled)
  computerName: string; // hostname shown in the shell prompt, e.g. "ip-10-0-1-12"
  launchTime: string; // ISO date
  /** Require KMS encryption for sessions to this instance (a handshake action the client must process). */
  kmsKeyId?: string;
  /**
   * Whether the instance is registered with Systems Manager (default true). An instance
   * with `false` has no SSM agent: EC2 DescribeInstances lists it, SSM
   * DescribeInstanceInformation does not, and StartSession fails with TargetNotConnected.
   */
  ssmManaged?: boolean;
}

export interface SandboxCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string; // 12 digits
  userName: string; // caller name; session ids are `${userName}-${17 hex}`
  arn: string; // arn:aws:iam::<account>:user/<userName>
}

export type SandboxSessionStatus =
  'Connecting' | 'Connected' | 'Disconnected' | 'Terminating' | 'Terminated' | 'Failed';

export interface SandboxSession {
  sessionId: string;
  target: string;
  documentName: string; // 'SSM-SessionManagerRunShell' when none was given
  parameters: Record<string, string[]>;
  reason?: string;
  owner: string; // caller ARN
  status: SandboxSessionStatus;
  startDate: Date;
  endDate?: Date;
  /** Why it ended, shown to the client in channel_closed. */
  details?: string;
}

/** Events: 'terminate' (sessionId, reason) when TerminateSession is called or a session is otherwise ended by the service. */
export interface SessionRegistry extends EventEmitter {
  create(input: {
    target: string;
    documentName?: string;
    parameters?: Record<string, string[]>;
    reason?: string;
    owner: string;
  }): { session: SandboxSession; tokenValue: string; streamUrl: string };
  /** New token for an existing, not terminated session; undefined if the session is gone. */
  resume(sessionId: string): { tokenValue: string; streamUrl: string } | undefined;
  get(sessionId: string): SandboxSession | undefined;
  /** True when the token was issued for this session, is unexpired and the session is not terminated. */
  validateToken(sessionId: string, token: string): boolean;
  setStatus(sessionId: string, status: SandboxSessionStatus, details?: string): void;
  /** Ends the session (status Terminated, endDate set) and emits 'terminate'. Idempotent. */
  terminate(sessionId: string, reason: string): void;
  list(state: 'Active' | 'History'): SandboxSession[];
}

/** Fault injection on the data channel, as probabilities in [0, 1] and delays in ms. */
export interface DataChannelFaults {
  /** Drop a message (agent->client or client->agent) instead of delivering it. */
  dropRate: number;
  /** Deliver a message twice. */
  duplicateRate: number;
  /** Hold a message back and deliver it after the next one. */
  reorderRate: number;
  /** Corrupt one payload byte (the receiver's digest check must catch it). */
  corruptRate: number;
  /** Added one-way latency per message. */
  delayMs: number;
}

export interface ControlPlaneFaults {
  /** Fraction of API calls answered with ThrottlingException. */
  throttleRate: number;
  /** Added latency per API call. */
  delayMs: number;
}

export interface FaultState {
  dataChannel: DataChannelFaults;
  controlPlane: ControlPlaneFaults;
}

/**
 * Live fault settings, read by the control plane and the agent on every message or call.
 * Events: 'dropSockets', 'blackholeSockets' and 'expireSessions' (sessionId | undefined for all), 'instanceChanged' (instanceId).
 */
export interface FaultController extends EventEmitter {
  readonly state: FaultState;
  set(patch: { dataChannel?: Partial<DataChannelFaults>; controlPlane?: Partial<ControlPlaneFaults> }): void;
  reset(): void;
  /** Close the data-channel WebSocket(s) abruptly (the session itself stays resumable). */
  dropSockets(sessionId?: string): void;
  /**
   * Make the data-channel socket(s) go silent without closing them, as a network that drops
   * everything does: the agent stops reading and sending (no pongs either). Only the client's
   * health check can notice; a new connection works normally.
   */
  blackholeSockets(sessionId?: string): void;
  /**
   * A drop that outlasts the agent's reconnect window, at once: the data-channel socket(s) go
   * and the service ends the session(s) ("disconnected for too long"), telling the client
   * nothing; its reconnect finds the token refused and ResumeSession the session gone.
   */
  expireSessions(sessionId?: string): void;
  /** Deterministic random source for faults (seedable for tests). */
  random(): number;
}

export interface Fleet extends EventEmitter {
  list(): SandboxInstance[];
  get(instanceId: string): SandboxInstance | undefined;
  /** Change an instance (e.g. pingStatus 'ConnectionLost' to take it offline); emits 'changed' (instance). */
  update(instanceId: string, patch: Partial<Omit<SandboxInstance, 'instanceId'>>): SandboxInstance;
}
