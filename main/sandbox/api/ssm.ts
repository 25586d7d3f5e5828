/**
 * The SSM actions Session Manager clients use (AWS JSON 1.1, `x-amz-target: AmazonSSM.<Action>`):
 * StartSession, ResumeSession, TerminateSession, DescribeSessions,
 * DescribeInstanceInformation and GetConnectionStatus. Timestamps are epoch seconds.
 */
import { z } from 'zod';
import type { CallerIdentity } from '../credentials.js';
import { LATEST_AGENT_VERSION, canStartSession, type FleetInstance } from '../fleet.js';
import { DEFAULT_SESSION_DOCUMENT, SessionDocuments } from '../documents.js';
import type { Fleet, SandboxInstance, SandboxSession, SessionRegistry } from '../types.js';
import {
  ApiError,
  constraint,
  decodePageToken,
  encodePageToken,
  queryKey,
  validationError,
} from './errors.js';
import { parseJsonBody } from './json-body.js';

export interface SsmDeps {
  fleet: Fleet & { lastPingDateTime?: (instanceId: string) => Date | undefined };
  registry: SessionRegistry;
  /** The session documents StartSession accepts (default: the AWS-owned ones). */
  documents?: SessionDocuments;
  /** Clock in ms (default Date.now). */
  now?: () => number;
}

export const SSM_TARGET_PREFIX = 'AmazonSSM.';

// ---------------------------------------------------------------------------
// Session documents: see ../documents.ts (the AWS-owned ones, preferences and custom ones)
// ---------------------------------------------------------------------------

/** The documents of a sandbox started without custom ones. */
const AWS_DOCUMENTS = new SessionDocuments();

// ---------------------------------------------------------------------------
// Request parsing
// ---------------------------------------------------------------------------

const startSessionInput = z.object({
  Target: z.string().optional(),
  DocumentName: z.string().optional(),
  Parameters: z.record(z.string(), z.array(z.string())).optional(),
  Reason: z.string().optional(),
});
const sessionIdInput = z.object({ SessionId: z.string().optional() });
const describeSessionsInput = z.object({
  State: z.string().optional(),
  MaxResults: z.number().optional(),
  NextToken: z.string().optional(),
  Filters: z.array(z.object({ key: z.string().optional(), value: z.string().optional() })).optional(),
});
const describeInstanceInformationInput = z.object({
  Filters: z
    .array(z.object({ Key: z.string().optional(), Values: z.array(z.string()).optional() }))
    .optional(),
  InstanceInformationFilterList: z
    .array(z.object({ key: z.string().optional(), valueSet: z.array(z.string()).optional() }))
    .optional(),
  MaxResults: z.number().optional(),
  NextToken: z.string().optional(),
});
const connectionStatusInput = z.object({ Target: z.string().optional() });

function checkMaxResults(value: number | undefined, min: number, max: number): string[] {
  if (value === undefined) return [];
  if (!Number.isInteger(value)) return [constraint(value, 'maxResults', 'Member must be an integer')];
  if (value < min)
    return [constraint(value, 'maxResults', `Member must have value greater than or equal to ${min}`)];
  if (value > max)
    return [constraint(value, 'maxResults', `Member must have value less than or equal to ${max}`)];
  return [];
}

function invalidNextToken(): ApiError {
  return new ApiError('InvalidNextToken', 'The specified token is not valid.');
}

function paginate<T>(
  items: T[],
  maxResults: number,
  nextToken: string | undefined,
  key: string,
): { page: T[]; next?: string } {
  let offset = 0;
  if (nextToken !== undefined) {
    const decoded = decodePageToken(nextToken, key);
    if (decoded === undefined || decoded > items.length) throw invalidNextToken();
    offset = decoded;
  }
  const page = items.slice(offset, offset + maxResults);
  const end = offset + page.length;
  return end < items.length ? { page, next: encodePageToken(end, key) } : { page };
}

const seconds = (d: Date): number => d.getTime() / 1000;

function required<T>(value: T | undefined, member: string): T {
  if (value === undefined || value === null)
    throw validationError([constraint(undefined, member, 'Member must not be null')]);
  return value;
}

// ---------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------

function targetNotConnected(target: string): ApiError {
  return new ApiError('TargetNotConnected', `${target} is not connected.`);
}

/** The region of an instance's availability zone ("us-east-1a" -> "us-east-1"). */
function regionOf(instance: FleetInstance): string {
  return instance.availabilityZone.replace(/[a-z]$/, '');
}

/** AWS's text when no identity-based policy allows an action on a resource. */
function startSessionDenied(caller: CallerIdentity, instance: FleetInstance): ApiError {
  const resource = `arn:aws:ec2:${regionOf(instance)}:${caller.accountId}:instance/${instance.instanceId}`;
  return new ApiError(
    'AccessDeniedException',
    `User: ${caller.arn} is not authorized to perform: ssm:StartSession on resource: ${resource} because no identity-based policy allows the ssm:StartSession action`,
  );
}

/** The StreamUrl for a session to `instance`: the sandbox's own, or the instance's dataChannelEndpoint base. */
function streamUrlFor(instance: FleetInstance | undefined, streamUrl: string): string {
  const base = instance?.dataChannelEndpoint;
  return base ? streamUrl.replace(/^wss?:\/\/[^/]+/, base) : streamUrl;
}

function startSession(body: string, caller: CallerIdentity, deps: SsmDeps): unknown {
  const input = parseJsonBody(startSessionInput, body);
  const target = required(input.Target, 'target');
  const problems: string[] = [];
  if (target.length < 1 || target.length > 400) {
    problems.push(constraint(target, 'target', 'Member must have length between 1 and 400'));
  }
  if (input.DocumentName !== undefined && !/^[a-zA-Z0-9_\-.:/]{3,128}$/.test(input.DocumentName)) {
    problems.push(
      constraint(
        input.DocumentName,
        'documentName',
        'Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.:/]{3,128}$',
      ),
    );
  }
  if (input.Reason !== undefined && !/^.{1,256}$/.test(input.Reason)) {
    problems.push(
      constraint(input.Reason, 'reason', 'Member must satisfy regular expression pattern: ^.{1,256}$'),
    );
  }
  if (problems.length) throw validationError(problems);

  const documentName = input.DocumentName ?? DEFAULT_SESSION_DOCUMENT;
  const parameters = (deps.documents ?? AWS_DOCUMENTS).resolve(
    documentName,
    input.Parameters ?? {},
  ).parameters;
  const instance = deps.fleet.get(target) as FleetInstance | undefined;
  // IAM is evaluated before the target's connection, as on AWS.
  if (instance?.startSessionDenied) throw startSessionDenied(caller, instance);
  if (!canStartSession(instance)) throw targetNotConnected(target);

  const created = deps.registry.create({
    target,
    documentName,
    parameters,
    owner: caller.arn,
    ...(input.Reason !== undefined ? { reason: input.Reason } : {}),
  });
  return {
    SessionId: created.session.sessionId,
    TokenValue: created.tokenValue,
    StreamUrl: streamUrlFor(instance, created.streamUrl),
  };
}

function sessionDoesNotExist(sessionId: string): ApiError {
  return new ApiError(
    'DoesNotExistException',
    `Session ${sessionId} does not exist or has already been terminated. Start a new session with StartSession.`,
  );
}

function resumeSession(body: string, deps: SsmDeps): unknown {
  const sessionId = required(parseJsonBody(sessionIdInput, body).SessionId, 'sessionId');
  const resumed = deps.registry.resume(sessionId);
  if (!resumed) throw sessionDoesNotExist(sessionId);
  const target = deps.registry.get(sessionId)?.target;
  const instance = target === undefined ? undefined : (deps.fleet.get(target) as FleetInstance | undefined);
  return {
    SessionId: sessionId,
    TokenValue: resumed.tokenValue,
    StreamUrl: streamUrlFor(instance, resumed.streamUrl),
  };
}

function terminateSession(body: string, caller: CallerIdentity, deps: SsmDeps): unknown {
  const sessionId = required(parseJsonBody(sessionIdInput, body).SessionId, 'sessionId');
  // Idempotent, as on AWS: terminating an ended (or unknown) session succeeds.
  deps.registry.terminate(sessionId, `TerminateSession was called by ${caller.userName}.`);
  return { SessionId: sessionId };
}

const SESSION_STATUSES = ['Connected', 'Connecting', 'Disconnected', 'Terminated', 'Terminating', 'Failed'];
const SESSION_FILTER_KEYS = ['InvokedAfter', 'InvokedBefore', 'Target', 'Owner', 'Status', 'SessionId'];

function sessionOutput(s: SandboxSession): Record<string, unknown> {
  const out: Record<string, unknown> = {
    SessionId: s.sessionId,
    Target: s.target,
    Status: s.status,
    StartDate: seconds(s.startDate),
    DocumentName: s.documentName,
    Owner: s.owner,
  };
  if (s.endDate) out.EndDate = seconds(s.endDate);
  if (s.reason !== undefined) out.Reason = s.reason;
  if (s.details !== undefined) out.Details = s.details;
  return out;
}

function parseFilterDate(value: string, key: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw validationError([
      constraint(value, `filters.${key}`, 'Member must be a date-time such as 2018-08-29T00:00:00Z'),
    ]);
  }
  return ms;
}

function describeSessions(body: string, deps: SsmDeps): unknown {
  const input = parseJsonBody(describeSessionsInput, body);
  const state = required(input.State, 'state');
  const problems: string[] = [];
  if (state !== 'Active' && state !== 'History') {
    problems.push(constraint(state, 'state', 'Member must satisfy enum value set: [Active, History]'));
  }
  problems.push(...checkMaxResults(input.MaxResults, 1, 200));
  if (problems.length) throw validationError(problems);

  const predicates: Array<(s: SandboxSession) => boolean> = [];
  for (const filter of input.Filters ?? []) {
    const key = required(filter.key, 'filters.member.key');
    const value = required(filter.value, 'filters.member.value');
    if (!SESSION_FILTER_KEYS.includes(key)) {
      throw new ApiError(
        'InvalidFilterKey',
        `The filter key ${key} is not valid. Valid keys: ${SESSION_FILTER_KEYS.join(', ')}.`,
      );
    }
    switch (key) {
      case 'InvokedAfter': {
        const ms = parseFilterDate(value, key);
        predicates.push((s) => s.startDate.getTime() >= ms);
        break;
      }
      case 'InvokedBefore': {
        const ms = parseFilterDate(value, key);
        predicates.push((s) => s.startDate.getTime() <= ms);
        break;
      }
      case 'Target':
        predicates.push((s) => s.target === value);
        break;
      case 'Owner':
        predicates.push((s) => s.owner === value);
        break;
      case 'Status':
        if (!SESSION_STATUSES.includes(value)) {
          throw validationError([
            constraint(value, 'filters.Status', `Member must be one of ${SESSION_STATUSES.join(', ')}`),
          ]);
        }
        predicates.push((s) => s.status === value);
        break;
      default:
        predicates.push((s) => s.sessionId === value);
    }
  }
  const sessions = deps.registry
    .list(state as 'Active' | 'History')
    .filter((s) => predicates.every((p) => p(s)));
  const key = queryKey(['DescribeSessions', state, input.Filters ?? []]);
  const { page, next } = paginate(sessions, input.MaxResults ?? 20, input.NextToken, key);
  return { Sessions: page.map(sessionOutput), ...(next ? { NextToken: next } : {}) };
}

const PING_STATUSES = ['Online', 'ConnectionLost', 'Inactive'];
const PLATFORM_TYPES = ['Linux', 'Windows', 'MacOS'];
const RESOURCE_TYPES = ['EC2Instance', 'ManagedInstance'];
const INFO_FILTER_KEYS = [
  'InstanceIds',
  'AgentVersion',
  'PingStatus',
  'PlatformTypes',
  'ResourceType',
  'SourceIds',
  'SourceTypes',
  'tag-key',
  'tag:<name>',
];

function invalidFilterValue(key: string, value: string, valid: readonly string[]): ApiError {
  return new ApiError(
    'InvalidInstanceInformationFilterValue',
    `The filter value ${JSON.stringify(value)} is not valid for ${key}. Valid values: ${valid.join(', ')}.`,
  );
}

function instanceFilter(key: string, values: string[]): (i: SandboxInstance) => boolean {
  const checkEnum = (valid: readonly string[]): void => {
    for (const v of values) if (!valid.includes(v)) throw invalidFilterValue(key, v, valid);
  };
  if (key.startsWith('tag:') && key.length > 4) {
    const tag = key.slice(4);
    return (i) => i.tags[tag] !== undefined && values.includes(i.tags[tag]!);
  }
  switch (key) {
    case 'InstanceIds':
    case 'SourceIds':
      return (i) => values.includes(i.instanceId);
    case 'AgentVersion':
      return (i) => values.includes(i.agentVersion);
    case 'PingStatus':
      checkEnum(PING_STATUSES);
      return (i) => values.includes(i.pingStatus);
    case 'PlatformTypes':
      checkEnum(PLATFORM_TYPES);
      return (i) => values.includes(i.platformType);
    case 'ResourceType':
      checkEnum(RESOURCE_TYPES);
      return () => values.includes('EC2Instance');
    case 'SourceTypes':
      checkEnum(['AWS::EC2::Instance', 'AWS::SSM::ManagedInstance', 'AWS::IoT::Thing']);
      return () => values.includes('AWS::EC2::Instance');
    case 'tag-key':
      return (i) => values.some((v) => i.tags[v] !== undefined);
    default:
      throw new ApiError(
        'InvalidFilterKey',
        `The filter key ${JSON.stringify(key)} is not valid here. Keys this sandbox supports: ${INFO_FILTER_KEYS.join(', ')}.`,
      );
  }
}

function instanceInformation(instance: SandboxInstance, deps: SsmDeps, now: number): Record<string, unknown> {
  const lastPing = deps.fleet.lastPingDateTime?.(instance.instanceId) ?? new Date(now);
  return {
    InstanceId: instance.instanceId,
    PingStatus: instance.pingStatus,
    LastPingDateTime: seconds(lastPing),
    AgentVersion: instance.agentVersion,
    IsLatestVersion: instance.agentVersion === LATEST_AGENT_VERSION,
    PlatformType: instance.platformType,
    PlatformName: instance.platformName,
    PlatformVersion: instance.platformVersion,
    ResourceType: 'EC2Instance',
    IPAddress: instance.privateIpAddress,
    ComputerName: instance.computerName,
    SourceId: instance.instanceId,
    SourceType: 'AWS::EC2::Instance',
  };
}

function describeInstanceInformation(body: string, deps: SsmDeps, now: number): unknown {
  const input = parseJsonBody(describeInstanceInformationInput, body);
  const problems = checkMaxResults(input.MaxResults, 5, 50);
  if (problems.length) throw validationError(problems);

  const predicates: Array<(i: SandboxInstance) => boolean> = [];
  for (const filter of input.Filters ?? []) {
    const key = required(filter.Key, 'filters.member.key');
    const values = required(filter.Values, 'filters.member.values');
    if (values.length < 1 || values.length > 100) {
      throw validationError([
        constraint(
          `[${values.join(', ')}]`,
          'filters.member.values',
          'Member must have length between 1 and 100',
        ),
      ]);
    }
    predicates.push(instanceFilter(key, values));
  }
  for (const filter of input.InstanceInformationFilterList ?? []) {
    const key = required(filter.key, 'instanceInformationFilterList.member.key');
    const values = required(filter.valueSet, 'instanceInformationFilterList.member.valueSet');
    if (key.startsWith('tag') || key === 'SourceIds' || key === 'SourceTypes') {
      throw new ApiError(
        'InvalidFilterKey',
        `The key ${JSON.stringify(key)} is not valid in InstanceInformationFilterList; use Filters.`,
      );
    }
    predicates.push(instanceFilter(key, values));
  }
  const instances = deps.fleet
    .list()
    .filter((i) => i.ssmManaged !== false)
    .filter((i) => predicates.every((p) => p(i)));
  const key = queryKey([
    'DescribeInstanceInformation',
    input.Filters ?? [],
    input.InstanceInformationFilterList ?? [],
  ]);
  const { page, next } = paginate(instances, input.MaxResults ?? 50, input.NextToken, key);
  return {
    InstanceInformationList: page.map((i) => instanceInformation(i, deps, now)),
    ...(next ? { NextToken: next } : {}),
  };
}

function getConnectionStatus(body: string, deps: SsmDeps): unknown {
  const target = required(parseJsonBody(connectionStatusInput, body).Target, 'target');
  return { Target: target, Status: canStartSession(deps.fleet.get(target)) ? 'connected' : 'notconnected' };
}

export const SSM_ACTIONS = [
  'StartSession',
  'ResumeSession',
  'TerminateSession',
  'DescribeSessions',
  'DescribeInstanceInformation',
  'GetConnectionStatus',
] as const;

/** Runs one SSM action; returns the JSON response payload or throws an ApiError. */
export function handleSsmAction(
  action: string,
  body: string,
  caller: CallerIdentity,
  deps: SsmDeps,
): unknown {
  const now = (deps.now ?? Date.now)();
  switch (action) {
    case 'StartSession':
      return startSession(body, caller, deps);
    case 'ResumeSession':
      return resumeSession(body, deps);
    case 'TerminateSession':
      return terminateSession(body, caller, deps);
    case 'DescribeSessions':
      return describeSessions(body, deps);
    case 'DescribeInstanceInformation':
      return describeInstanceInformation(body, deps, now);
    case 'GetConnectionStatus':
      return getConnectionStatus(body, deps);
    default:
      throw new ApiError(
        'UnknownOperationException',
        `Unknown operation ${SSM_TARGET_PREFIX}${action.slice(0, 100)}. The sandbox implements: ${SSM_ACTIONS.join(', ')}.`,
      );
  }
}
