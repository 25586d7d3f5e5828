/**
 * The CLI's side of the status socket (status-server.ts): find the EC2 Connect processes that
 * serve one (`listRunning`, which also removes what dead processes left behind) and ask one of
 * them for JSON (`getJson`), or to do something (`postJson`: close a port forward).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { APP_KINDS, STATUS_KINDS, type StatusDescriptor, type StatusKind } from './status-server.js';

export {
  APP_KINDS,
  STATUS_KINDS,
  statusDir,
  type StatusDescriptor,
  type StatusKind,
} from './status-server.js';

export interface RunningInstance extends StatusDescriptor {
  /** The `<pid>.json` it was read from. */
  descriptorFile: string;
}

/** Whether a process with this pid runs (signal 0; EPERM means it runs as another user). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function parseDescriptor(text: string): StatusDescriptor | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object') return null;
  const d = v as Record<string, unknown>;
  if (
    typeof d.pid !== 'number' ||
    !Number.isInteger(d.pid) ||
    d.pid <= 0 ||
    !STATUS_KINDS.includes(d.kind as StatusKind) ||
    typeof d.socket !== 'string' ||
    d.socket === '' ||
    typeof d.startedAt !== 'string' ||
    typeof d.version !== 'string'
  )
    return null;
  return {
    pid: d.pid,
    kind: d.kind as StatusKind,
    socket: d.socket,
    startedAt: d.startedAt,
    version: d.version,
  };
}

function unlinkQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // gone already, or not ours to remove
  }
}

/**
 * The EC2 Connect processes that describe a status socket in `dir`, newest first: by default the
 * apps (desktop, web mode), which serve resources and sessions; `kinds` for others (a foreground
 * `ec2-connect forward` serves only its port forward). Descriptors of processes that no longer run
 * are deleted (with their socket file, when it is a socket); unreadable or malformed ones are
 * skipped. A missing folder means none.
 */
export function listRunning(dir: string, kinds: readonly StatusKind[] = APP_KINDS): RunningInstance[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const running: RunningInstance[] = [];
  for (const name of names) {
    if (!/^\d+\.json$/.test(name)) continue;
    const descriptorFile = path.join(dir, name);
    let text: string;
    try {
      text = fs.readFileSync(descriptorFile, 'utf8');
    } catch {
      continue;
    }
    const d = parseDescriptor(text);
    if (!d || `${d.pid}.json` !== name) continue;
    if (!pidAlive(d.pid)) {
      unlinkQuietly(descriptorFile);
      if (process.platform !== 'win32') {
        try {
          if (fs.lstatSync(d.socket).isSocket()) unlinkQuietly(d.socket);
        } catch {
          // no socket left
        }
      }
      continue;
    }
    if (kinds.includes(d.kind)) running.push({ ...d, descriptorFile });
  }
  const started = (r: RunningInstance): number => {
    const t = Date.parse(r.startedAt);
    return Number.isFinite(t) ? t : 0;
  };
  return running.sort((a, b) => started(b) - started(a) || b.pid - a.pid);
}

/** An answer of the status server that was not a 2xx, with its `{ error }` text. */
export class StatusRequestError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'StatusRequestError';
  }
}

/** GET `urlPath` from the status server on `socketPath` and parse its JSON; rejects with a StatusRequestError. */
export function getJson<T>(socketPath: string, urlPath: string, timeoutMs = 5000): Promise<T> {
  return requestJson<T>(socketPath, 'GET', urlPath, timeoutMs);
}

/** POST (no body) to `urlPath` of the status server on `socketPath` (e.g. /v1/ports/<id>/close); as getJson. */
export function postJson<T>(socketPath: string, urlPath: string, timeoutMs = 5000): Promise<T> {
  return requestJson<T>(socketPath, 'POST', urlPath, timeoutMs);
}

function requestJson<T>(
  socketPath: string,
  method: 'GET' | 'POST',
  urlPath: string,
  timeoutMs: number,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const fail = (message: string, status: number | null = null): void => {
      if (settled) return;
      settled = true;
      reject(new StatusRequestError(message, status));
    };
    const req = http.request(
      {
        socketPath,
        path: urlPath,
        method,
        headers: { accept: 'application/json', ...(method === 'POST' ? { 'content-length': 0 } : {}) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => fail(`reading ${urlPath} from ${socketPath} failed: ${err.message}`));
        res.on('end', () => {
          if (settled) return;
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            fail(
              `${urlPath} from ${socketPath} is not JSON (HTTP ${res.statusCode})`,
              res.statusCode ?? null,
            );
            return;
          }
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) {
            const error = (body as { error?: unknown } | null)?.error;
            fail(`${urlPath}: HTTP ${status}${typeof error === 'string' ? `: ${error}` : ''}`, status);
            return;
          }
          settled = true;
          resolve(body as T);
        });
      },
    );
    req.setTimeout(timeoutMs, () => {
      fail(`no answer from ${socketPath} within ${timeoutMs} ms`);
      req.destroy();
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      fail(`cannot reach ${socketPath} (${err.code ?? err.message})`),
    );
    req.end();
  });
}
