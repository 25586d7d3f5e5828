/**
 * The sandbox's fake EC2 fleet: the default dozen instances, a loader for fleet files
 * (JSON, validated with zod) and the live Fleet the control plane and the agent share.
 *
 * Fleet file format (`--fleet my-fleet.json`): either an array of instances or
 * `{ "instances": [...] }`. Only `instanceId` and `name` are required:
 *
 *   { "instances": [
 *       { "instanceId": "i-0123456789abcdef0", "name": "web-1",
 *         "tags": { "Environment": "dev" }, "pingStatus": "Online" } ] }
 *
 * Unknown keys are rejected, so a typo ("pingstatus") is reported instead of ignored.
 * The object form may also carry custom session documents, `"documents": [{ "name", "content" }]`
 * (documents.ts).
 *
 * The object form may also list KMS keys (api/kms-keys.ts), besides the default
 * `alias/sandbox-session`; an instance requires KMS-encrypted sessions with `kmsKeyId`:
 *
 *   { "instances": [ { "instanceId": "i-...", "name": "secure-1", "kmsKeyId": "alias/team-key" } ],
 *     "kmsKeys": [ { "aliases": ["alias/team-key"] },
 *                  { "aliases": ["alias/locked"], "deny": ["kms:GenerateDataKey"] } ] }
 *
 * Besides what AWS reports, an instance may carry service-side conditions for fault tests
 * (see {@link SandboxInstanceConditions}): `startSessionDenied` (IAM denies ssm:StartSession on
 * it) and `dataChannelEndpoint` (its sessions' StreamUrl points elsewhere, e.g. at a closed port).
 */
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { sessionDocumentInputSchema, type SessionDocumentInput } from './documents.js';
import type { Fleet, InstanceStateName, PingStatus, PlatformType, SandboxInstance } from './types.js';
import { kmsKeySpecSchema, type KmsKeySpec } from './api/kms-keys.js';

/** The agent version the sandbox reports as the latest release. */
export const LATEST_AGENT_VERSION = '3.3.1142.0';

const INSTANCE_ID_RE = /^i-[0-9a-f]{17}$/;
const INSTANCE_ID_HINT =
  'an instance id: "i-" followed by 17 lower-case hex digits, e.g. "i-0123456789abcdef0"';

// ---------------------------------------------------------------------------
// The default fleet
// ---------------------------------------------------------------------------

interface Seed {
  id: string;
  name: string;
  env: 'prod' | 'staging' | 'dev';
  team: string;
  role: string;
  ip: string;
  az: string;
  type: string;
  os: 'al2023' | 'al2' | 'ubuntu22' | 'ubuntu24' | 'windows2022' | 'macos14';
  state?: InstanceStateName;
  ping?: PingStatus;
  agent?: string;
  launched: string;
  managed?: boolean;
  extraTags?: Record<string, string>;
}

const OS: Record<Seed['os'], { platformType: PlatformType; platformName: string; platformVersion: string }> =
  {
    al2023: { platformType: 'Linux', platformName: 'Amazon Linux', platformVersion: '2023' },
    al2: { platformType: 'Linux', platformName: 'Amazon Linux', platformVersion: '2' },
    ubuntu22: { platformType: 'Linux', platformName: 'Ubuntu', platformVersion: '22.04' },
    ubuntu24: { platformType: 'Linux', platformName: 'Ubuntu', platformVersion: '24.04' },
    windows2022: {
      platformType: 'Windows',
      platformName: 'Microsoft Windows Server 2022 Datacenter',
      platformVersion: '10.0.20348',
    },
    macos14: { platformType: 'MacOS', platformName: 'macOS', platformVersion: '14.6.1' },
  };

const SEEDS: Seed[] = [
  {
    id: 'i-0b5bb7865829a72f8',
    name: 'web-1',
    env: 'prod',
    team: 'web',
    role: 'web',
    ip: '10.0.1.11',
    az: 'a',
    type: 't3.small',
    os: 'al2023',
    launched: '2024-11-04T09:12:31.000Z',
  },
  {
    id: 'i-0a03534fd537d6397',
    name: 'web-2',
    env: 'prod',
    team: 'web',
    role: 'web',
    ip: '10.0.2.12',
    az: 'b',
    type: 't3.small',
    os: 'al2023',
    launched: '2024-11-04T09:12:31.000Z',
  },
  {
    id: 'i-022e45fccb4896048',
    name: 'api-1',
    env: 'prod',
    team: 'platform',
    role: 'api',
    ip: '10.0.1.21',
    az: 'a',
    type: 'm6i.large',
    os: 'ubuntu24',
    launched: '2025-01-15T14:03:07.000Z',
  },
  {
    id: 'i-0e90d89889ac82d2e',
    name: 'db-primary',
    env: 'prod',
    team: 'data',
    role: 'database',
    ip: '10.0.3.31',
    az: 'a',
    type: 'r6g.large',
    os: 'al2',
    launched: '2023-06-20T08:45:00.000Z',
  },
  {
    id: 'i-0cff4813ded0cd81b',
    name: 'db-replica',
    env: 'prod',
    team: 'data',
    role: 'database',
    ip: '10.0.4.32',
    az: 'b',
    type: 'r6g.large',
    os: 'al2',
    ping: 'ConnectionLost',
    launched: '2023-06-20T08:47:12.000Z',
  },
  {
    id: 'i-0e12e3cfd372c9b23',
    name: 'bastion',
    env: 'prod',
    team: 'platform',
    role: 'bastion',
    ip: '10.0.0.5',
    az: 'a',
    type: 't3.nano',
    os: 'al2023',
    launched: '2024-02-01T17:30:00.000Z',
  },
  {
    id: 'i-0247968c409da3511',
    name: 'worker-1',
    env: 'staging',
    team: 'data',
    role: 'worker',
    ip: '10.1.1.41',
    az: 'a',
    type: 'c6i.xlarge',
    os: 'ubuntu22',
    launched: '2025-03-02T06:00:00.000Z',
  },
  {
    id: 'i-00c33943c694df560',
    name: 'worker-2',
    env: 'staging',
    team: 'data',
    role: 'worker',
    ip: '10.1.2.42',
    az: 'b',
    type: 'c6i.xlarge',
    os: 'ubuntu22',
    state: 'stopped',
    ping: 'ConnectionLost',
    launched: '2025-03-02T06:00:00.000Z',
  },
  {
    id: 'i-04a6f6dbe5ab58b31',
    name: 'batch-legacy',
    env: 'dev',
    team: 'data',
    role: 'batch',
    ip: '10.2.1.51',
    az: 'c',
    type: 'm5.large',
    os: 'al2',
    ping: 'Inactive',
    agent: '2.3.1319.0',
    launched: '2021-09-13T12:00:00.000Z',
  },
  {
    id: 'i-00072a1e30e84868d',
    name: 'win-build-1',
    env: 'dev',
    team: 'web',
    role: 'build',
    ip: '10.2.1.61',
    az: 'a',
    type: 'm5.large',
    os: 'windows2022',
    launched: '2025-05-19T10:20:00.000Z',
  },
  {
    id: 'i-0d169f3a5639fb1e6',
    name: 'mac-ci-1',
    env: 'dev',
    team: 'mobile',
    role: 'ci',
    ip: '10.2.2.71',
    az: 'b',
    type: 'mac2.metal',
    os: 'macos14',
    launched: '2025-04-07T16:40:00.000Z',
  },
  {
    id: 'i-07f645976171c294b',
    name: 'ftp-legacy',
    env: 'staging',
    team: 'platform',
    role: 'ftp',
    ip: '10.1.3.81',
    az: 'c',
    type: 't2.micro',
    os: 'al2',
    managed: false,
    launched: '2020-02-28T11:11:11.000Z',
    extraTags: { Note: 'no SSM agent' },
  },
];

function computerNameFor(platformType: PlatformType, ip: string, instanceId: string): string {
  if (platformType === 'Windows') return `EC2AMAZ-${instanceId.slice(-7).toUpperCase()}`;
  return `ip-${ip.replace(/\./g, '-')}`;
}

/**
 * A dozen instances: web, api, database, bastion, workers, a Windows and a macOS host;
 * most running and Online, db-replica running but ConnectionLost, worker-2 stopped,
 * batch-legacy running but Inactive, ftp-legacy not registered with SSM.
 * Deterministic (same ids every time) and a fresh copy on every call.
 */
export function defaultFleet(region = 'us-east-1'): SandboxInstance[] {
  return SEEDS.map((s) => {
    const os = OS[s.os];
    const instance: SandboxInstance = {
      instanceId: s.id,
      name: s.name,
      tags: { Name: s.name, Environment: s.env, Team: s.team, Role: s.role, ...s.extraTags },
      state: s.state ?? 'running',
      pingStatus: s.ping ?? 'Online',
      ...os,
      agentVersion: s.agent ?? LATEST_AGENT_VERSION,
      instanceType: s.type,
      availabilityZone: `${region}${s.az}`,
      privateIpAddress: s.ip,
      computerName: computerNameFor(os.platformType, s.ip, s.id),
      launchTime: s.launched,
    };
    if (s.managed === false) instance.ssmManaged = false;
    return instance;
  });
}

// ---------------------------------------------------------------------------
// Validation (fleet files, programmatic fleets and admin patches)
// ---------------------------------------------------------------------------

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

const fields = {
  name: z
    .string({ error: 'expected a string (the Name tag)' })
    .min(1, { error: 'expected a non-empty name' })
    .max(256, { error: 'expected at most 256 characters' }),
  tags: z.record(
    z
      .string()
      .min(1, { error: 'tag keys must not be empty' })
      .max(128, { error: 'tag keys are at most 128 characters' })
      .refine((k) => !k.startsWith('aws:'), { error: 'tag keys must not start with "aws:" (reserved)' }),
    z
      .string({ error: 'expected a string tag value' })
      .max(256, { error: 'tag values are at most 256 characters' }),
    { error: 'expected an object of tag names to string values' },
  ),
  state: z.enum(['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated']),
  pingStatus: z.enum(['Online', 'ConnectionLost', 'Inactive']),
  platformType: z.enum(['Linux', 'Windows', 'MacOS']),
  platformName: z.string().min(1, { error: 'expected a non-empty string, e.g. "Amazon Linux"' }),
  platformVersion: z.string().min(1, { error: 'expected a non-empty string, e.g. "2023"' }),
  agentVersion: z.string().regex(/^\d+(\.\d+){1,3}$/, { error: 'expected a version like "3.3.1142.0"' }),
  instanceType: z
    .string()
    .regex(/^[a-z0-9-]+\.[a-z0-9-]+$/, { error: 'expected an instance type like "t3.micro"' }),
  availabilityZone: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+[a-z]$/, { error: 'expected an availability zone like "us-east-1a"' }),
  privateIpAddress: z.string().regex(IPV4_RE, { error: 'expected an IPv4 address like "10.0.1.12"' }),
  computerName: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$/, { error: 'expected a host name like "ip-10-0-1-12"' }),
  launchTime: z.iso.datetime({
    offset: true,
    error: 'expected an ISO 8601 date-time like "2024-01-31T12:00:00Z"',
  }),
  kmsKeyId: z.string().min(1, { error: 'expected a KMS key id or ARN' }),
  ssmManaged: z.boolean(),
  startSessionDenied: z.boolean(),
  dataChannelEndpoint: z
    .string()
    .regex(/^wss?:\/\/[^/\s?#]+$/, {
      error: 'expected a WebSocket base URL without a path, like "ws://127.0.0.1:9" (or null for none)',
    })
    .nullable(),
};

const fileInstanceSchema = z.strictObject({
  instanceId: z
    .string({ error: `expected ${INSTANCE_ID_HINT}` })
    .regex(INSTANCE_ID_RE, { error: `expected ${INSTANCE_ID_HINT}` }),
  name: fields.name,
  tags: fields.tags.optional(),
  state: fields.state.optional(),
  pingStatus: fields.pingStatus.optional(),
  platformType: fields.platformType.optional(),
  platformName: fields.platformName.optional(),
  platformVersion: fields.platformVersion.optional(),
  agentVersion: fields.agentVersion.optional(),
  instanceType: fields.instanceType.optional(),
  availabilityZone: fields.availabilityZone.optional(),
  privateIpAddress: fields.privateIpAddress.optional(),
  computerName: fields.computerName.optional(),
  launchTime: fields.launchTime.optional(),
  kmsKeyId: fields.kmsKeyId.optional(),
  ssmManaged: fields.ssmManaged.optional(),
  startSessionDenied: fields.startSessionDenied.optional(),
  dataChannelEndpoint: fields.dataChannelEndpoint.optional(),
});

const fleetFileSchema = z.union([
  z.array(fileInstanceSchema),
  z.strictObject({
    instances: z.array(fileInstanceSchema),
    kmsKeys: z.array(kmsKeySpecSchema).optional(),
    /** Custom session documents (documents.ts). */
    documents: z.array(sessionDocumentInputSchema).optional(),
  }),
]);

/** A fleet file: its instances, the KMS keys and the custom session documents it adds. */
export interface FleetDocument {
  instances: FleetInstance[];
  kmsKeys: KmsKeySpec[];
  documents: SessionDocumentInput[];
}

/** A patch for Fleet.update (and the admin API): every field but instanceId, all optional. */
export const instancePatchSchema = fileInstanceSchema.omit({ instanceId: true }).partial();

/**
 * Service-side conditions of an instance, for fault tests (set in a fleet file, with
 * `fleet.update()` or POST /__sandbox/instances/<id>). They are not part of what AWS reports.
 */
export interface SandboxInstanceConditions {
  /**
   * IAM denies the caller ssm:StartSession on this instance: StartSession answers
   * AccessDeniedException (before checking whether the instance is connected, as AWS does).
   */
  startSessionDenied?: boolean;
  /**
   * The base (scheme, host and port) of the StreamUrl that StartSession and ResumeSession hand
   * out for this instance's sessions, instead of the sandbox's own: e.g. a closed port, for an
   * unreachable data-channel (ssmmessages) endpoint.
   */
  dataChannelEndpoint?: string | null;
}

/** An instance of the live fleet: what AWS reports plus the sandbox's conditions. */
export type FleetInstance = SandboxInstance & SandboxInstanceConditions;

export type InstancePatch = Partial<Omit<SandboxInstance, 'instanceId'>> & SandboxInstanceConditions;

/** `['instances', 2, 'pingStatus']` -> `$.instances[2].pingStatus` */
export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '$';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_$][\w$]*$/.test(p)) out += `.${p}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out;
}

interface IssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  errors?: IssueLike[][];
  issues?: IssueLike[];
}

/** One line per problem: `$.instances[2].pingStatus: Invalid option: expected one of ...`. */
function formatIssues(issues: readonly IssueLike[], prefix: PropertyKey[] = []): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors && issue.errors.length > 0) {
      // Report the branch that got furthest (the one with the deepest issue path).
      const depth = (list: IssueLike[]): number => Math.max(...list.map((i) => i.path.length));
      const best = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0]!;
      if (depth(best) > 0) {
        lines.push(...formatIssues(best, path));
        continue;
      }
      lines.push(`${jsonPath(path)}: expected an array of instances or an object {"instances": [...]}`);
      continue;
    }
    if (issue.code === 'unrecognized_keys' && issue.keys) {
      for (const key of issue.keys) {
        lines.push(
          `${jsonPath([...path, key])}: unknown key (check its spelling; unknown keys are not allowed)`,
        );
      }
      continue;
    }
    if (issue.code === 'invalid_key' && issue.issues && issue.issues.length > 0) {
      lines.push(`${jsonPath(path)}: invalid key: ${issue.issues.map((i) => i.message).join('; ')}`);
      continue;
    }
    // zod says "received undefined" for a missing member.
    lines.push(`${jsonPath(path)}: ${issue.message.replace(/, received undefined$/, ' (it is missing)')}`);
  }
  return lines;
}

function defaultComputerName(i: {
  platformType: PlatformType;
  privateIpAddress: string;
  instanceId: string;
}): string {
  return computerNameFor(i.platformType, i.privateIpAddress, i.instanceId);
}

const DEFAULT_PLATFORM: Record<PlatformType, { platformName: string; platformVersion: string }> = {
  Linux: { platformName: 'Amazon Linux', platformVersion: '2023' },
  Windows: { platformName: 'Microsoft Windows Server 2022 Datacenter', platformVersion: '10.0.20348' },
  MacOS: { platformName: 'macOS', platformVersion: '14.6.1' },
};

/**
 * Validates parsed fleet JSON (see the format above) and fills in defaults.
 * `source` names the file in error messages.
 */
export function parseFleet(data: unknown, source = 'fleet'): FleetInstance[] {
  return parseFleetDocument(data, source).instances;
}

/** Like {@link parseFleet}, with the KMS keys of the object form. */
export function parseFleetDocument(data: unknown, source = 'fleet'): FleetDocument {
  const result = fleetFileSchema.safeParse(data);
  if (!result.success) {
    const lines = formatIssues(result.error.issues as unknown as IssueLike[]);
    throw new Error(`Invalid sandbox fleet file ${source}:\n  - ${lines.join('\n  - ')}`);
  }
  const raw = Array.isArray(result.data) ? result.data : result.data.instances;
  const base = Array.isArray(result.data) ? [] : ['instances'];
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const instances = raw.map((r, index): FleetInstance => {
    const at = (key: string): string => jsonPath([...base, index, key]);
    const first = seen.get(r.instanceId);
    if (first !== undefined) {
      problems.push(
        `${at('instanceId')}: duplicate instance id ${r.instanceId} (also at ${jsonPath([...base, first])})`,
      );
    } else {
      seen.set(r.instanceId, index);
    }
    if (r.tags?.Name !== undefined && r.tags.Name !== r.name) {
      problems.push(
        `${jsonPath([...base, index, 'tags', 'Name'])}: must equal "name" ("${r.name}") or be left out`,
      );
    }
    const platformType = r.platformType ?? 'Linux';
    const state = r.state ?? 'running';
    const privateIpAddress = r.privateIpAddress ?? `10.0.${Math.floor(index / 250)}.${(index % 250) + 4}`;
    const instance: FleetInstance = {
      instanceId: r.instanceId,
      name: r.name,
      tags: { ...r.tags, Name: r.name },
      state,
      pingStatus: r.pingStatus ?? (state === 'running' ? 'Online' : 'ConnectionLost'),
      platformType,
      platformName: r.platformName ?? DEFAULT_PLATFORM[platformType].platformName,
      platformVersion: r.platformVersion ?? DEFAULT_PLATFORM[platformType].platformVersion,
      agentVersion: r.agentVersion ?? LATEST_AGENT_VERSION,
      instanceType: r.instanceType ?? (platformType === 'MacOS' ? 'mac2.metal' : 't3.micro'),
      availabilityZone: r.availabilityZone ?? 'us-east-1a',
      privateIpAddress,
      computerName:
        r.computerName ?? defaultComputerName({ platformType, privateIpAddress, instanceId: r.instanceId }),
      launchTime: r.launchTime ? new Date(r.launchTime).toISOString() : '2025-01-01T00:00:00.000Z',
    };
    if (r.kmsKeyId !== undefined) instance.kmsKeyId = r.kmsKeyId;
    if (r.ssmManaged !== undefined) instance.ssmManaged = r.ssmManaged;
    if (r.startSessionDenied !== undefined) instance.startSessionDenied = r.startSessionDenied;
    if (r.dataChannelEndpoint) instance.dataChannelEndpoint = r.dataChannelEndpoint;
    return instance;
  });
  const documents = Array.isArray(result.data) ? [] : (result.data.documents ?? []);
  documents.forEach((d, i) => {
    const first = documents.findIndex((o) => o.name === d.name);
    if (first !== i) {
      problems.push(
        `${jsonPath(['documents', i, 'name'])}: duplicate document ${d.name} (also at ${jsonPath(['documents', first])})`,
      );
    }
  });
  if (problems.length > 0) {
    throw new Error(`Invalid sandbox fleet file ${source}:\n  - ${problems.join('\n  - ')}`);
  }
  return { instances, kmsKeys: Array.isArray(result.data) ? [] : (result.data.kmsKeys ?? []), documents };
}

/** Parses fleet JSON text; errors name `source`. */
export function parseFleetJson(text: string, source = 'fleet'): FleetInstance[] {
  return parseFleetDocumentJson(text, source).instances;
}

/** Parses fleet JSON text with its KMS keys; errors name `source`. */
export function parseFleetDocumentJson(text: string, source = 'fleet'): FleetDocument {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`Invalid sandbox fleet file ${source}: not valid JSON (${(err as Error).message}).`, {
      cause: err,
    });
  }
  return parseFleetDocument(data, source);
}

/** Reads and validates a fleet file (see the format at the top of this module). */
export async function loadFleetFile(path: string): Promise<FleetInstance[]> {
  return (await loadFleetDocument(path)).instances;
}

/** Reads and validates a fleet file, with its KMS keys. */
export async function loadFleetDocument(path: string): Promise<FleetDocument> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new Error(`Cannot read sandbox fleet file ${path}: ${why}.`, { cause: err });
  }
  return parseFleetDocumentJson(text, path);
}

function checkInstance(instance: FleetInstance, where: string): void {
  if (!INSTANCE_ID_RE.test(instance.instanceId)) {
    throw new Error(
      `Sandbox fleet: ${where}.instanceId "${instance.instanceId}" is not ${INSTANCE_ID_HINT}.`,
    );
  }
  const { instanceId: _id, ...rest } = instance;
  // Loose: fields other parts of the sandbox may add to SandboxInstance pass through unchecked.
  const result = instancePatchSchema.loose().safeParse(rest);
  if (!result.success) {
    const lines = formatIssues(result.error.issues as unknown as IssueLike[]);
    throw new Error(
      `Sandbox fleet: instance ${instance.instanceId} is invalid:\n  - ${lines.join('\n  - ')}`,
    );
  }
}

function copy(instance: FleetInstance): FleetInstance {
  return { ...instance, tags: { ...instance.tags } };
}

/**
 * The live fleet; besides the Fleet contract it remembers when each agent last pinged, and its
 * instances carry the sandbox's conditions (see {@link SandboxInstanceConditions}).
 */
export interface SandboxFleet extends Fleet {
  list(): FleetInstance[];
  get(instanceId: string): FleetInstance | undefined;
  update(instanceId: string, patch: InstancePatch): FleetInstance;
  /** When the instance's agent last reported in (now while Online); undefined for unknown or unmanaged instances. */
  lastPingDateTime(instanceId: string): Date | undefined;
}

class LiveFleet extends EventEmitter implements SandboxFleet {
  private readonly instances = new Map<string, FleetInstance>();
  private readonly lastPing = new Map<string, number>();

  constructor(
    instances: FleetInstance[],
    private readonly now: () => number,
  ) {
    super();
    const created = now();
    instances.forEach((input, index) => {
      checkInstance(input, `instances[${index}]`);
      if (this.instances.has(input.instanceId)) {
        throw new Error(`Sandbox fleet: duplicate instance id ${input.instanceId} at instances[${index}].`);
      }
      const instance = copy(input);
      instance.tags.Name = instance.name;
      this.instances.set(instance.instanceId, instance);
      // An offline agent last reported some time ago: minutes for a lost connection, weeks when inactive.
      if (instance.pingStatus === 'ConnectionLost')
        this.lastPing.set(instance.instanceId, created - 37 * 60_000);
      if (instance.pingStatus === 'Inactive')
        this.lastPing.set(instance.instanceId, created - 41 * 86_400_000);
    });
  }

  list(): FleetInstance[] {
    return [...this.instances.values()].map(copy);
  }

  get(instanceId: string): FleetInstance | undefined {
    const instance = this.instances.get(instanceId);
    return instance && copy(instance);
  }

  /**
   * Changes an instance and emits 'changed'. As on AWS, stopping an instance (state
   * leaving 'running') takes its agent offline (ConnectionLost) and starting it brings
   * the agent back Online, unless the patch sets pingStatus itself.
   */
  update(instanceId: string, patch: InstancePatch): FleetInstance {
    const current = this.instances.get(instanceId);
    if (!current) throw new Error(`Sandbox fleet: no instance ${instanceId}.`);
    if (typeof patch !== 'object' || patch === null || 'instanceId' in patch) {
      throw new Error(
        `Invalid change to instance ${instanceId}: expected an object of fields; instanceId cannot change.`,
      );
    }
    const result = instancePatchSchema.loose().safeParse(patch);
    if (!result.success) {
      const lines = formatIssues(result.error.issues as unknown as IssueLike[]);
      throw new Error(`Invalid change to instance ${instanceId}:\n  - ${lines.join('\n  - ')}`);
    }
    const valid = result.data as InstancePatch;
    const next: FleetInstance = { ...current, ...valid, tags: { ...(valid.tags ?? current.tags) } };
    if (valid.name !== undefined) next.tags.Name = valid.name;
    else if (valid.tags?.Name !== undefined) next.name = valid.tags.Name;
    else next.tags.Name = next.name;
    if (valid.pingStatus === undefined && valid.state !== undefined && valid.state !== current.state) {
      if (valid.state !== 'running' && current.pingStatus === 'Online') next.pingStatus = 'ConnectionLost';
      if (valid.state === 'running' && current.pingStatus === 'ConnectionLost') next.pingStatus = 'Online';
    }
    if (current.pingStatus === 'Online' && next.pingStatus !== 'Online')
      this.lastPing.set(instanceId, this.now());
    this.instances.set(instanceId, next);
    const out = copy(next);
    this.emit('changed', out);
    return copy(next);
  }

  lastPingDateTime(instanceId: string): Date | undefined {
    const instance = this.instances.get(instanceId);
    if (!instance || instance.ssmManaged === false) return undefined;
    if (instance.pingStatus === 'Online') return new Date(this.now());
    return new Date(this.lastPing.get(instanceId) ?? this.now());
  }
}

export interface FleetOptions {
  /** Clock in ms (default Date.now), for ping times. */
  now?: () => number;
}

/** A live fleet of copies of `instances` (default: {@link defaultFleet}). Throws on invalid or duplicate instances. */
export function createFleet(
  instances: FleetInstance[] = defaultFleet(),
  options: FleetOptions = {},
): SandboxFleet {
  return new LiveFleet(instances, options.now ?? Date.now);
}

/** True when StartSession to this instance can succeed: managed by SSM, running, agent Online. */
export function canStartSession(instance: SandboxInstance | undefined): instance is SandboxInstance {
  return (
    instance !== undefined &&
    instance.ssmManaged !== false &&
    instance.state === 'running' &&
    instance.pingStatus === 'Online'
  );
}
