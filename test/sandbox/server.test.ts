import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstancesCommand, EC2Client, type DescribeInstancesCommandInput } from '@aws-sdk/client-ec2';
import {
  DescribeInstanceInformationCommand,
  DescribeSessionsCommand,
  ResumeSessionCommand,
  SSMClient,
  StartSessionCommand,
  TerminateSessionCommand,
  type InstanceInformation,
} from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { SignatureV4 } from '@smithy/signature-v4';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle } from '../../main/sandbox/server.js';
import { NodeSha256 } from '../helpers/node-sha256.js';

const WEB1 = 'i-0b5bb7865829a72f8';
const DB_REPLICA = 'i-0cff4813ded0cd81b'; // running, ConnectionLost
const WORKER2 = 'i-00c33943c694df560'; // stopped
const BATCH_LEGACY = 'i-04a6f6dbe5ab58b31'; // running, Inactive
const FTP_LEGACY = 'i-07f645976171c294b'; // not registered with SSM
const WIN = 'i-00072a1e30e84868d';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function raw(
  endpoint: string,
  options: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<RawResponse> {
  const url = new URL(options.path ?? '/', endpoint);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'POST', headers: options.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Signs a request with @smithy/signature-v4 (as the SDK for JavaScript does) and sends it raw. */
async function signedRaw(
  sandbox: SandboxHandle,
  input: {
    service: string;
    headers: Record<string, string>;
    body: string;
    date?: Date;
    credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  },
): Promise<RawResponse> {
  const { host, port } = new URL(sandbox.endpoint);
  const signer = new SignatureV4({
    credentials: input.credentials ?? sandbox.credentials,
    region: sandbox.region,
    service: input.service,
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: Number(port),
      path: '/',
      query: {},
      headers: { host, 'content-length': String(Buffer.byteLength(input.body)), ...input.headers },
      body: input.body,
    },
    input.date ? { signingDate: input.date } : {},
  );
  return raw(sandbox.endpoint, { headers: signed.headers as Record<string, string>, body: input.body });
}

function ssmJson(action: string): Record<string, string> {
  return { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AmazonSSM.${action}` };
}

async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

let sandbox: SandboxHandle;
let ssm: SSMClient;
let ec2: EC2Client;
let sts: STSClient;
const clients: Array<{ destroy(): void }> = [];

function client<T extends { destroy(): void }>(c: T): T {
  clients.push(c);
  return c;
}

function config(overrides: Record<string, unknown> = {}) {
  return {
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    credentials: sandbox.credentials,
    maxAttempts: 1,
    ...overrides,
  };
}

/** `token` null sends no admin token header. */
async function admin(
  method: string,
  path: string,
  body?: unknown,
  token: string | null = sandbox.adminToken,
) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers['x-sandbox-admin-token'] = token;
  const res = await raw(sandbox.endpoint, {
    method,
    path: `/__sandbox${path}`,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: JSON.parse(res.body) as Record<string, unknown> };
}

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, faultSeed: 7 });
  ssm = client(new SSMClient(config()));
  ec2 = client(new EC2Client(config()));
  sts = client(new STSClient(config()));
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await sandbox.close();
});

afterEach(() => {
  sandbox.faults.reset();
});

describe('startSandbox', () => {
  it('listens on 127.0.0.1 and reports its endpoint, region and credentials', () => {
    expect(sandbox.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox.region).toBe('us-east-1');
    expect(sandbox.credentials.accessKeyId).toBe('AKIASANDBOXEXAMPLE01');
    expect(sandbox.adminToken.length).toBeGreaterThanOrEqual(40);
  });

  it('refuses a non-loopback host without allowNonLoopback', async () => {
    await expect(startSandbox({ port: 0, host: '0.0.0.0' })).rejects.toThrow(
      /Refusing to listen on 0\.0\.0\.0.*allowNonLoopback/,
    );
    await expect(startSandbox({ port: 0, host: '192.168.1.10' })).rejects.toThrow(/Refusing to listen/);
  });

  it('refuses a bad port or region', async () => {
    await expect(startSandbox({ port: 70000 })).rejects.toThrow(/port must be an integer from 0 to 65535/);
    await expect(startSandbox({ region: 'mars' })).rejects.toThrow(/region "mars"/);
  });

  it('reports a port in use clearly', async () => {
    const port = Number(new URL(sandbox.endpoint).port);
    await expect(startSandbox({ port })).rejects.toThrow(`127.0.0.1:${port} is already in use`);
  });

  it('loads a fleet file, and reports an invalid one naming the file and the JSON path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-server-test-'));
    try {
      const good = join(dir, 'fleet.json');
      writeFileSync(
        good,
        JSON.stringify({ instances: [{ instanceId: 'i-0123456789abcdef0', name: 'solo' }] }),
      );
      const small = await startSandbox({ port: 0, fleet: good });
      const c = new EC2Client({
        endpoint: small.endpoint,
        region: small.region,
        credentials: small.credentials,
        maxAttempts: 1,
      });
      try {
        const out = await c.send(new DescribeInstancesCommand({}));
        expect(out.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId)).toEqual([
          'i-0123456789abcdef0',
        ]);
      } finally {
        c.destroy();
        await small.close();
      }
      const bad = join(dir, 'bad.json');
      writeFileSync(
        bad,
        JSON.stringify({ instances: [{ instanceId: 'i-0123456789abcdef0', name: 'solo', state: 'asleep' }] }),
      );
      await expect(startSandbox({ port: 0, fleet: bad })).rejects.toThrow(
        new RegExp(`${bad}[\\s\\S]*\\$\\.instances\\[0\\]\\.state`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('STS', () => {
  it('GetCallerIdentity returns the sandbox user', async () => {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    expect(out).toMatchObject({
      Account: '123456789012',
      Arn: 'arn:aws:iam::123456789012:user/sandbox-user',
    });
    expect(out.UserId).toMatch(/^AIDA[A-Z0-9]{17}$/);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('SSM sessions', () => {
  it('StartSession, DescribeSessions, ResumeSession, TerminateSession round trip', async () => {
    const started = await ssm.send(new StartSessionCommand({ Target: WEB1, Reason: 'round trip' }));
    expect(started.SessionId).toMatch(/^sandbox-user-[0-9a-f]{17}$/);
    expect(started.TokenValue).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(started.StreamUrl).toBe(
      `${sandbox.endpoint.replace('http', 'ws')}/v1/data-channel/${started.SessionId}?role=publish_subscribe`,
    );
    const id = started.SessionId!;

    const active = await ssm.send(
      new DescribeSessionsCommand({ State: 'Active', Filters: [{ key: 'SessionId', value: id }] }),
    );
    expect(active.Sessions).toHaveLength(1);
    expect(active.Sessions![0]).toMatchObject({
      SessionId: id,
      Target: WEB1,
      Status: 'Connecting',
      DocumentName: 'SSM-SessionManagerRunShell',
      Owner: 'arn:aws:iam::123456789012:user/sandbox-user',
      Reason: 'round trip',
    });
    expect(active.Sessions![0]!.StartDate).toBeInstanceOf(Date);
    expect(Math.abs(active.Sessions![0]!.StartDate!.getTime() - Date.now())).toBeLessThan(10_000);

    const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: id }));
    expect(resumed.SessionId).toBe(id);
    expect(resumed.StreamUrl).toBe(started.StreamUrl);
    expect(resumed.TokenValue).not.toBe(started.TokenValue);
    expect(sandbox.registry.validateToken(id, started.TokenValue!)).toBe(true);
    expect(sandbox.registry.validateToken(id, resumed.TokenValue!)).toBe(true);

    const terminated = await ssm.send(new TerminateSessionCommand({ SessionId: id }));
    expect(terminated.SessionId).toBe(id);
    expect((await ssm.send(new TerminateSessionCommand({ SessionId: id }))).SessionId).toBe(id);

    const history = await ssm.send(
      new DescribeSessionsCommand({ State: 'History', Filters: [{ key: 'SessionId', value: id }] }),
    );
    expect(history.Sessions![0]).toMatchObject({ SessionId: id, Status: 'Terminated' });
    expect(history.Sessions![0]!.EndDate).toBeInstanceOf(Date);
    const stillActive = await ssm.send(
      new DescribeSessionsCommand({ State: 'Active', Filters: [{ key: 'SessionId', value: id }] }),
    );
    expect(stillActive.Sessions).toEqual([]);

    const err = await rejection(ssm.send(new ResumeSessionCommand({ SessionId: id })));
    expect(err.name).toBe('DoesNotExistException');
    expect(
      (await rejection(ssm.send(new ResumeSessionCommand({ SessionId: 'sandbox-user-00000000000000000' }))))
        .name,
    ).toBe('DoesNotExistException');
  });

  it('DescribeSessions filters, validates and paginates', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await ssm.send(new StartSessionCommand({ Target: WIN }))).SessionId!);
    const byTarget = await ssm.send(
      new DescribeSessionsCommand({ State: 'Active', Filters: [{ key: 'Target', value: WIN }] }),
    );
    expect(byTarget.Sessions!.map((s) => s.SessionId).sort()).toEqual([...ids].sort());

    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await ssm.send(
        new DescribeSessionsCommand({
          State: 'Active',
          MaxResults: 1,
          NextToken: token,
          Filters: [{ key: 'Target', value: WIN }],
        }),
      );
      seen.push(...page.Sessions!.map((s) => s.SessionId!));
      token = page.NextToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual([...ids].sort());

    const future = new Date(Date.now() + 3600_000).toISOString();
    const none = await ssm.send(
      new DescribeSessionsCommand({ State: 'Active', Filters: [{ key: 'InvokedAfter', value: future }] }),
    );
    expect(none.Sessions).toEqual([]);
    const connecting = await ssm.send(
      new DescribeSessionsCommand({
        State: 'Active',
        Filters: [
          { key: 'Status', value: 'Connecting' },
          { key: 'Target', value: WIN },
        ],
      }),
    );
    expect(connecting.Sessions).toHaveLength(3);

    const badKey = await rejection(
      ssm.send(
        new DescribeSessionsCommand({ State: 'Active', Filters: [{ key: 'Color' as 'Target', value: 'x' }] }),
      ),
    );
    expect(badKey.name).toBe('InvalidFilterKey');
    const badMax = await rejection(
      ssm.send(new DescribeSessionsCommand({ State: 'Active', MaxResults: 201 })),
    );
    expect(badMax.name).toBe('ValidationException');
    expect(badMax.message).toContain(
      "Value '201' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 200",
    );
    const badState = await rejection(
      ssm.send(new DescribeSessionsCommand({ State: 'Sometimes' as 'Active' })),
    );
    expect(badState.message).toContain('Member must satisfy enum value set: [Active, History]');
    const badToken = await rejection(
      ssm.send(new DescribeSessionsCommand({ State: 'Active', NextToken: 'garbage' })),
    );
    expect(badToken.name).toBe('InvalidNextToken');
    for (const id of ids) await ssm.send(new TerminateSessionCommand({ SessionId: id }));
  });

  it('refuses targets that are not connected', async () => {
    for (const target of [DB_REPLICA, WORKER2, BATCH_LEGACY, FTP_LEGACY, 'i-0000000000000000a']) {
      const err = await rejection(ssm.send(new StartSessionCommand({ Target: target })));
      expect(err.name, target).toBe('TargetNotConnected');
      expect(err.message).toBe(`${target} is not connected.`);
      expect(err.$metadata?.httpStatusCode).toBe(400);
    }
  });

  it('checks the document and its parameters, filling in defaults', async () => {
    const invalid = await rejection(
      ssm.send(new StartSessionCommand({ Target: WEB1, DocumentName: 'AWS-NoSuchDocument' })),
    );
    expect(invalid.name).toBe('InvalidDocument');
    expect(invalid.message).toContain('AWS-NoSuchDocument');

    const noCommand = await rejection(
      ssm.send(new StartSessionCommand({ Target: WEB1, DocumentName: 'AWS-StartInteractiveCommand' })),
    );
    expect(noCommand.name).toBe('InvalidParameters');
    expect(noCommand.message).toContain('"command" is required');

    const badPort = await rejection(
      ssm.send(
        new StartSessionCommand({
          Target: WEB1,
          DocumentName: 'AWS-StartPortForwardingSession',
          Parameters: { portNumber: ['http'] },
        }),
      ),
    );
    expect(badPort.name).toBe('InvalidParameters');
    const unknownParam = await rejection(
      ssm.send(new StartSessionCommand({ Target: WEB1, Parameters: { shell: ['zsh'] } })),
    );
    expect(unknownParam.name).toBe('InvalidParameters');

    const ssh = await ssm.send(
      new StartSessionCommand({ Target: WEB1, DocumentName: 'AWS-StartSSHSession' }),
    );
    expect(sandbox.registry.get(ssh.SessionId!)).toMatchObject({
      documentName: 'AWS-StartSSHSession',
      parameters: { portNumber: ['22'] },
    });
    const remote = await ssm.send(
      new StartSessionCommand({
        Target: WEB1,
        DocumentName: 'AWS-StartPortForwardingSessionToRemoteHost',
        Parameters: { host: ['db.internal'], portNumber: ['5432'] },
      }),
    );
    expect(sandbox.registry.get(remote.SessionId!)!.parameters).toEqual({
      host: ['db.internal'],
      portNumber: ['5432'],
      localPortNumber: ['0'],
    });
    for (const id of [ssh.SessionId!, remote.SessionId!])
      await ssm.send(new TerminateSessionCommand({ SessionId: id }));
  });

  it('requires Target', async () => {
    const err = await rejection(ssm.send(new StartSessionCommand({} as { Target: string })));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toBe(
      "1 validation error detected: Value null at 'target' failed to satisfy constraint: Member must not be null",
    );
  });

  it('answers unknown actions and malformed JSON like AWS', async () => {
    const unknown = await signedRaw(sandbox, {
      service: 'ssm',
      headers: ssmJson('LaunchRockets'),
      body: '{}',
    });
    expect(unknown.status).toBe(400);
    expect(unknown.headers['x-amzn-errortype']).toBe('UnknownOperationException');
    expect(unknown.headers['x-amzn-requestid']).toBeTruthy();
    const malformed = await signedRaw(sandbox, {
      service: 'ssm',
      headers: ssmJson('DescribeSessions'),
      body: '{"State": ',
    });
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body)).toMatchObject({ __type: 'SerializationException' });
  });
});

describe('SSM DescribeInstanceInformation', () => {
  async function all(
    input: ConstructorParameters<typeof DescribeInstanceInformationCommand>[0] = {},
  ): Promise<InstanceInformation[]> {
    const out: InstanceInformation[] = [];
    let token: string | undefined;
    do {
      const page = await ssm.send(new DescribeInstanceInformationCommand({ ...input, NextToken: token }));
      out.push(...page.InstanceInformationList!);
      token = page.NextToken;
    } while (token);
    return out;
  }

  it('lists the instances registered with SSM, with their ping status', async () => {
    const list = await all();
    expect(list).toHaveLength(11);
    expect(list.map((i) => i.InstanceId)).not.toContain(FTP_LEGACY);
    const byId = new Map(list.map((i) => [i.InstanceId, i]));
    expect(byId.get(WORKER2)!.PingStatus).toBe('ConnectionLost');
    expect(byId.get(DB_REPLICA)!.PingStatus).toBe('ConnectionLost');
    expect(byId.get(BATCH_LEGACY)).toMatchObject({ PingStatus: 'Inactive', IsLatestVersion: false });
    expect(byId.get(WEB1)).toMatchObject({
      PingStatus: 'Online',
      PlatformType: 'Linux',
      PlatformName: 'Amazon Linux',
      ResourceType: 'EC2Instance',
      IPAddress: '10.0.1.11',
      ComputerName: 'ip-10-0-1-11',
      IsLatestVersion: true,
    });
    expect(byId.get(WEB1)!.LastPingDateTime).toBeInstanceOf(Date);
    expect(byId.get(DB_REPLICA)!.LastPingDateTime!.getTime()).toBeLessThan(Date.now() - 60_000);
  });

  it('paginates with MaxResults and NextToken', async () => {
    const first = await ssm.send(new DescribeInstanceInformationCommand({ MaxResults: 5 }));
    expect(first.InstanceInformationList).toHaveLength(5);
    expect(first.NextToken).toBeTruthy();
    const list = await all({ MaxResults: 5 });
    expect(new Set(list.map((i) => i.InstanceId)).size).toBe(11);
    const bad = await rejection(
      ssm.send(new DescribeInstanceInformationCommand({ NextToken: 'not-a-token' })),
    );
    expect(bad.name).toBe('InvalidNextToken');
  });

  it('validates MaxResults, naming the bound', async () => {
    const low = await rejection(ssm.send(new DescribeInstanceInformationCommand({ MaxResults: 4 })));
    expect(low.name).toBe('ValidationException');
    expect(low.message).toContain('greater than or equal to 5');
    const high = await rejection(ssm.send(new DescribeInstanceInformationCommand({ MaxResults: 51 })));
    expect(high.message).toContain('less than or equal to 50');
  });

  it('filters by ping status, platform, ids, tags and the legacy filter list', async () => {
    const online = await all({ Filters: [{ Key: 'PingStatus', Values: ['Online'] }] });
    expect(online.every((i) => i.PingStatus === 'Online')).toBe(true);
    expect(online).toHaveLength(8);
    expect(
      (await all({ Filters: [{ Key: 'PlatformTypes', Values: ['Windows'] }] })).map((i) => i.InstanceId),
    ).toEqual([WIN]);
    expect(
      (await all({ Filters: [{ Key: 'InstanceIds', Values: [WEB1, FTP_LEGACY] }] })).map((i) => i.InstanceId),
    ).toEqual([WEB1]);
    const prodData = await all({
      Filters: [
        { Key: 'tag:Environment', Values: ['prod'] },
        { Key: 'tag:Team', Values: ['data'] },
      ],
    });
    expect(prodData.map((i) => i.InstanceId).sort()).toEqual([DB_REPLICA, 'i-0e90d89889ac82d2e'].sort());
    const legacy = await all({
      InstanceInformationFilterList: [{ key: 'PingStatus', valueSet: ['Inactive'] }],
    });
    expect(legacy.map((i) => i.InstanceId)).toEqual([BATCH_LEGACY]);

    const badValue = await rejection(
      ssm.send(
        new DescribeInstanceInformationCommand({ Filters: [{ Key: 'PingStatus', Values: ['Asleep'] }] }),
      ),
    );
    expect(badValue.name).toBe('InvalidInstanceInformationFilterValue');
    const badKey = await rejection(
      ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'Color', Values: ['red'] }] })),
    );
    expect(badKey.name).toBe('InvalidFilterKey');
  });
});

describe('EC2 DescribeInstances', () => {
  it('returns every instance in the real shape, with tags', async () => {
    const out = await ec2.send(new DescribeInstancesCommand({}));
    const instances = out.Reservations!.flatMap((r) => r.Instances!);
    expect(instances).toHaveLength(12);
    expect(out.NextToken).toBeUndefined();
    const web1 = instances.find((i) => i.InstanceId === WEB1)!;
    expect(web1).toMatchObject({
      State: { Code: 16, Name: 'running' },
      InstanceType: 't3.small',
      PrivateIpAddress: '10.0.1.11',
      PrivateDnsName: 'ip-10-0-1-11.ec2.internal',
      Placement: { AvailabilityZone: 'us-east-1a' },
      PlatformDetails: 'Linux/UNIX',
    });
    expect(web1.ImageId).toMatch(/^ami-[0-9a-f]{17}$/);
    expect(web1.LaunchTime).toEqual(new Date('2024-11-04T09:12:31.000Z'));
    expect(web1.Platform).toBeUndefined();
    expect(Object.fromEntries(web1.Tags!.map((t) => [t.Key, t.Value]))).toEqual({
      Name: 'web-1',
      Environment: 'prod',
      Team: 'web',
      Role: 'web',
    });
    const win = instances.find((i) => i.InstanceId === WIN)!;
    expect(win).toMatchObject({ Platform: 'windows', PlatformDetails: 'Windows' });
    expect(instances.find((i) => i.InstanceId === WORKER2)!.State).toEqual({ Code: 80, Name: 'stopped' });
    expect(out.Reservations![0]!.OwnerId).toBe('123456789012');
  });

  it('filters by id, state, tags, tag keys and wildcards', async () => {
    const ids = async (input: DescribeInstancesCommandInput) =>
      ((await ec2.send(new DescribeInstancesCommand(input))).Reservations ?? [])
        .flatMap((r) => r.Instances!)
        .map((i) => i.InstanceId)
        .sort();
    expect(await ids({ InstanceIds: [WEB1, WIN] })).toEqual([WEB1, WIN].sort());
    expect(await ids({ Filters: [{ Name: 'instance-state-name', Values: ['stopped'] }] })).toEqual([WORKER2]);
    expect(await ids({ Filters: [{ Name: 'instance-id', Values: [WEB1] }] })).toEqual([WEB1]);
    expect(await ids({ Filters: [{ Name: 'tag:Name', Values: ['web-*'] }] })).toEqual(
      [WEB1, 'i-0a03534fd537d6397'].sort(),
    );
    expect(await ids({ Filters: [{ Name: 'tag-key', Values: ['Note'] }] })).toEqual([FTP_LEGACY]);
    expect(
      await ids({
        Filters: [
          { Name: 'tag:Team', Values: ['data'] },
          { Name: 'instance-state-name', Values: ['running'] },
          { Name: 'tag:Environment', Values: ['prod', 'dev'] },
        ],
      }),
    ).toEqual([DB_REPLICA, BATCH_LEGACY, 'i-0e90d89889ac82d2e'].sort());
    expect(await ids({ Filters: [{ Name: 'platform-details', Values: ['Windows'] }] })).toEqual([WIN]);
  });

  it('reports unknown and malformed ids and bad filters', async () => {
    const missing = await rejection(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0000000000000000a'] })),
    );
    expect(missing.name).toBe('InvalidInstanceID.NotFound');
    expect(missing.message).toBe("The instance ID 'i-0000000000000000a' does not exist");
    const malformed = await rejection(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['web-1'] })));
    expect(malformed.name).toBe('InvalidInstanceID.Malformed');
    const badFilter = await rejection(
      ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'colour', Values: ['red'] }] })),
    );
    expect(badFilter.name).toBe('InvalidParameterValue');
  });

  it('paginates with MaxResults and NextToken', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: token }));
      seen.push(...page.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId!)));
      token = page.NextToken;
      pages++;
    } while (token);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(12);
    const small = await rejection(ec2.send(new DescribeInstancesCommand({ MaxResults: 4 })));
    expect(small.name).toBe('InvalidParameterValue');
    const combined = await rejection(
      ec2.send(new DescribeInstancesCommand({ MaxResults: 5, InstanceIds: [WEB1] })),
    );
    expect(combined.name).toBe('InvalidParameterCombination');
  });

  it('escapes XML in tag values', async () => {
    const tricky = `a<b>&"c"'d' ]]> é`;
    const original = sandbox.fleet.get(WIN)!;
    sandbox.fleet.update(WIN, { tags: { ...original.tags, Note: tricky } });
    try {
      const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [WIN] }));
      const tags = out.Reservations![0]!.Instances![0]!.Tags!;
      expect(tags.find((t) => t.Key === 'Note')!.Value).toBe(tricky);
    } finally {
      sandbox.fleet.update(WIN, { tags: original.tags });
    }
  });
});

describe('authentication', () => {
  const wrongKey = { accessKeyId: 'AKIAWRONGKEY00000000', secretAccessKey: 'whatever' };

  it('an unknown access key is UnrecognizedClientException (EC2: AuthFailure, STS: InvalidClientTokenId)', async () => {
    const s = client(new SSMClient(config({ credentials: wrongKey })));
    const err = await rejection(s.send(new DescribeSessionsCommand({ State: 'Active' })));
    expect(err.name).toBe('UnrecognizedClientException');
    expect(err.message).toBe('The security token included in the request is invalid.');
    const e = client(new EC2Client(config({ credentials: wrongKey })));
    expect((await rejection(e.send(new DescribeInstancesCommand({})))).name).toBe('AuthFailure');
    const t = client(new STSClient(config({ credentials: wrongKey })));
    expect((await rejection(t.send(new GetCallerIdentityCommand({})))).name).toBe('InvalidClientTokenId');
  });

  it('a wrong secret is InvalidSignatureException (EC2: AuthFailure, STS: SignatureDoesNotMatch)', async () => {
    const wrongSecret = { accessKeyId: sandbox.credentials.accessKeyId, secretAccessKey: 'not-the-secret' };
    const s = client(new SSMClient(config({ credentials: wrongSecret })));
    const err = await rejection(s.send(new StartSessionCommand({ Target: WEB1 })));
    expect(err.name).toBe('InvalidSignatureException');
    expect(err.message).toMatch(
      /^The request signature we calculated does not match the signature you provided/,
    );
    const e = client(new EC2Client(config({ credentials: wrongSecret })));
    expect((await rejection(e.send(new DescribeInstancesCommand({})))).name).toBe('AuthFailure');
    const t = client(new STSClient(config({ credentials: wrongSecret })));
    expect((await rejection(t.send(new GetCallerIdentityCommand({})))).name).toBe('SignatureDoesNotMatch');
  });

  it('a request signed 10 minutes ago is InvalidSignatureException "Signature expired"', async () => {
    const res = await signedRaw(sandbox, {
      service: 'ssm',
      headers: ssmJson('DescribeSessions'),
      body: '{"State":"Active"}',
      date: new Date(Date.now() - 10 * 60_000),
    });
    expect(res.status).toBe(400);
    expect(res.headers['x-amzn-errortype']).toBe('InvalidSignatureException');
    expect(JSON.parse(res.body).message).toMatch(
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
    );
  });

  it('STS and EC2 allow 15 minutes of clock skew, as AWS does', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
    const sts10 = await signedRaw(sandbox, {
      service: 'sts',
      headers: form,
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
      date: new Date(Date.now() - 10 * 60_000),
    });
    expect(sts10.status).toBe(200);
    const sts20 = await signedRaw(sandbox, {
      service: 'sts',
      headers: form,
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
      date: new Date(Date.now() - 20 * 60_000),
    });
    expect(sts20.status).toBe(403);
    expect(sts20.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(sts20.body).toMatch(
      /Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)/,
    );
    const ec2Stale = await signedRaw(sandbox, {
      service: 'ec2',
      headers: form,
      body: 'Action=DescribeInstances&Version=2016-11-15',
      date: new Date(Date.now() - 20 * 60_000),
    });
    expect(ec2Stale.status).toBe(400);
    expect(ec2Stale.body).toMatch(
      /<Response><Errors><Error><Code>RequestExpired<\/Code><Message>Request has expired\./,
    );
    expect(ec2Stale.body).toMatch(/<RequestID>[0-9a-f-]{36}<\/RequestID>/);
  });

  it('the SDK sees InvalidSignatureException for a skewed clock', async () => {
    const skewed = client(new SSMClient(config({ systemClockOffset: -10 * 60_000 })));
    const err = await rejection(skewed.send(new DescribeSessionsCommand({ State: 'Active' })));
    expect(err.name).toBe('InvalidSignatureException');
    expect(err.message).toMatch(/^Signature expired/);
  });

  it('accepts requests signed the Go SDK v1 way (content-length signed, no x-amz-content-sha256)', async () => {
    const res = await signedRaw(sandbox, {
      service: 'ssm',
      headers: ssmJson('DescribeSessions'),
      body: '{"State":"History"}',
    });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toHaveProperty('Sessions');
  });

  it('a request without a signature is MissingAuthenticationTokenException', async () => {
    const res = await raw(sandbox.endpoint, {
      headers: ssmJson('DescribeSessions'),
      body: '{"State":"Active"}',
    });
    expect(res.status).toBe(400);
    expect(res.headers['x-amzn-errortype']).toBe('MissingAuthenticationTokenException');
  });

  it('a client configured for another region is told which region to use', async () => {
    const other = client(new SSMClient(config({ region: 'eu-west-1' })));
    const err = await rejection(other.send(new DescribeSessionsCommand({ State: 'Active' })));
    expect(err.name).toBe('InvalidSignatureException');
    expect(err.message).toContain("not 'eu-west-1'");
    expect(err.message).toContain('us-east-1');
  });

  it('temporary credentials work until they expire, then give ExpiredTokenException', async () => {
    const temp = {
      accessKeyId: 'ASIASANDBOXTEMP00001',
      secretAccessKey: 'temporary/secret',
      sessionToken: 'session-token-1',
    };
    const record = sandbox.credentialStore.addTemporary({
      ...temp,
      expiration: new Date(Date.now() + 60_000),
    });
    const s = client(new SSMClient(config({ credentials: temp })));
    await expect(s.send(new DescribeSessionsCommand({ State: 'Active' }))).resolves.toHaveProperty(
      'Sessions',
    );
    const t = client(new STSClient(config({ credentials: temp })));
    expect((await t.send(new GetCallerIdentityCommand({}))).Arn).toBe(
      'arn:aws:iam::123456789012:user/sandbox-user',
    );

    const noToken = client(
      new SSMClient(
        config({ credentials: { accessKeyId: temp.accessKeyId, secretAccessKey: temp.secretAccessKey } }),
      ),
    );
    expect((await rejection(noToken.send(new DescribeSessionsCommand({ State: 'Active' })))).name).toBe(
      'UnrecognizedClientException',
    );

    record.expiration = new Date(Date.now() - 1000);
    sandbox.credentialStore.addTemporary({ ...temp, expiration: new Date(Date.now() - 1000) });
    const err = await rejection(s.send(new DescribeSessionsCommand({ State: 'Active' })));
    expect(err.name).toBe('ExpiredTokenException');
    expect(err.message).toBe('The security token included in the request is expired');
    expect((await rejection(t.send(new GetCallerIdentityCommand({})))).name).toBe('ExpiredToken');
    sandbox.credentialStore.remove(temp.accessKeyId);
  });
});

describe('control-plane faults', () => {
  it('throttleRate 1 throttles every call: ThrottlingException (EC2: RequestLimitExceeded, 503)', async () => {
    sandbox.faults.set({ controlPlane: { throttleRate: 1 } });
    const err = await rejection(ssm.send(new DescribeSessionsCommand({ State: 'Active' })));
    expect(err.name).toBe('ThrottlingException');
    expect(err.message).toBe('Rate exceeded');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    const e = await rejection(ec2.send(new DescribeInstancesCommand({})));
    expect(e.name).toBe('RequestLimitExceeded');
    expect(e.$metadata?.httpStatusCode).toBe(503);
    const t = await rejection(sts.send(new GetCallerIdentityCommand({})));
    expect(t.name).toBe('ThrottlingException');
    sandbox.faults.reset();
    await expect(ssm.send(new DescribeSessionsCommand({ State: 'Active' }))).resolves.toBeDefined();
  });

  it('throttling applies only to signed calls: a bad signature is still reported as such', async () => {
    sandbox.faults.set({ controlPlane: { throttleRate: 1 } });
    const s = client(
      new SSMClient(config({ credentials: { accessKeyId: 'AKIAWRONGKEY00000000', secretAccessKey: 'x' } })),
    );
    expect((await rejection(s.send(new DescribeSessionsCommand({ State: 'Active' })))).name).toBe(
      'UnrecognizedClientException',
    );
  });

  it('delayMs delays every call', async () => {
    sandbox.faults.set({ controlPlane: { delayMs: 150 } });
    const started = Date.now();
    await sts.send(new GetCallerIdentityCommand({}));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('admin API', () => {
  it('refuses requests without the admin token', async () => {
    expect((await admin('GET', '/state', undefined, null)).status).toBe(403);
    const wrong = await admin('GET', '/state', undefined, 'nope');
    expect(wrong.status).toBe(403);
    expect(wrong.json.error).toMatch(/x-sandbox-admin-token/);
    expect((await admin('POST', '/faults', { controlPlane: { throttleRate: 1 } }, null)).status).toBe(403);
    expect(sandbox.faults.state.controlPlane.throttleRate).toBe(0);
  });

  it('GET /state shows the fleet, sessions and faults', async () => {
    const { status, json } = await admin('GET', '/state');
    expect(status).toBe(200);
    expect(json.fleet).toHaveLength(12);
    expect(json.faults).toEqual(sandbox.faults.state);
    expect(json).toHaveProperty('sessions.active');
    expect(json).toHaveProperty('sessions.history');
    expect(json.endpoint).toBe(sandbox.endpoint);
  });

  it('POST /faults applies a validated patch; /faults/reset clears it', async () => {
    const ok = await admin('POST', '/faults', { dataChannel: { dropRate: 0.5 } });
    expect(ok.status).toBe(200);
    expect(sandbox.faults.state.dataChannel.dropRate).toBe(0.5);
    const bad = await admin('POST', '/faults', { dataChannel: { dropRate: 2 } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toContain('dataChannel.dropRate');
    const malformed = await admin('POST', '/faults', '{"dataChannel": ');
    expect(malformed.status).toBe(400);
    expect(malformed.json.error).toMatch(/Malformed JSON/);
    expect((await admin('POST', '/faults/reset')).status).toBe(200);
    expect(sandbox.faults.state.dataChannel.dropRate).toBe(0);
  });

  it('POST /instances/<id> changes an instance and announces it', async () => {
    const changed: string[] = [];
    const onChanged = (id: string) => changed.push(id);
    sandbox.faults.on('instanceChanged', onChanged);
    try {
      const res = await admin('POST', `/instances/${WEB1}`, { pingStatus: 'ConnectionLost' });
      expect(res.status).toBe(200);
      expect(res.json.instance).toMatchObject({ instanceId: WEB1, pingStatus: 'ConnectionLost' });
      expect(changed).toEqual([WEB1]);
      expect((await rejection(ssm.send(new StartSessionCommand({ Target: WEB1 })))).name).toBe(
        'TargetNotConnected',
      );
      const bad = await admin('POST', `/instances/${WEB1}`, { pingstatus: 'Online' });
      expect(bad.status).toBe(400);
      expect(bad.json.error).toContain('pingstatus');
      expect((await admin('POST', '/instances/i-0000000000000000a', { pingStatus: 'Online' })).status).toBe(
        404,
      );
    } finally {
      await admin('POST', `/instances/${WEB1}`, { pingStatus: 'Online' });
      sandbox.faults.off('instanceChanged', onChanged);
    }
    await expect(ssm.send(new StartSessionCommand({ Target: WEB1 }))).resolves.toHaveProperty('SessionId');
  });

  it('POST /drop-sockets emits dropSockets; POST /sessions/<id>/terminate ends the session', async () => {
    const dropped: Array<string | undefined> = [];
    const onDrop = (id?: string) => dropped.push(id);
    sandbox.faults.on('dropSockets', onDrop);
    const { SessionId } = await ssm.send(new StartSessionCommand({ Target: WEB1 }));
    try {
      expect((await admin('POST', '/drop-sockets', { sessionId: SessionId })).status).toBe(200);
      expect((await admin('POST', '/drop-sockets')).status).toBe(200);
      expect(dropped).toEqual([SessionId, undefined]);
    } finally {
      sandbox.faults.off('dropSockets', onDrop);
    }
    const terminated: string[] = [];
    const onTerminate = (id: string) => terminated.push(id);
    sandbox.registry.on('terminate', onTerminate);
    try {
      const res = await admin('POST', `/sessions/${SessionId}/terminate`);
      expect(res.status).toBe(200);
      expect(res.json.session).toMatchObject({ sessionId: SessionId, status: 'Terminated' });
      expect(terminated).toEqual([SessionId]);
    } finally {
      sandbox.registry.off('terminate', onTerminate);
    }
    expect((await admin('POST', '/sessions/sandbox-user-00000000000000000/terminate')).status).toBe(404);
  });

  it('POST /credentials/temporary hands out working temporary credentials', async () => {
    const { status, json } = await admin('POST', '/credentials/temporary', { expiresInSeconds: 600 });
    expect(status).toBe(200);
    const t = client(
      new STSClient(
        config({
          credentials: {
            accessKeyId: json.AccessKeyId as string,
            secretAccessKey: json.SecretAccessKey as string,
            sessionToken: json.SessionToken as string,
          },
        }),
      ),
    );
    expect((await t.send(new GetCallerIdentityCommand({}))).Account).toBe('123456789012');
  });

  it('limits body size (413) and answers unknown endpoints with 404', async () => {
    const big = await admin('POST', '/faults', `{"x": "${'a'.repeat(1024 * 1024)}"}`);
    expect(big.status).toBe(413);
    const apiBig = await raw(sandbox.endpoint, {
      headers: ssmJson('DescribeSessions'),
      body: Buffer.alloc(1024 * 1024 + 1, 32),
    });
    expect(apiBig.status).toBe(413);
    expect((await admin('GET', '/nothing-here')).status).toBe(404);
    expect((await admin('GET', '/faults')).status).toBe(405);
  });
});

describe('WebSocket upgrades', () => {
  function upgrade(url: string): Promise<{ opened: boolean; status?: number; ws: WebSocket }> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url);
      ws.on('open', () => resolve({ opened: true, ws }));
      ws.on('unexpected-response', (_req, res) =>
        resolve({ opened: false, status: res.statusCode ?? 0, ws }),
      );
      ws.on('error', () => resolve({ opened: false, ws }));
    });
  }

  it('hands /v1/data-channel/ upgrades to the data-channel server and refuses others', async () => {
    const { StreamUrl, SessionId } = await ssm.send(new StartSessionCommand({ Target: WEB1 }));
    const ok = await upgrade(StreamUrl!);
    expect(ok.opened).toBe(true);
    ok.ws.terminate();
    const other = await upgrade(`${sandbox.endpoint.replace('http', 'ws')}/somewhere-else`);
    expect(other).toMatchObject({ opened: false, status: 404 });
    await ssm.send(new TerminateSessionCommand({ SessionId }));
  });
});
