/**
 * The status socket: a running desktop app or web mode serves its live state (processes, governor,
 * probes, sessions and their metrics, port forwards) to `ec2-connect resources` and
 * `ec2-connect forward list|close` over a local socket; a foreground `ec2-connect forward` serves
 * its one forward the same way (kind `forward`, the port routes only).
 *
 * An HTTP server (node:http) on a Unix domain socket `<dir>/<pid>.sock` (dir = `statusDir()`, the
 * `run` folder of the app-data folder, 0700; the socket 0600), or on Windows the named pipe
 * `\\.\pipe\ec2-connect-<user>-<pid>`. Beside it, `<dir>/<pid>.json` (0600) says who serves it:
 * `{ pid, kind, socket, startedAt, version }`; the CLI finds running processes by these files
 * (status-client.ts). Routes, JSON:
 *
 *   GET  /v1/resources         the `resources.get` snapshot
 *   GET  /v1/sessions          { sessions: `sessions.list`, metrics: `metrics.history` }
 *   GET  /v1/ports             the `ports.list` answer (PortList)
 *   POST /v1/ports/<id>/close  `ports.close` (no body): stops that forward; 404 when no forward
 *                              has that id, 400 when it is not a forward id
 *
 * A route the process does not serve (a `forward` process has no /v1/resources) or any other path
 * is a 404, another method a 405, with `{ error }`. Only the port close changes state; the socket
 * is this user's alone (0600 in a 0700 folder, or a pipe of this user on Windows).
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ForwardIdSchema, type BridgeHandlers } from '../../../preload/api.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { appDataDir } from '../util/app-paths.js';
import { CLIENT_VERSION } from '../version.js';

/** Who serves a status socket: the desktop app, web mode, or a foreground `ec2-connect forward`. */
export type StatusKind = 'desktop' | 'web' | 'forward';
export const STATUS_KINDS: readonly StatusKind[] = ['desktop', 'web', 'forward'];
/** The kinds that run a workspace (resources, sessions): what `ec2-connect resources` reads. */
export const APP_KINDS: readonly StatusKind[] = ['desktop', 'web'];

/**
 * What the routes call: a workspace's handlers (desktop, web), or only the port ones (a
 * foreground forward); a route whose handlers are missing answers 404.
 */
export type StatusHandlers = Partial<
  Pick<BridgeHandlers, 'resources.get' | 'sessions.list' | 'metrics.history' | 'ports.list' | 'ports.close'>
>;

/** What `<dir>/<pid>.json` holds. */
export interface StatusDescriptor {
  pid: number;
  kind: StatusKind;
  /** The socket path (or Windows pipe name) to connect to. */
  socket: string;
  /** ISO time the server started. */
  startedAt: string;
  version: string;
}

export interface StatusServer {
  socketPath: string;
  descriptorFile: string;
  dispose(): Promise<void>;
}

export interface StatusServerOptions {
  dir: string;
  kind: StatusKind;
  handlers: StatusHandlers;
  logger?: Logger;
}

/** Longest socket path used as is: sun_path holds 104 (macOS) to 108 (Linux) bytes, with the NUL. */
export const MAX_SOCKET_PATH_BYTES = 100;
/** A request that takes longer than this is cut off (handlers answer from memory). */
const REQUEST_TIMEOUT_MS = 10_000;
/** How long dispose waits for requests in flight before cutting their connections. */
const DISPOSE_GRACE_MS = 2000;

/** Where running EC2 Connect processes leave their status descriptors: `<app data>/run`. */
export function statusDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(appDataDir(env), 'run');
}

function userName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USERNAME ?? process.env.USER ?? 'user';
  }
}

/** The socket (or pipe) a process with this pid serves on. */
export function socketPathFor(dir: string, pid = process.pid, platform = process.platform): string {
  if (platform === 'win32')
    return `\\\\.\\pipe\\ec2-connect-${userName().replace(/[\\/:*?"<>|\s]/g, '_')}-${pid}`;
  const inDir = path.join(dir, `${pid}.sock`);
  if (Buffer.byteLength(inDir) <= MAX_SOCKET_PATH_BYTES) return inDir;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return path.join(os.tmpdir(), `ec2c-${uid}-${pid}.sock`);
}

export function descriptorFileFor(dir: string, pid = process.pid): string {
  return path.join(dir, `${pid}.json`);
}

/** True when a server answers on this socket; false when nothing listens (a stale file, or none). */
export function socketAnswers(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(true)); // something holds it, though slowly
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function removeQuietly(file: string, logger: Logger): void {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      logger.warn({ err, file }, 'could not remove a status file');
  }
}

/** A socket file nobody serves any more (its process died without removing it) goes before listen. */
async function clearStaleSocket(socketPath: string, logger: Logger): Promise<void> {
  if (process.platform === 'win32') return;
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (!stat.isSocket())
    throw new Error(
      `${socketPath} exists and is not a socket; remove it to let EC2 Connect serve its status there.`,
    );
  if (await socketAnswers(socketPath))
    throw new Error(`another EC2 Connect server already answers on ${socketPath}`);
  logger.info({ socketPath }, 'removing a stale status socket');
  removeQuietly(socketPath, logger);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

const CLOSE_ROUTE = /^\/v1\/ports\/([^/]+)\/close$/;

async function route(
  handlers: StatusHandlers,
  kind: StatusKind,
  method: string,
  url: string,
): Promise<[number, unknown]> {
  const pathname = url.split('?')[0] ?? '';
  const close = CLOSE_ROUTE.exec(pathname);
  const known = ['/v1/resources', '/v1/sessions', '/v1/ports'].includes(pathname) || close !== null;
  const routes = kind === 'forward' ? '/v1/ports' : '/v1/resources, /v1/sessions or /v1/ports';
  if (!known) return [404, { error: `no such status route: ${pathname}; try ${routes}` }];
  const allowed = close ? 'POST' : 'GET';
  if (method !== allowed) return [405, { error: `${method} is not allowed here; only ${allowed}` }];
  const notServed: [number, unknown] = [
    404,
    { error: `no such status route: ${pathname}; this process (${kind}) serves ${routes}` },
  ];
  if (close) {
    const closeHandler = handlers['ports.close'];
    const listHandler = handlers['ports.list'];
    if (!closeHandler || !listHandler) return notServed;
    const id = ForwardIdSchema.safeParse(decodeURIComponent(close[1] ?? ''));
    if (!id.success) return [400, { error: `${close[1] ?? ''} is not a forward id (a UUID from /v1/ports)` }];
    const list = await listHandler({});
    if (!list.forwards.some((f) => f.id === id.data))
      return [404, { error: `no port forward has the id ${id.data} here` }];
    await closeHandler({ id: id.data });
    return [200, { closed: id.data }];
  }
  if (pathname === '/v1/ports') {
    const listHandler = handlers['ports.list'];
    return listHandler ? [200, await listHandler({})] : notServed;
  }
  const resources = handlers['resources.get'];
  const sessionsList = handlers['sessions.list'];
  const metricsHistory = handlers['metrics.history'];
  if (!resources || !sessionsList || !metricsHistory) return notServed;
  if (pathname === '/v1/resources') return [200, await resources({})];
  const [sessions, metrics] = await Promise.all([sessionsList({}), metricsHistory({})]);
  return [200, { sessions, metrics }];
}

/**
 * Serve the status of this process on `<dir>/<pid>.sock` (see the file comment) and describe it in
 * `<dir>/<pid>.json`. Rejects when the socket cannot be served (e.g. the folder is not writable).
 */
export async function startStatusServer(options: StatusServerOptions): Promise<StatusServer> {
  const logger = options.logger ?? silentLogger;
  const handlers = options.handlers;
  const dir = options.dir;
  const pid = process.pid;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    fs.chmodSync(dir, 0o700);
  } catch (err) {
    logger.warn({ err, dir }, 'could not make the status folder private');
  }
  const socketPath = socketPathFor(dir, pid);
  const descriptorFile = descriptorFileFor(dir, pid);
  await clearStaleSocket(socketPath, logger);

  /** Requests being answered: dispose lets them finish (a close of the very forward that stops this server). */
  const inFlight = new Set<Promise<void>>();
  const server = http.createServer((req, res) => {
    const answered = new Promise<void>((resolve) => res.once('close', () => resolve()));
    inFlight.add(answered);
    void answered.then(() => inFlight.delete(answered));
    route(handlers, options.kind, req.method ?? 'GET', req.url ?? '/').then(
      ([status, body]) => sendJson(res, status, body),
      (err: unknown) => {
        logger.warn({ err, url: req.url }, 'status request failed');
        if (!res.headersSent) sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
        else res.destroy();
      },
    );
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(socketPath, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => logger.warn({ err }, 'status server error'));
  // Who may connect: only this user (the folder is 0700 too; the tmpdir fallback relies on this).
  if (process.platform !== 'win32') fs.chmodSync(socketPath, 0o600);

  const descriptor: StatusDescriptor = {
    pid,
    kind: options.kind,
    socket: socketPath,
    startedAt: new Date().toISOString(),
    version: CLIENT_VERSION,
  };
  const tmp = `${descriptorFile}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, JSON.stringify(descriptor, null, 2) + '\n', { mode: 0o600 });
    fs.chmodSync(tmp, 0o600);
    fs.renameSync(tmp, descriptorFile); // readers never see half a file
  } catch (err) {
    removeQuietly(tmp, logger);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    removeQuietly(socketPath, logger);
    throw err;
  }

  const removeFiles = (): void => {
    removeQuietly(descriptorFile, logger);
    if (process.platform !== 'win32') removeQuietly(socketPath, logger);
  };
  // A process that exits without dispose() still leaves no files behind (a crash does: listRunning cleans up).
  process.on('exit', removeFiles);
  logger.info({ socketPath, descriptorFile }, 'status socket listening');

  let disposed: Promise<void> | undefined;
  return {
    socketPath,
    descriptorFile,
    dispose(): Promise<void> {
      disposed ??= (async () => {
        process.off('exit', removeFiles);
        // The descriptor goes first, so no client picks a server that is closing.
        removeQuietly(descriptorFile, logger);
        const closed = new Promise<void>((resolve) =>
          server.close(() => {
            if (process.platform !== 'win32') removeQuietly(socketPath, logger);
            resolve();
          }),
        );
        server.closeIdleConnections();
        // Answers being written (e.g. to the `forward close` that stops this process) get out first.
        if (inFlight.size > 0) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            Promise.all([...inFlight]),
            new Promise<void>((resolve) => (timer = setTimeout(resolve, DISPOSE_GRACE_MS))),
          ]);
          clearTimeout(timer);
        }
        server.closeAllConnections();
        await closed;
      })();
      return disposed;
    },
  };
}
