/**
 * Electron hardening: CSP on every response, no navigation, no new windows, no webviews,
 * no permissions, and no requests leaving the app (no remote content). Links to web pages
 * open in the system browser, after checking the URL.
 */
import type { Session, WebContents } from 'electron';
import type { Logger } from '../core/log/logger.js';

/** The renderer's Content-Security-Policy (the same as the meta tag in renderer/index.html). */
export const RENDERER_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Dev server only (`electron-vite dev`): Vite injects styles and talks HMR over a WebSocket. */
export function devCsp(devOrigin: string): string {
  const ws = devOrigin.replace(/^http/, 'ws');
  return RENDERER_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'").replace(
    "connect-src 'self'",
    `connect-src 'self' ${devOrigin} ${ws}`,
  );
}

export interface SessionPolicy {
  csp: string;
  /** Origins the renderer may load from, e.g. `app://renderer` (plus the dev server in development). */
  allowedOrigins: string[];
  logger: Logger;
}

/** Schemes that never reach the network. */
const LOCAL_SCHEMES = new Set(['devtools:', 'data:', 'blob:']);

export function isAllowedUrl(url: string, allowedOrigins: readonly string[]): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (LOCAL_SCHEMES.has(parsed.protocol)) return true;
  const origin = parsed.origin !== 'null' ? parsed.origin : `${parsed.protocol}//${parsed.host}`;
  return allowedOrigins.includes(origin);
}

export function hardenSession(session: Session, policy: SessionPolicy): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => {
    policy.logger.warn({ permission }, 'renderer permission request denied');
    callback(false);
  });
  session.setPermissionCheckHandler(() => false);

  session.webRequest.onBeforeRequest((details, callback) => {
    const allowed = isAllowedUrl(details.url, policy.allowedOrigins);
    if (!allowed) policy.logger.warn({ url: details.url }, 'blocked a request to remote content');
    callback({ cancel: !allowed });
  });

  session.webRequest.onHeadersReceived((details, callback) => {
    const headers: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(details.responseHeaders ?? {})) {
      if (name.toLowerCase() !== 'content-security-policy') headers[name] = value;
    }
    headers['Content-Security-Policy'] = [policy.csp];
    headers['X-Content-Type-Options'] = ['nosniff'];
    callback({ responseHeaders: headers });
  });
}

/** Longest URL handed to the system browser. */
const MAX_EXTERNAL_URL_LENGTH = 2048;

/**
 * The URL to open in the system browser, or undefined: only http and https, with a host and
 * no user name or password in it (a classic way to disguise where a link goes), and not
 * absurdly long. Returns the normalised form, which is what gets opened.
 */
export function externalUrl(url: string): string | undefined {
  if (url.length > MAX_EXTERNAL_URL_LENGTH) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  if (!parsed.hostname || parsed.username || parsed.password) return undefined;
  return parsed.href;
}

export interface ExternalOpenerOptions {
  /** At most this many URLs per `windowMs` (a page gone rogue must not flood the browser). */
  limit?: number;
  windowMs?: number;
  now?: () => number;
  logger?: Logger;
}

/**
 * `shell.openExternal` behind the URL check and a rate limit. Returns whether the URL was
 * handed to the system.
 */
export function createExternalOpener(
  openExternal: (url: string) => Promise<void> | void,
  options: ExternalOpenerOptions = {},
): (url: string) => boolean {
  const limit = options.limit ?? 5;
  const windowMs = options.windowMs ?? 10_000;
  const now = options.now ?? Date.now;
  const recent: number[] = [];
  return (url) => {
    const safe = externalUrl(url);
    if (!safe) {
      options.logger?.warn({ url: url.slice(0, 200) }, 'refused to open a link that is not http(s)');
      return false;
    }
    const t = now();
    while (recent.length > 0 && t - recent[0]! >= windowMs) recent.shift();
    if (recent.length >= limit) {
      options.logger?.warn({ url: safe }, 'too many links opened at once; ignoring this one');
      return false;
    }
    recent.push(t);
    options.logger?.info({ url: safe }, 'opening a link in the system browser');
    Promise.resolve()
      .then(() => openExternal(safe))
      .catch((err: unknown) => options.logger?.warn({ err, url: safe }, 'the system could not open a link'));
    return true;
  };
}

export interface WebContentsPolicy {
  /** Opens http(s) links in the system browser (see createExternalOpener); without it, every link is refused. */
  openExternal?: (url: string) => boolean;
  /** The app's own origins: never handed to the system browser. */
  allowedOrigins?: readonly string[];
}

/**
 * Applied to every WebContents the app creates: the page never navigates, redirects, attaches
 * a webview or opens a window. Links to http(s) pages (window.open, target=_blank, or a plain
 * link click) go to the system browser instead; everything else is refused.
 */
export function hardenWebContents(
  contents: WebContents,
  logger: Logger,
  policy: WebContentsPolicy = {},
): void {
  const ours = (url: string): boolean => isAllowedUrl(url, policy.allowedOrigins ?? []);
  const openOutside = (url: string): boolean => !ours(url) && (policy.openExternal?.(url) ?? false);

  contents.on('will-navigate', (event, url) => {
    event.preventDefault();
    if (!openOutside(url)) logger.warn({ url }, 'blocked navigation');
  });
  contents.on('will-redirect', (event, url) => {
    logger.warn({ url }, 'blocked redirect');
    event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => {
    logger.warn('blocked a webview');
    event.preventDefault();
  });
  contents.setWindowOpenHandler(({ url }) => {
    if (!openOutside(url)) logger.warn({ url }, 'blocked window.open');
    return { action: 'deny' };
  });
}
