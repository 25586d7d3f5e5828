/**
 * The sandbox's per-instance conditions for fault tests: `startSessionDenied` (IAM denies
 * ssm:StartSession on the instance) and `dataChannelEndpoint` (its sessions' StreamUrl points
 * elsewhere), set in a fleet file, with fleet.update() or the admin API.
 */
import { ResumeSessionCommand, SSMClient, StartSessionCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleet, parseFleet } from '../../main/sandbox/fleet.js';
import { ADMIN_TOKEN_HEADER } from '../../main/sandbox/http-server.js';
import { startSandbox, type SandboxHandle } from '../../main/sandbox/server.js';

const WEB1 = 'i-0b5bb7865829a72f8';
const WEB2 = 'i-0a03534fd537d6397';

let sandbox: SandboxHandle;
let ssm: SSMClient;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  ssm = new SSMClient({
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    credentials: sandbox.credentials,
    maxAttempts: 1,
  });
});
afterAll(async () => {
  ssm.destroy();
  await sandbox.close();
});

async function error(p: Promise<unknown>): Promise<{ name: string; message: string }> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err as Error,
  );
  expect(e, 'expected the call to fail').toBeInstanceOf(Error);
  return e!;
}

describe('fleet conditions', () => {
  it('are accepted in a fleet file and by update(), and validated', () => {
    const [inst] = parseFleet([
      {
        instanceId: WEB1,
        name: 'a',
        startSessionDenied: true,
        dataChannelEndpoint: 'wss://ssmmessages.example.com',
      },
    ]);
    expect(inst).toMatchObject({
      startSessionDenied: true,
      dataChannelEndpoint: 'wss://ssmmessages.example.com',
    });
    expect(() =>
      parseFleet([{ instanceId: WEB1, name: 'a', dataChannelEndpoint: 'ws://127.0.0.1:9/path' }]),
    ).toThrow(/\$\[0\]\.dataChannelEndpoint: expected a WebSocket base URL without a path/);
    const fleet = createFleet([{ ...inst!, startSessionDenied: false }]);
    expect(fleet.update(WEB1, { startSessionDenied: true }).startSessionDenied).toBe(true);
    expect(fleet.update(WEB1, { dataChannelEndpoint: null }).dataChannelEndpoint).toBeNull();
    expect(() => fleet.update(WEB1, { startSessionDenied: 'yes' as unknown as boolean })).toThrow(
      /startSessionDenied/,
    );
  });
});

describe('startSessionDenied', () => {
  it('StartSession answers AccessDeniedException naming the caller, the action and the instance', async () => {
    sandbox.fleet.update(WEB1, { startSessionDenied: true });
    try {
      const e = await error(ssm.send(new StartSessionCommand({ Target: WEB1 })));
      expect(e.name).toBe('AccessDeniedException');
      expect(e.message).toBe(
        'User: arn:aws:iam::123456789012:user/sandbox-user is not authorized to perform: ssm:StartSession on resource: arn:aws:ec2:us-east-1:123456789012:instance/i-0b5bb7865829a72f8 because no identity-based policy allows the ssm:StartSession action',
      );
      // IAM comes before the connection check, as on AWS.
      sandbox.fleet.update(WEB1, { pingStatus: 'ConnectionLost' });
      expect((await error(ssm.send(new StartSessionCommand({ Target: WEB1 })))).name).toBe(
        'AccessDeniedException',
      );
    } finally {
      sandbox.fleet.update(WEB1, { startSessionDenied: false, pingStatus: 'Online' });
    }
    const ok = await ssm.send(new StartSessionCommand({ Target: WEB1 }));
    expect(ok.SessionId).toMatch(/^sandbox-user-/);
  });

  it('can be set over the admin API, and shows in /state', async () => {
    const res = await fetch(`${sandbox.endpoint}/__sandbox/instances/${WEB2}`, {
      method: 'POST',
      headers: { [ADMIN_TOKEN_HEADER]: sandbox.adminToken },
      body: JSON.stringify({ startSessionDenied: true }),
    });
    expect(res.status).toBe(200);
    try {
      const state = (await (
        await fetch(`${sandbox.endpoint}/__sandbox/state`, {
          headers: { [ADMIN_TOKEN_HEADER]: sandbox.adminToken },
        })
      ).json()) as { fleet: Array<{ instanceId: string; startSessionDenied?: boolean }> };
      expect(state.fleet.find((i) => i.instanceId === WEB2)?.startSessionDenied).toBe(true);
      expect((await error(ssm.send(new StartSessionCommand({ Target: WEB2 })))).name).toBe(
        'AccessDeniedException',
      );
    } finally {
      sandbox.fleet.update(WEB2, { startSessionDenied: false });
    }
  });
});

describe('dataChannelEndpoint', () => {
  it('replaces the StreamUrl base of StartSession and ResumeSession; null restores it', async () => {
    sandbox.fleet.update(WEB1, { dataChannelEndpoint: 'ws://127.0.0.1:9' });
    try {
      const started = await ssm.send(new StartSessionCommand({ Target: WEB1 }));
      expect(started.StreamUrl).toBe(
        `ws://127.0.0.1:9/v1/data-channel/${started.SessionId}?role=publish_subscribe`,
      );
      const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: started.SessionId }));
      expect(resumed.StreamUrl).toBe(started.StreamUrl);
    } finally {
      sandbox.fleet.update(WEB1, { dataChannelEndpoint: null });
    }
    const normal = await ssm.send(new StartSessionCommand({ Target: WEB1 }));
    expect(normal.StreamUrl!.startsWith(sandbox.endpoint.replace(/^http/, 'ws'))).toBe(true);
  });
});
