/**
 * Web mode: the renderer in an ordinary browser, talking to the same contract handlers as the
 * Electron app, over a WebSocket instead of IPC.
 *
 * Security model (the server can open shells on real machines, so treat it like a credential):
 * - binds 127.0.0.1 only, and checks the Host header (DNS rebinding) and, on the WebSocket, the
 *   Origin header (cross-site WebSocket hijacking);
 * - a random token, printed once by `ec2-connect web`, is required as `?token=` on the page URL
 *   and on the WebSocket; anything else gets 403. Static assets (the built JS/CSS, which hold no
 *   data) are served without it, because the browser cannot add the token to them;
 * - every request goes through the contract's zod schemas (main/core/bridge/dispatch.ts); a
 *   malformed message gets an error reply, never a crash;
 * - strict CSP, no-referrer (the token is in the URL), no framing.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import {
  WS_MAX_MESSAGE_BYTES,
  WS_PATH,
  WsRequestSchema,
  type BridgeErrorData,
  type EventName,
  type EventPayload,
  type WsServerMessage,
} from '../../../preload/api.js';
import { dispatch, type HandlerSource } from '../bridge/dispatch.js';
import { silentLogger, type Logger } from '../log/logger.js';
import { contentTypeFor, notBuiltPage, resolveStaticFile } from './static.js';

export const WEB_HOST = '127.0.0.1';

export interface WebServerOptions {
  /** Only 127.0.0.1 is accepted; the option exists to make the binding explicit at call sites. */
  host?: typeof WEB_HOST;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The contract implementation (see main/core/bridge/handlers.ts), or a promise of it. */
  handlers: HandlerSource;
  /** The built renderer (out/renderer). When it has no index.html a page says to run `npm run build`. */
  staticDir: string;
  /** Defaults to 32 random bytes, base64url. */
  token?: string;
  logger?: Logger;
}

export interface WebServerHandle {
  /** The page URL, token included: `http://127.0.0.1:PORT/?token=...`. */
  readonly url: string;
  readonly origin: string;
  readonly port: number;
  readonly token: string;
  /** Push an event to every connected page. */
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
  close(): Promise<void>;
}

export function createToken(): string {
  return randomBytes(32).toString('base64url');
}

function tokenMatches(expected: Buffer, given: string | null): boolean {
  if (given === null) return false;
  const candidate = Buffer.from(given, 'utf8');
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}

export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ws://${WEB_HOST}:${port} ws://localhost:${port}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const FORBIDDEN_TEXT =
  'Forbidden: open the exact URL printed by `ec2-connect web` (it carries a ?token=...).\n';

export async function startWebServer(options: WebServerOptions): Promise<WebServerHandle> {
  const host = options.host ?? WEB_HOST;
  if (host !== WEB_HOST) throw new Error(`Web mode binds ${WEB_HOST} only (got ${String(host)})`);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Invalid port ${port}`);
  const logger = options.logger ?? silentLogger;
  const token = options.token ?? createToken();
  if (token.length < 16) throw new Error('The web-mode token must be at least 16 characters');
  const expectedToken = Buffer.from(token, 'utf8');
  const staticDir = path.resolve(options.staticDir);
  const handlers = options.handlers;

  let boundPort = 0;
  const allowedHosts = (): string[] => [`${WEB_HOST}:${boundPort}`, `localhost:${boundPort}`];
  const allowedOrigins = (): string[] => allowedHosts().map((h) => `http://${h}`);

  const baseHeaders = (): Record<string, string> => ({
    'Content-Security-Policy': contentSecurityPolicy(boundPort),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });

  const send = (
    res: http.ServerResponse,
    status: number,
    body: string | Buffer,
    contentType: string,
    extra: Record<string, string> = {},
  ): void => {
    res.writeHead(status, {
      ...baseHeaders(),
      'Content-Type': contentType,
      'Content-Length': String(Buffer.byteLength(body)),
      ...extra,
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  };

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!allowedHosts().includes(req.headers.host ?? '')) {
      send(res, 403, 'Forbidden: unexpected Host header.\n', 'text/plain; charset=utf-8');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'Method not allowed.\n', 'text/plain; charset=utf-8', { Allow: 'GET, HEAD' });
      return;
    }
    const url = new URL(req.url ?? '/', `http://${WEB_HOST}`);
    const isPage = url.pathname === '/' || url.pathname.endsWith('.html');
    if (isPage) {
      if (!tokenMatches(expectedToken, url.searchParams.get('token'))) {
        send(res, 403, FORBIDDEN_TEXT, 'text/plain; charset=utf-8');
        return;
      }
      const file = await resolveStaticFile(staticDir, url.pathname === '/' ? '/index.html' : url.pathname);
      if (file) {
        send(res, 200, await fs.readFile(file), 'text/html; charset=utf-8', { 'Cache-Control': 'no-store' });
      } else {
        send(res, 503, notBuiltPage(staticDir), 'text/html; charset=utf-8', { 'Cache-Control': 'no-store' });
      }
      return;
    }
    const file = await resolveStaticFile(staticDir, url.pathname);
    if (!file) {
      send(res, 404, 'Not found.\n', 'text/plain; charset=utf-8');
      return;
    }
    send(res, 200, await fs.readFile(file), contentTypeFor(file), { 'Cache-Control': 'no-cache' });
  }

  const server = http.createServer((req, res) => {
    handleHttp(req, res).catch((err: unknown) => {
      logger.error({ err }, 'web server request failed');
      if (!res.headersSent) send(res, 500, 'Internal error.\n', 'text/plain; charset=utf-8');
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_MESSAGE_BYTES });

  const reject = (socket: Duplex, status: 403 | 404, text: string): void => {
    socket.end(
      `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Not Found'}\r\n` +
        `Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
  };

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', `http://${WEB_HOST}`);
    if (url.pathname !== WS_PATH) return reject(socket, 404, 'Not found.\n');
    if (!allowedHosts().includes(req.headers.host ?? ''))
      return reject(socket, 403, 'Forbidden: unexpected Host.\n');
    // Browsers always send Origin on WebSockets; a page from another site must not connect.
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().includes(origin)) {
      return reject(socket, 403, 'Forbidden: unexpected Origin.\n');
    }
    if (!tokenMatches(expectedToken, url.searchParams.get('token')))
      return reject(socket, 403, FORBIDDEN_TEXT);
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    logger.debug('web client connected');
    ws.on('error', (err) => logger.debug({ err }, 'web client socket error'));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void handleMessage(ws, data, isBinary);
    });
  });

  const sendMessage = (ws: WebSocket, message: WsServerMessage): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  };

  const badMessage = (message: string, id?: number): WsServerMessage => {
    const error: BridgeErrorData = { code: 'BAD_MESSAGE', message };
    return id === undefined
      ? { type: 'error', error }
      : { type: 'response', id, result: { ok: false, error } };
  };

  async function handleMessage(ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    try {
      if (isBinary) {
        sendMessage(ws, badMessage('Binary messages are not accepted; send JSON text.'));
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(rawToString(data));
      } catch {
        sendMessage(ws, badMessage('Messages must be JSON: {"type":"request","id":1,"channel":"app.info"}'));
        return;
      }
      const parsed = WsRequestSchema.safeParse(json);
      if (!parsed.success) {
        const id = (json as { id?: unknown } | null)?.id;
        const usableId = typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : undefined;
        const detail = parsed.error.issues
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('; ');
        sendMessage(ws, badMessage(`Malformed request message: ${detail}`, usableId));
        return;
      }
      const { id, channel, request } = parsed.data;
      const result = await dispatch(handlers, channel, request, logger);
      sendMessage(ws, { type: 'response', id, result });
    } catch (err) {
      // dispatch never throws; this guards the serialisation and the socket.
      logger.error({ err }, 'web bridge message failed');
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: WEB_HOST, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('Web server has no TCP address');
  boundPort = address.port;
  const origin = `http://${WEB_HOST}:${boundPort}`;

  let closed: Promise<void> | undefined;
  return {
    url: `${origin}/?token=${encodeURIComponent(token)}`,
    origin,
    port: boundPort,
    token,
    emit(event, payload) {
      const message = JSON.stringify({ type: 'event', event, payload } satisfies WsServerMessage);
      for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(message);
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
