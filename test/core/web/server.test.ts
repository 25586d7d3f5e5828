import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ControlPlane } from '../../../main/core/ssm/control-plane.js';
import { Workspace } from '../../../main/core/workspace/workspace.js';
import { startWebServer, type WebServerHandle } from '../../../main/core/web/server.js';
import type { InstanceSummary } from '../../../main/core/ssm/types.js';
import { BridgeError, WS_PATH, type BridgeHandlers, type WsServerMessage } from '../../../preload/api.js';
import { createWebSocketBridge, type WebSocketLike } from '../../../renderer/bridge/websocket.js';

const instances: InstanceSummary[] = [
  {
    instanceId: 'i-0123456789abcdef0',
    name: 'web-1',
    state: 'running',
    pingStatus: 'Online',
    platform: 'Linux',
    platformName: 'Amazon Linux',
    tags: { Name: 'web-1' },
  },
  {
    instanceId: 'i-0fedcba9876543210',
    name: 'db-1',
    state: 'stopped',
    pingStatus: 'ConnectionLost',
    platform: 'Linux',
    tags: { Name: 'db-1' },
    unavailableReason: 'the instance is stopped',
  },
];

/** A stand-in for ControlPlane: only what the handlers use. */
class FakeControlPlane {
  calls = 0;
  result: unknown = instances;
  failWith: Error | undefined;
  async listInstances(): Promise<InstanceSummary[]> {
    this.calls++;
    if (this.failWith) throw this.failWith;
    return this.result as InstanceSummary[];
  }
}

interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** Open a WebSocket; resolves with the socket, or the HTTP status the upgrade was refused with. */
function openWs(url: string, headers: Record<string, string> = {}): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

/** Send one raw message and wait for the next message back. */
function roundTrip(ws: WebSocket, data: string | Buffer): Promise<WsServerMessage> {
  return new Promise((resolve) => {
    ws.once('message', (raw) => resolve(JSON.parse(raw.toString()) as WsServerMessage));
    ws.send(data);
  });
}

const closeWs = (ws: WebSocket): Promise<void> =>
  new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once('close', () => resolve());
    ws.close();
  });

let tmp: string;
let staticDir: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ec2c-web-'));
  staticDir = path.join(tmp, 'renderer');
  await mkdir(path.join(staticDir, 'assets'), { recursive: true });
  await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>EC2 Connect test page</title>');
  await writeFile(path.join(staticDir, 'assets', 'app.js'), 'console.log("app");');
  await writeFile(path.join(tmp, 'secret.txt'), 'do not serve');
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('startWebServer', () => {
  let server: WebServerHandle;
  let controlPlane: FakeControlPlane;
  const sockets: WebSocket[] = [];

  async function start(handlers?: BridgeHandlers, dir = staticDir): Promise<WebServerHandle> {
    controlPlane = new FakeControlPlane();
    server = await startWebServer({
      host: '127.0.0.1',
      port: 0,
      staticDir: dir,
      handlers: handlers ?? (await workspaceOn(controlPlane)).handlers,
    });
    return server;
  }

  async function connect(): Promise<WebSocket> {
    const ws = await openWs(`ws://127.0.0.1:${server.port}${WS_PATH}?token=${server.token}`);
    if (typeof ws === 'number') throw new Error(`upgrade refused: ${ws}`);
    sockets.push(ws);
    return ws;
  }

  const workspaces: Workspace[] = [];
  /** The real workspace on a fake control plane, with no instance cache (each list hits the fake). */
  async function workspaceOn(cp: FakeControlPlane): Promise<Workspace> {
    const ws = await Workspace.start({
      instanceCacheMs: 0,
      resolve: async () => ({
        profile: 'sandbox',
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:4566',
        controlPlane: cp as unknown as ControlPlane,
        sandbox: undefined,
        dispose: async () => undefined,
      }),
    });
    workspaces.push(ws);
    return ws;
  }

  afterEach(async () => {
    await Promise.all(sockets.splice(0).map(closeWs));
    await server?.close();
    await Promise.all(workspaces.splice(0).map((w) => w.close()));
  });

  describe('binding', () => {
    it('listens on 127.0.0.1 with a random token in the URL', async () => {
      const first = await start();
      expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
      expect(first.port).toBeGreaterThan(0);
      const second = await start();
      await first.close();
      expect(second.token).not.toBe(first.token);
    });

    it('refuses any host but 127.0.0.1', async () => {
      await expect(
        startWebServer({ host: '0.0.0.0' as '127.0.0.1', handlers: {} as BridgeHandlers, staticDir }),
      ).rejects.toThrow(/127\.0\.0\.1 only/);
    });

    it('is not reachable on other interfaces', async () => {
      await start();
      const external = Object.values(os.networkInterfaces())
        .flat()
        .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
      if (!external) return; // no non-loopback interface on this machine
      const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
        const socket = net.connect({ host: external, port: server.port });
        socket.once('connect', () => {
          socket.destroy();
          resolve(undefined);
        });
        socket.once('error', (err) => resolve(err));
      });
      expect(error?.code).toBe('ECONNREFUSED');
    });
  });

  describe('page and static files', () => {
    it('requires the token on the page URL', async () => {
      await start();
      const none = await get(server.port, '/');
      expect(none.status).toBe(403);
      expect(none.body).toContain('token');
      expect((await get(server.port, '/?token=wrong')).status).toBe(403);
      expect((await get(server.port, `/?token=${server.token}x`)).status).toBe(403);
      expect((await get(server.port, '/index.html')).status).toBe(403);
    });

    it('serves the page with the token, under a strict CSP', async () => {
      await start();
      const page = await get(server.port, `/?token=${encodeURIComponent(server.token)}`);
      expect(page.status).toBe(200);
      expect(page.body).toContain('EC2 Connect test page');
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      expect(page.headers['cache-control']).toBe('no-store');
    });

    it('serves assets, but nothing outside the static directory', async () => {
      await start();
      const asset = await get(server.port, '/assets/app.js');
      expect(asset.status).toBe(200);
      expect(asset.headers['content-type']).toMatch(/^text\/javascript/);
      expect((await get(server.port, '/%2e%2e/secret.txt')).status).toBe(404);
      expect((await get(server.port, '/assets/..%2f..%2fsecret.txt')).status).toBe(404);
      expect((await get(server.port, '/missing.js')).status).toBe(404);
    });

    it('rejects a foreign Host header (DNS rebinding)', async () => {
      await start();
      const res = await get(server.port, `/?token=${server.token}`, { host: 'evil.example:80' });
      expect(res.status).toBe(403);
    });

    it('says to run npm run build when the renderer is not built', async () => {
      await start(undefined, path.join(tmp, 'no-such-dir'));
      const page = await get(server.port, `/?token=${server.token}`);
      expect(page.status).toBe(503);
      expect(page.body).toContain('npm run build');
      expect((await get(server.port, '/')).status).toBe(403);
    });
  });

  describe('WebSocket bridge', () => {
    it('refuses upgrades without the right token, Origin or path', async () => {
      await start();
      const base = `ws://127.0.0.1:${server.port}`;
      expect(await openWs(`${base}${WS_PATH}`)).toBe(403);
      expect(await openWs(`${base}${WS_PATH}?token=nope`)).toBe(403);
      expect(
        await openWs(`${base}${WS_PATH}?token=${server.token}`, { origin: 'https://evil.example' }),
      ).toBe(403);
      expect(await openWs(`${base}/other?token=${server.token}`)).toBe(404);
      const ok = await openWs(`${base}${WS_PATH}?token=${server.token}`, { origin: server.origin });
      expect(ok).toBeInstanceOf(WebSocket);
      sockets.push(ok as WebSocket);
    });

    it('answers contract requests', async () => {
      await start();
      const ws = await connect();
      expect(await roundTrip(ws, JSON.stringify({ type: 'request', id: 1, channel: 'app.info' }))).toEqual({
        type: 'response',
        id: 1,
        result: {
          ok: true,
          value: {
            version: expect.any(String),
            profile: 'sandbox',
            region: 'us-east-1',
            endpoint: 'http://127.0.0.1:4566',
            platform: process.platform,
          },
        },
      });
      expect(
        await roundTrip(
          ws,
          JSON.stringify({ type: 'request', id: 2, channel: 'instances.list', request: {} }),
        ),
      ).toEqual({
        type: 'response',
        id: 2,
        result: {
          ok: true,
          value: { profile: 'sandbox', region: 'us-east-1', instances, fetchedAt: expect.any(String) },
        },
      });
      expect(controlPlane.calls).toBe(1);
    });

    it('answers invalid requests with clear errors and keeps serving', async () => {
      await start();
      const ws = await connect();

      const unknown = await roundTrip(
        ws,
        JSON.stringify({ type: 'request', id: 1, channel: 'instances.reboot' }),
      );
      expect(unknown).toMatchObject({
        type: 'response',
        id: 1,
        result: { ok: false, error: { code: 'UNKNOWN_CHANNEL' } },
      });

      const extra = await roundTrip(
        ws,
        JSON.stringify({ type: 'request', id: 2, channel: 'app.info', request: { x: 1 } }),
      );
      expect(extra).toMatchObject({
        type: 'response',
        id: 2,
        result: {
          ok: false,
          error: { code: 'INVALID_REQUEST', message: expect.stringContaining('app.info') },
        },
      });

      const notJson = await roundTrip(ws, '{not json');
      expect(notJson).toMatchObject({
        type: 'error',
        error: { code: 'BAD_MESSAGE', message: expect.stringContaining('JSON') },
      });

      const noId = await roundTrip(ws, JSON.stringify({ type: 'request', channel: 'app.info' }));
      expect(noId).toMatchObject({ type: 'error', error: { code: 'BAD_MESSAGE' } });

      const badShape = await roundTrip(
        ws,
        JSON.stringify({ type: 'request', id: 3, channel: 'app.info', sudo: true }),
      );
      expect(badShape).toMatchObject({
        type: 'response',
        id: 3,
        result: { ok: false, error: { code: 'BAD_MESSAGE' } },
      });

      const binary = await roundTrip(ws, Buffer.from([1, 2, 3]));
      expect(binary).toMatchObject({ type: 'error', error: { code: 'BAD_MESSAGE' } });

      for (const junk of ['null', '42', '[]', '"x"']) {
        expect(await roundTrip(ws, junk)).toMatchObject({ type: 'error', error: { code: 'BAD_MESSAGE' } });
      }

      const after = await roundTrip(
        ws,
        JSON.stringify({ type: 'request', id: 9, channel: 'instances.list' }),
      );
      expect(after).toMatchObject({ type: 'response', id: 9, result: { ok: true } });
    });

    it('reports handler failures and invalid handler output as errors', async () => {
      await start();
      const ws = await connect();
      const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      controlPlane.failWith = throttled;
      expect(
        await roundTrip(ws, JSON.stringify({ type: 'request', id: 1, channel: 'instances.list' })),
      ).toEqual({
        type: 'response',
        id: 1,
        result: {
          ok: false,
          error: { code: 'HANDLER_FAILED', message: 'Rate exceeded', name: 'ThrottlingException' },
        },
      });
      controlPlane.failWith = undefined;
      controlPlane.result = [{ instanceId: 'bogus' }];
      expect(
        await roundTrip(ws, JSON.stringify({ type: 'request', id: 2, channel: 'instances.list' })),
      ).toMatchObject({
        type: 'response',
        id: 2,
        result: { ok: false, error: { code: 'INVALID_RESPONSE' } },
      });
    });

    it('drops oversized messages without taking the server down', async () => {
      await start();
      const ws = await connect();
      const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
      ws.send('x'.repeat(2 * 1024 * 1024));
      expect(await closed).toBe(1009);
      const again = await connect();
      expect(
        await roundTrip(again, JSON.stringify({ type: 'request', id: 1, channel: 'app.info' })),
      ).toMatchObject({
        result: { ok: true },
      });
    });

    it('closes open connections on close()', async () => {
      await start();
      const ws = await connect();
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      await server.close();
      await closed;
      await expect(get(server.port, '/')).rejects.toThrow();
    });
  });

  describe("the renderer's web-mode client", () => {
    const socketFactory = (url: string) => new WebSocket(url) as unknown as WebSocketLike;

    it('speaks the contract end to end', async () => {
      await start();
      const bridge = createWebSocketBridge({
        url: `ws://127.0.0.1:${server.port}${WS_PATH}?token=${server.token}`,
        createSocket: socketFactory,
      });
      try {
        expect(bridge.transport).toBe('websocket');
        expect(await bridge.invoke('app.info')).toMatchObject({ profile: 'sandbox', region: 'us-east-1' });
        expect((await bridge.invoke('instances.list', {})).instances).toEqual(instances);
        // Validated before sending: the server never sees it.
        const bad = bridge.invoke('app.info', { x: 1 } as unknown as undefined);
        await expect(bad).rejects.toBeInstanceOf(BridgeError);
        await expect(bad).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
        expect(controlPlane.calls).toBe(1);
        controlPlane.failWith = new Error('sandbox down');
        await expect(bridge.invoke('instances.list')).rejects.toMatchObject({
          code: 'HANDLER_FAILED',
          detail: 'sandbox down',
        });
      } finally {
        bridge.close();
      }
    });

    it('fails clearly with a wrong token', async () => {
      await start();
      const bridge = createWebSocketBridge({
        url: `ws://127.0.0.1:${server.port}${WS_PATH}?token=wrong`,
        createSocket: (url) => {
          const ws = new WebSocket(url);
          ws.on('error', () => undefined);
          return ws as unknown as WebSocketLike;
        },
      });
      try {
        await expect(bridge.invoke('app.info')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      } finally {
        bridge.close();
      }
    });
  });
});
