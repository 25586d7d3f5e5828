/**
 * EC2 DescribeInstances (EC2 Query protocol: form-encoded `Action=DescribeInstances&
 * Version=2016-11-15&...`, XML response in the real shape).
 */
import { createHash } from 'node:crypto';
import type { CallerIdentity } from '../credentials.js';
import type { Fleet, InstanceStateName, SandboxInstance } from '../types.js';
import { ApiError, decodePageToken, encodePageToken, queryKey, xmlEscape } from './errors.js';

export const EC2_API_VERSION = '2016-11-15';
const EC2_NS = `http://ec2.amazonaws.com/doc/${EC2_API_VERSION}/`;

export interface Ec2Deps {
  fleet: Fleet;
  region: string;
}

const STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

const INSTANCE_ID_RE = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;

function hex17(seed: string): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, 17);
}

/** `*` matches any run of characters and `?` any one, as EC2 filters do; everything else literally. */
function wildcard(pattern: string): (value: string | undefined) => boolean {
  if (!/[*?]/.test(pattern)) return (value) => value === pattern;
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const re = new RegExp(`^${source}$`, 's');
  return (value) => value !== undefined && re.test(value);
}

function privateDnsName(instance: SandboxInstance, region: string): string {
  const host = `ip-${instance.privateIpAddress.replace(/\./g, '-')}`;
  return region === 'us-east-1' ? `${host}.ec2.internal` : `${host}.${region}.compute.internal`;
}

function platformDetails(instance: SandboxInstance): string {
  return instance.platformType === 'Windows' ? 'Windows' : 'Linux/UNIX';
}

function architecture(instance: SandboxInstance): string {
  const family = instance.instanceType.split('.')[0] ?? '';
  return /^[a-z]+\d+[a-z]*g[a-z]*$/.test(family) || family === 'mac2' ? 'arm64' : 'x86_64';
}

type InstanceField = (i: SandboxInstance, region: string) => Array<string | undefined>;

/** Filter names this sandbox supports, with the values each instance offers. */
const FILTERS: Record<string, InstanceField> = {
  'instance-id': (i) => [i.instanceId],
  'instance-state-name': (i) => [i.state],
  'instance-state-code': (i) => [String(STATE_CODES[i.state])],
  'instance-type': (i) => [i.instanceType],
  'availability-zone': (i) => [i.availabilityZone],
  'private-ip-address': (i) => [i.privateIpAddress],
  'private-dns-name': (i, region) => [privateDnsName(i, region)],
  platform: (i) => [i.platformType === 'Windows' ? 'windows' : undefined],
  'platform-details': (i) => [platformDetails(i)],
  architecture: (i) => [architecture(i)],
  'tag-key': (i) => Object.keys(i.tags),
  'tag-value': (i) => Object.values(i.tags),
};

interface Filter {
  name: string;
  values: string[];
}

/** Collects `Prefix.N` (or `Prefix.N.Sub`) parameters in numeric order of N. */
function indexed(params: URLSearchParams, prefix: string, suffix = ''): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  const re = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)${suffix.replace(/\./g, '\\.')}$`);
  for (const [key, value] of params) {
    const m = re.exec(key);
    if (m) out.push([Number(m[1]), value]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

function parseFilters(params: URLSearchParams): Filter[] {
  return indexed(params, 'Filter', '.Name').map(([n, name]) => ({
    name,
    values: indexed(params, `Filter.${n}.Value`).map(([, v]) => v),
  }));
}

function matcher(filter: Filter, region: string): (i: SandboxInstance) => boolean {
  if (filter.values.length === 0) {
    throw new ApiError(
      'InvalidParameterValue',
      `The filter '${filter.name}' has no values: give at least one Filter.N.Value.M.`,
    );
  }
  const patterns = filter.values.map(wildcard);
  let field: InstanceField | undefined = FILTERS[filter.name];
  if (!field && filter.name.startsWith('tag:') && filter.name.length > 4) {
    const tag = filter.name.slice(4);
    field = (i) => [i.tags[tag]];
  }
  if (!field) {
    throw new ApiError(
      'InvalidParameterValue',
      `The filter '${filter.name.slice(0, 100)}' is invalid. Filters this sandbox supports: ${Object.keys(FILTERS).join(', ')}, tag:<key>.`,
    );
  }
  const get = field;
  return (i) => get(i, region).some((value) => patterns.some((p) => p(value)));
}

function el(name: string, content: string | number | boolean | undefined): string {
  if (content === undefined) return '';
  return `<${name}>${typeof content === 'string' ? xmlEscape(content) : String(content)}</${name}>`;
}

function instanceXml(i: SandboxInstance, deps: Ec2Deps, accountId: string): string {
  const az = i.availabilityZone;
  const tags = Object.entries(i.tags)
    .map(([key, value]) => `<item>${el('key', key)}${el('value', value)}</item>`)
    .join('');
  const stopped = i.state === 'stopped' || i.state === 'stopping';
  return [
    '<item>',
    el('instanceId', i.instanceId),
    el('imageId', `ami-${hex17(`${i.platformName} ${i.platformVersion}`)}`),
    `<instanceState>${el('code', STATE_CODES[i.state])}${el('name', i.state)}</instanceState>`,
    el('privateDnsName', privateDnsName(i, deps.region)),
    '<dnsName/>',
    stopped ? el('reason', `User initiated (${i.launchTime.slice(0, 10)} 00:00:00 GMT)`) : '<reason/>',
    el('amiLaunchIndex', 0),
    '<productCodes/>',
    el('instanceType', i.instanceType),
    el('launchTime', i.launchTime),
    `<placement>${el('availabilityZone', az)}<groupName/>${el('tenancy', i.instanceType.endsWith('.metal') && i.platformType === 'MacOS' ? 'host' : 'default')}</placement>`,
    i.platformType === 'Windows' ? el('platform', 'windows') : '',
    `<monitoring>${el('state', 'disabled')}</monitoring>`,
    el('subnetId', `subnet-${hex17(`${accountId}/${az}`)}`),
    el('vpcId', `vpc-${hex17(`${accountId}/${deps.region}`)}`),
    el('privateIpAddress', i.privateIpAddress),
    el('architecture', architecture(i)),
    el('rootDeviceType', 'ebs'),
    el('rootDeviceName', i.platformType === 'Windows' ? '/dev/sda1' : '/dev/xvda'),
    el('virtualizationType', 'hvm'),
    tags ? `<tagSet>${tags}</tagSet>` : '',
    el('hypervisor', 'xen'),
    el('ebsOptimized', true),
    el('platformDetails', platformDetails(i)),
    el('usageOperation', i.platformType === 'Windows' ? 'RunInstances:0002' : 'RunInstances'),
    '</item>',
  ].join('');
}

function reservationXml(i: SandboxInstance, deps: Ec2Deps, accountId: string): string {
  return `<item>${el('reservationId', `r-${hex17(i.instanceId)}`)}${el('ownerId', accountId)}<groupSet/><instancesSet>${instanceXml(i, deps, accountId)}</instancesSet></item>`;
}

function describeInstances(
  params: URLSearchParams,
  caller: CallerIdentity,
  deps: Ec2Deps,
  requestId: string,
): string {
  const ids = indexed(params, 'InstanceId').map(([, v]) => v);
  const filters = parseFilters(params);
  const maxRaw = params.get('MaxResults');
  const nextToken = params.get('NextToken') ?? undefined;

  const malformed = ids.find((id) => !INSTANCE_ID_RE.test(id));
  if (malformed !== undefined) {
    throw new ApiError(
      'InvalidInstanceID.Malformed',
      `Invalid id: "${malformed.slice(0, 100)}" (expecting "i-...")`,
    );
  }
  let maxResults: number | undefined;
  if (maxRaw !== null) {
    if (ids.length > 0) {
      throw new ApiError(
        'InvalidParameterCombination',
        'The parameter instancesSet cannot be used with the parameter maxResults',
      );
    }
    maxResults = /^\d+$/.test(maxRaw) ? Number(maxRaw) : NaN;
    if (!(maxResults >= 5 && maxResults <= 1000)) {
      throw new ApiError(
        'InvalidParameterValue',
        `Value ( ${maxRaw.slice(0, 20)} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
      );
    }
  }
  if (params.get('DryRun') === 'true') {
    throw new ApiError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
  }

  const all = deps.fleet.list();
  const missing = ids.filter((id) => !all.some((i) => i.instanceId === id));
  if (missing.length === 1) {
    throw new ApiError('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`);
  }
  if (missing.length > 1) {
    throw new ApiError('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
  }
  const predicates = filters.map((f) => matcher(f, deps.region));
  const matching = all.filter(
    (i) => (ids.length === 0 || ids.includes(i.instanceId)) && predicates.every((p) => p(i)),
  );

  let offset = 0;
  const key = queryKey(['DescribeInstances', ids, filters]);
  if (nextToken !== undefined) {
    const decoded = decodePageToken(nextToken, key);
    if (decoded === undefined || decoded > matching.length) {
      throw new ApiError(
        'InvalidPaginationToken',
        'The pagination token is not valid or has expired; start again without NextToken.',
      );
    }
    offset = decoded;
  }
  const page = matching.slice(offset, maxResults === undefined ? undefined : offset + maxResults);
  const end = offset + page.length;
  const next = maxResults !== undefined && end < matching.length ? encodePageToken(end, key) : undefined;

  return [
    `<DescribeInstancesResponse xmlns="${EC2_NS}">`,
    el('requestId', requestId),
    '<reservationSet>',
    page.map((i) => reservationXml(i, deps, caller.accountId)).join(''),
    '</reservationSet>',
    next ? el('nextToken', next) : '',
    '</DescribeInstancesResponse>',
  ].join('');
}

export const EC2_ACTIONS = ['DescribeInstances'] as const;

/** Runs one EC2 action; returns the response XML (without the XML declaration) or throws an ApiError. */
export function handleEc2Action(
  params: URLSearchParams,
  caller: CallerIdentity,
  deps: Ec2Deps,
  requestId: string,
): string {
  const action = params.get('Action');
  if (!action) throw new ApiError('MissingAction', 'The request must contain the parameter Action.');
  switch (action) {
    case 'DescribeInstances':
      return describeInstances(params, caller, deps, requestId);
    default:
      throw new ApiError(
        'InvalidAction',
        `The action ${action.slice(0, 100)} is not valid for this web service. The sandbox implements: ${EC2_ACTIONS.join(', ')}.`,
      );
  }
}
