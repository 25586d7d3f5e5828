/**
 * The sandbox's one HTTP server: the SSM, EC2, STS and KMS APIs (signed with SigV4), the
 * IAM Identity Center APIs (SSO OIDC and the SSO portal, unsigned REST-JSON at their own
 * paths, plus the sign-in page at /device), the admin API under /__sandbox/ (authorized
 * by the x-sandbox-admin-token header) and WebSocket upgrades for /v1/data-channel/
 * (handed to the data-channel server).
 *
 * Routing: `x-amz-target: AmazonSSM.<Action>` is SSM, `TrentService.<Action>` KMS; a form (or query) `Action` with
 * Version 2016-11-15 is EC2, with 2011-06-15 STS; without a Version the action name or
 * the credential scope's service decides. Control-plane faults (delay, then throttling)
 * apply to every signed API call after its signature is verified.
 */
import { randomUUID, createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/log/logger.js';
import { handleEc2Action, EC2_API_VERSION } from './api/ec2.js';
import {
  ApiError,
  authError,
  jsonResponse,
  renderError,
  throttlingError,
  xmlResponse,
  type ApiResponse,
  type Protocol,
} from './api/errors.js';
import { handleSsmAction, SSM_TARGET_PREFIX } from './api/ssm.js';
import type { SessionDocuments } from './documents.js';
import { handleKmsAction, KMS_TARGET_PREFIX } from './api/kms.js';
import type { SandboxKmsKeys } from './api/kms-keys.js';
import {
  DEVICE_PAGE_PATH,
  OIDC_PATHS,
  type DeviceAction,
  type SandboxSso,
  type SsoRequest,
} from './api/sso-oidc.js';
import { handlePortal, PORTAL_PATHS } from './api/sso-portal.js';
import { STS_API_VERSION, type SandboxSts } from './api/sts.js';
import { totp, type CallerIdentity, type CredentialStore, type SandboxRole } from './credentials.js';
import { validateFaultPatch } from './faults.js';
import { instancePatchSchema, jsonPath, type SandboxFleet } from './fleet.js';
import { headerListFromRaw, SigV4Error, verifySigV4 } from './sigv4.js';
import type { FaultController, SessionRegistry } from './types.js';

export const MAX_BODY_BYTES = 1024 * 1024;
/** Beyond this much discarded body a connection is cut instead of drained. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;
export const ADMIN_TOKEN_HEADER = 'x-sandbox-admin-token';
export const ADMIN_PREFIX = '/__sandbox';
export const DATA_CHANNEL_PREFIX = '/v1/data-channel/';
const SERVICES = ['ssm', 'ec2', 'sts', 'kms'] as const;
type Service = (typeof SERVICES)[number];
/** How far a request's date may be from the server's clock: 5 minutes for SSM and KMS, 15 for EC2 and STS (as on AWS). */
const MAX_SKEW_MS: Record<Service, number> = {
  ssm: 5 * 60_000,
  ec2: 15 * 60_000,
  sts: 15 * 60_000,
  kms: 5 * 60_000,
};

export interface UpgradeHandler {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export interface SandboxHttpDeps {
  region: string;
  fleet: SandboxFleet;
  registry: SessionRegistry;
  faults: FaultController;
  credentials: CredentialStore;
  /** STS AssumeRole's roles and MFA devices. */
  sts: SandboxSts;
  /** IAM Identity Center (SSO OIDC, portal, sign-in page). */
  sso: SandboxSso;
  /** KMS keys (GenerateDataKey, Decrypt, DescribeKey). */
  kms: SandboxKmsKeys;
  /** Session documents StartSession accepts (default: the AWS-owned ones); the admin API changes them. */
  documents?: SessionDocuments;
  dataChannel: UpgradeHandler;
  adminToken: string;
  logger: Logger;
  /** Clock in ms (default Date.now). */
  now?: () => number;
  maxBodyBytes?: number;
  /** Extra fields for GET /__sandbox/state (e.g. the endpoint). */
  describe?: () => Record<string, unknown>;
  /** This server's base URL (for the SSO verification URI); default: from the Host header. */
  endpoint?: () => string;
  /** Serve HTTPS (and wss for the data channel) with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface SandboxHttpServer {
  readonly server: Server;
  /** Stops listening, cuts every connection (HTTP and WebSocket) and cancels pending fault delays. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Plumbing
// ---------------------------------------------------------------------------

type BodyResult = { ok: true; body: Buffer } | { ok: false };

/** Reads the body up to `limit` bytes; beyond that resolves { ok: false } and discards the rest. */
function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (!settled) {
        settled = true;
        resolve(result);
      }
    };
    if (Number.isFinite(declared) && declared > limit) settle({ ok: false });
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DRAIN_BYTES) {
        req.destroy();
        return;
      }
      if (settled) return;
      if (size > limit) {
        chunks.length = 0;
        settle({ ok: false });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => settle({ ok: true, body: Buffer.concat(chunks) }));
    req.on('error', (err) => {
      if (!settled) {
        settled = true;
        reject(err);
      }
    });
  });
}

function send(res: ServerResponse, response: ApiResponse): void {
  if (res.headersSent || res.destroyed || res.writableEnded) return;
  const body = Buffer.from(response.body, 'utf8');
  res.writeHead(response.status, { ...response.headers, 'content-length': String(body.length) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, payload: unknown, requestId: string): void {
  send(res, {
    status,
    headers: {
      'content-type': 'application/json',
      'x-amzn-RequestId': requestId,
      'cache-control': 'no-store',
    },
    body: JSON.stringify(payload, null, 2),
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The service named in an Authorization header's credential scope, if any. */
function scopeService(req: IncomingMessage): string | undefined {
  const m = /Credential=[^/,\s]*\/\d{8}\/[^/,\s]*\/([^/,\s]+)\//.exec(header(req, 'authorization') ?? '');
  return m?.[1];
}

function isForm(req: IncomingMessage): boolean {
  return (header(req, 'content-type') ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}

function protocolGuess(req: IncomingMessage): Protocol {
  if (header(req, 'x-amz-target') !== undefined) return 'json';
  const service = scopeService(req);
  if (service === 'ec2') return 'ec2';
  if (service === 'sts') return 'query';
  if (service === 'ssm' || service === 'kms') return 'json';
  return isForm(req) ? 'ec2' : 'json';
}

const PROTOCOL_OF: Record<Service, Protocol> = { ssm: 'json', ec2: 'ec2', sts: 'query', kms: 'json' };

interface Route {
  service: Service;
  protocol: Protocol;
  action: string;
  params?: URLSearchParams;
  /** An x-amz-target for a service other than SSM and KMS. */
  unknownTarget?: string;
}

function route(req: IncomingMessage, query: string, body: Buffer): Route {
  const target = header(req, 'x-amz-target');
  if (target !== undefined) {
    if (target.startsWith(SSM_TARGET_PREFIX))
      return { service: 'ssm', protocol: 'json', action: target.slice(SSM_TARGET_PREFIX.length) };
    if (target.startsWith(KMS_TARGET_PREFIX))
      return { service: 'kms', protocol: 'json', action: target.slice(KMS_TARGET_PREFIX.length) };
    return { service: 'ssm', protocol: 'json', action: '', unknownTarget: target };
  }
  const params = new URLSearchParams(query);
  if (isForm(req)) for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
  const action = params.get('Action') ?? '';
  const version = params.get('Version');
  let service: Service;
  if (version === STS_API_VERSION) service = 'sts';
  else if (version === EC2_API_VERSION) service = 'ec2';
  else if (action === 'GetCallerIdentity') service = 'sts';
  else {
    const scoped = scopeService(req);
    service = scoped === 'sts' ? 'sts' : scoped === 'ssm' ? 'ssm' : 'ec2';
  }
  return { service, protocol: PROTOCOL_OF[service], action, params };
}

function adminTokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function parseJsonBody(body: Buffer, what: string): unknown {
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new AdminError(
      400,
      `Malformed JSON body for ${what}: ${(err as Error).message}. Send a JSON object.`,
    );
  }
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new AdminError(
      400,
      `Malformed percent-encoding in the path segment ${JSON.stringify(segment.slice(0, 100))}.`,
    );
  }
}

const SSO_PATHS: ReadonlySet<string> = new Set<string>([...OIDC_PATHS, ...PORTAL_PATHS, DEVICE_PAGE_PATH]);

/** Whether a path is one of the (unsigned) SSO OIDC, SSO portal or sign-in page paths. */
export function isSsoPath(pathname: string): boolean {
  return SSO_PATHS.has(pathname);
}

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

export function createSandboxHttpServer(deps: SandboxHttpDeps): SandboxHttpServer {
  const now = deps.now ?? Date.now;
  const limit = deps.maxBodyBytes ?? MAX_BODY_BYTES;
  const log = deps.logger;
  const sockets = new Set<Socket | Duplex>();
  const closing = new AbortController();

  async function handleApi(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const started = now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    let protocol = protocolGuess(req);
    const body = await readBody(req, limit);
    if (!body.ok) {
      send(
        res,
        renderError(
          protocol,
          new ApiError(
            'RequestEntityTooLarge',
            `The request body is larger than the sandbox's limit of ${limit} bytes.`,
            413,
          ),
          requestId,
        ),
      );
      return;
    }
    if (pathname !== '/') {
      send(
        res,
        renderError(
          protocol,
          new ApiError(
            'NotFound',
            `Nothing at ${pathname.slice(0, 100)}: the AWS APIs are served at / and the admin API under ${ADMIN_PREFIX}/.`,
            404,
          ),
          requestId,
        ),
      );
      return;
    }
    const r = route(req, q < 0 ? '' : url.slice(q + 1), body.body);
    protocol = r.protocol;
    let status = 200;
    try {
      let caller: CallerIdentity;
      try {
        caller = verifySigV4(
          { method: req.method ?? 'GET', url, headers: headerListFromRaw(req.rawHeaders), body: body.body },
          {
            lookup: (id) => deps.credentials.lookup(id),
            region: deps.region,
            services: SERVICES,
            expectedService: r.service,
            now: now(),
            maxSkewMs: MAX_SKEW_MS[r.service],
          },
        ).credentials;
      } catch (err) {
        if (err instanceof SigV4Error) throw authError(protocol, err);
        throw err;
      }

      const faults = deps.faults.state.controlPlane;
      if (faults.delayMs > 0) {
        try {
          await sleep(faults.delayMs, undefined, { signal: closing.signal });
        } catch {
          return; // the sandbox is closing
        }
      }
      if (faults.throttleRate > 0 && deps.faults.random() < faults.throttleRate) {
        throw throttlingError(protocol);
      }

      let response: ApiResponse;
      if (r.service === 'ssm') {
        if (r.unknownTarget !== undefined) {
          throw new ApiError(
            'UnknownOperationException',
            `Unknown x-amz-target ${r.unknownTarget.slice(0, 100)}: expected ${SSM_TARGET_PREFIX}<Action> or ${KMS_TARGET_PREFIX}<Action>.`,
          );
        }
        const payload = handleSsmAction(r.action, body.body.toString('utf8'), caller, {
          fleet: deps.fleet,
          registry: deps.registry,
          ...(deps.documents ? { documents: deps.documents } : {}),
          now,
        });
        response = jsonResponse(requestId, payload);
      } else if (r.service === 'kms') {
        response = jsonResponse(
          requestId,
          handleKmsAction(r.action, body.body.toString('utf8'), caller, deps.kms),
        );
      } else if (r.service === 'ec2') {
        response = xmlResponse(
          requestId,
          handleEc2Action(r.params!, caller, { fleet: deps.fleet, region: deps.region }, requestId),
        );
      } else {
        response = xmlResponse(requestId, deps.sts.handle(r.params!, caller, requestId));
      }
      send(res, response);
    } catch (err) {
      const apiError =
        err instanceof ApiError
          ? err
          : new ApiError(
              protocol === 'json'
                ? 'InternalServerError'
                : protocol === 'ec2'
                  ? 'InternalError'
                  : 'InternalFailure',
              'The sandbox failed to process the request; see its log.',
              500,
            );
      if (!(err instanceof ApiError)) log.error({ err, requestId }, 'sandbox API handler failed');
      status = apiError.status;
      send(res, renderError(protocol, apiError, requestId));
      log.debug({ requestId, code: apiError.code }, `sandbox ${r.service} ${r.action}: ${apiError.message}`);
    } finally {
      log.debug(
        { requestId, service: r.service, action: r.action, status, ms: now() - started },
        'sandbox API call',
      );
    }
  }

  async function handleSso(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    pathname: string,
    query: string,
  ): Promise<void> {
    const body = await readBody(req, limit);
    if (!body.ok) {
      sendJson(
        res,
        413,
        { message: `The request body is larger than the sandbox's limit of ${limit} bytes.` },
        requestId,
      );
      return;
    }
    const sso: SsoRequest = {
      method: req.method ?? 'GET',
      path: pathname,
      query: new URLSearchParams(query),
      header: (name) => header(req, name.toLowerCase()),
      body: body.body,
      baseUrl: deps.endpoint?.() || `http://${header(req, 'host') ?? '127.0.0.1'}`,
    };
    let response: ApiResponse;
    if (pathname === DEVICE_PAGE_PATH) response = deps.sso.handleDevicePage(sso);
    else if ((OIDC_PATHS as readonly string[]).includes(pathname))
      response = deps.sso.handleOidc(sso, requestId);
    else response = handlePortal(deps.sso, sso, requestId);
    send(res, response);
    log.debug({ requestId, path: pathname, status: response.status }, 'sandbox SSO call');
  }

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    if (!adminTokenMatches(header(req, ADMIN_TOKEN_HEADER), deps.adminToken)) {
      req.resume();
      sendJson(
        res,
        403,
        {
          error: `Missing or wrong ${ADMIN_TOKEN_HEADER} header: use the admin token the sandbox was started with (SandboxHandle.adminToken).`,
        },
        requestId,
      );
      return;
    }
    const body = await readBody(req, limit);
    if (!body.ok) {
      sendJson(
        res,
        413,
        { error: `The request body is larger than the sandbox's limit of ${limit} bytes.` },
        requestId,
      );
      return;
    }
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0]!.slice(ADMIN_PREFIX.length).replace(/\/+$/, '');
    const expect = (m: string): void => {
      if (method !== m) throw new AdminError(405, `${path || '/'} accepts ${m} only, not ${method}.`);
    };
    try {
      let m: RegExpExecArray | null;
      if (path === '/state') {
        expect('GET');
        sendJson(res, 200, state(), requestId);
      } else if (path === '/faults') {
        expect('POST');
        const patch = parseJsonBody(body.body, 'POST /__sandbox/faults');
        try {
          deps.faults.set(validateFaultPatch(patch));
        } catch (err) {
          throw new AdminError(400, (err as Error).message);
        }
        sendJson(res, 200, { faults: deps.faults.state }, requestId);
      } else if (path === '/faults/reset') {
        expect('POST');
        deps.faults.reset();
        sendJson(res, 200, { faults: deps.faults.state }, requestId);
      } else if ((m = /^\/instances\/([^/]+)$/.exec(path))) {
        expect('POST');
        const id = decodePathSegment(m[1]!);
        if (!deps.fleet.get(id)) throw new AdminError(404, `No instance ${id} in the sandbox fleet.`);
        const parsed = instancePatchSchema.safeParse(
          parseJsonBody(body.body, `POST ${ADMIN_PREFIX}/instances/${id}`),
        );
        if (!parsed.success) {
          const lines = parsed.error.issues.map((i) =>
            i.code === 'unrecognized_keys'
              ? `${jsonPath(i.path)}: unknown key(s) ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`
              : `${jsonPath(i.path)}: ${i.message}`,
          );
          throw new AdminError(400, `Invalid change to instance ${id}: ${lines.join('; ')}`);
        }
        sendJson(res, 200, { instance: deps.fleet.update(id, parsed.data) }, requestId);
      } else if (path === '/kms/keys') {
        if (method === 'GET') {
          sendJson(res, 200, { keys: deps.kms.list() }, requestId);
        } else {
          expect('POST');
          const input = parseJsonBody(body.body, `POST ${ADMIN_PREFIX}/kms/keys`);
          try {
            sendJson(res, 200, { key: deps.kms.put(input) }, requestId);
          } catch (err) {
            throw new AdminError(400, (err as Error).message);
          }
        }
      } else if ((m = /^\/kms\/keys\/(.+)$/.exec(path))) {
        expect('POST');
        const ref = decodePathSegment(m[1]!);
        const input = parseJsonBody(body.body, `POST ${ADMIN_PREFIX}/kms/keys/${ref}`);
        try {
          sendJson(res, 200, { key: deps.kms.update(ref, input) }, requestId);
        } catch (err) {
          throw new AdminError(err instanceof ApiError ? 404 : 400, (err as Error).message);
        }
      } else if (path === '/drop-sockets' || path === '/blackhole-sockets' || path === '/expire-sessions') {
        expect('POST');
        const input = parseJsonBody(body.body, `POST ${ADMIN_PREFIX}${path}`);
        const sessionId =
          typeof input === 'object' && input !== null
            ? (input as { sessionId?: unknown }).sessionId
            : undefined;
        if (sessionId !== undefined && typeof sessionId !== 'string') {
          throw new AdminError(
            400,
            'sessionId must be a string (or left out to drop every data-channel socket).',
          );
        }
        if (path === '/drop-sockets') {
          deps.faults.dropSockets(sessionId);
          sendJson(res, 200, { dropped: sessionId ?? 'all' }, requestId);
        } else if (path === '/expire-sessions') {
          deps.faults.expireSessions(sessionId);
          sendJson(res, 200, { expired: sessionId ?? 'all' }, requestId);
        } else {
          deps.faults.blackholeSockets(sessionId);
          sendJson(res, 200, { blackholed: sessionId ?? 'all' }, requestId);
        }
      } else if ((m = /^\/sessions\/([^/]+)\/terminate$/.exec(path))) {
        expect('POST');
        const id = decodePathSegment(m[1]!);
        if (!deps.registry.get(id)) throw new AdminError(404, `No session ${id}.`);
        const input = parseJsonBody(body.body, `POST ${ADMIN_PREFIX}/sessions/${id}/terminate`);
        const reason =
          typeof input === 'object' && input !== null ? (input as { reason?: unknown }).reason : undefined;
        deps.registry.terminate(
          id,
          typeof reason === 'string' ? reason : 'Terminated by the sandbox administrator.',
        );
        sendJson(res, 200, { session: deps.registry.get(id) }, requestId);
      } else if (path === '/credentials/temporary') {
        expect('POST');
        const input = parseJsonBody(body.body, `POST ${ADMIN_PREFIX}/credentials/temporary`);
        const seconds =
          typeof input === 'object' && input !== null
            ? (input as { expiresInSeconds?: unknown }).expiresInSeconds
            : undefined;
        const ttl = seconds === undefined ? 3600 : seconds;
        if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < -86_400 || ttl > 129_600) {
          throw new AdminError(
            400,
            'expiresInSeconds must be an integer from -86400 (already expired) to 129600.',
          );
        }
        const record = deps.credentials.issueTemporary(new Date(now() + ttl * 1000), {}, now());
        sendJson(
          res,
          200,
          {
            AccessKeyId: record.accessKeyId,
            SecretAccessKey: record.secretAccessKey,
            SessionToken: record.sessionToken,
            Expiration: record.expiration!.toISOString(),
          },
          requestId,
        );
      } else if (path === '/sso') {
        expect('GET');
        sendJson(
          res,
          200,
          {
            authorizations: deps.sso.listAuthorizations(),
            accounts: deps.sso.accounts,
            userName: deps.sso.userName,
          },
          requestId,
        );
      } else if (path === '/sso/device') {
        expect('POST');
        const input = parseJsonBody(body.body, `POST ${ADMIN_PREFIX}/sso/device`) as Record<string, unknown>;
        const actions: DeviceAction[] = ['approve', 'deny', 'expire', 'slow-down'];
        const userCode = input?.userCode;
        const action = input?.action ?? 'approve';
        const userName = input?.userName;
        if (typeof userCode !== 'string' || userCode === '') {
          throw new AdminError(400, 'userCode must be the code of the sign-in request (e.g. "BCDF-GHJK").');
        }
        if (typeof action !== 'string' || !actions.includes(action as DeviceAction)) {
          throw new AdminError(400, `action must be one of ${actions.join(', ')}.`);
        }
        if (
          userName !== undefined &&
          (typeof userName !== 'string' || !/^[\w+=,.@-]{2,64}$/.test(userName))
        ) {
          throw new AdminError(400, 'userName must be 2 to 64 characters of [\\w+=,.@-].');
        }
        try {
          const result = deps.sso.act(userCode, action as DeviceAction, userName);
          sendJson(res, 200, result, requestId);
        } catch (err) {
          throw new AdminError(409, (err as Error).message);
        }
      } else if (path === '/sso/revoke') {
        expect('POST');
        sendJson(res, 200, { revoked: deps.sso.revokeAll() }, requestId);
      } else if (path === '/mfa') {
        expect('GET');
        const at = now();
        sendJson(
          res,
          200,
          {
            devices: deps.sts.listMfaDevices().map((d) => ({
              serialNumber: d.serialNumber,
              code: totp(d.secret, at),
              secondsLeft: 30 - (Math.floor(at / 1000) % 30),
            })),
          },
          requestId,
        );
      } else if (path === '/documents') {
        const documents = deps.documents;
        if (!documents) throw new AdminError(404, 'This server has no session document registry.');
        if (method === 'GET') {
          sendJson(res, 200, { documents: documents.list() }, requestId);
        } else {
          expect('POST');
          const input = parseJsonBody(body.body, `POST ${ADMIN_PREFIX}/documents`);
          try {
            sendJson(res, 200, { document: documents.put(input) }, requestId);
          } catch (err) {
            throw new AdminError(400, (err as Error).message);
          }
        }
      } else if ((m = /^\/documents\/([^/]+)$/.exec(path))) {
        expect('DELETE');
        const name = decodePathSegment(m[1]!);
        let removed: boolean;
        try {
          removed = deps.documents?.remove(name) ?? false;
        } catch (err) {
          throw new AdminError(400, (err as Error).message);
        }
        if (!removed) throw new AdminError(404, `No custom session document ${name}.`);
        sendJson(res, 200, { deleted: name }, requestId);
      } else if (path === '/roles') {
        if (method === 'GET') {
          sendJson(res, 200, { roles: deps.sts.listRoles() }, requestId);
        } else {
          expect('POST');
          const input = parseJsonBody(body.body, `POST ${ADMIN_PREFIX}/roles`);
          if (typeof input !== 'object' || input === null) throw new AdminError(400, 'Send a role object.');
          const known = ['arn', 'requireMfa', 'externalId', 'maxSessionDurationSeconds'];
          const extra = Object.keys(input).filter((k) => !known.includes(k));
          if (extra.length > 0) throw new AdminError(400, `Unknown role key(s): ${extra.join(', ')}.`);
          try {
            sendJson(res, 200, { role: deps.sts.addRole(input as SandboxRole) }, requestId);
          } catch (err) {
            throw new AdminError(400, (err as Error).message);
          }
        }
      } else {
        throw new AdminError(
          404,
          `Unknown admin endpoint ${method} ${ADMIN_PREFIX}${path}. Endpoints: GET /state, POST /faults, POST /faults/reset, POST /instances/<id>, GET|POST /kms/keys, POST /kms/keys/<id or alias>, POST /drop-sockets, POST /blackhole-sockets, POST /expire-sessions, POST /sessions/<id>/terminate, POST /credentials/temporary, GET /sso, POST /sso/device, POST /sso/revoke, GET /mfa, GET|POST /roles, GET|POST /documents, DELETE /documents/<name>.`,
        );
      }
    } catch (err) {
      if (err instanceof AdminError) {
        sendJson(res, err.status, { error: err.message }, requestId);
        return;
      }
      throw err;
    }
  }

  function state(): Record<string, unknown> {
    return {
      ...deps.describe?.(),
      region: deps.region,
      fleet: deps.fleet.list(),
      kms: { keys: deps.kms.list() },
      sessions: { active: deps.registry.list('Active'), history: deps.registry.list('History') },
      faults: deps.faults.state,
    };
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const requestId = randomUUID();
    const url = req.url ?? '/';
    const isAdmin =
      url === ADMIN_PREFIX || url.startsWith(`${ADMIN_PREFIX}/`) || url.startsWith(`${ADMIN_PREFIX}?`);
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const handled = isAdmin
      ? handleAdmin(req, res, requestId)
      : isSsoPath(pathname)
        ? handleSso(req, res, requestId, pathname, q < 0 ? '' : url.slice(q + 1))
        : handleApi(req, res, requestId);
    handled.catch((err: unknown) => {
      log.error({ err, requestId }, 'sandbox request failed');
      if (!res.headersSent)
        sendJson(res, 500, { error: 'The sandbox failed to process the request; see its log.' }, requestId);
      else res.destroy();
    });
  };
  // An https.Server is an http.Server over TLS: same events (request, upgrade, connection).
  const server: Server = deps.tls
    ? createTlsServer({ key: deps.tls.key, cert: deps.tls.cert }, onRequest)
    : createServer(onRequest);

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0]!;
    if (!path.startsWith(DATA_CHANNEL_PREFIX) || closing.signal.aborted) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    try {
      deps.dataChannel.handleUpgrade(req, socket, head);
    } catch (err) {
      log.error({ err }, 'data-channel upgrade failed');
      socket.destroy();
    }
  });

  let closed: Promise<void> | undefined;
  return {
    server,
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
