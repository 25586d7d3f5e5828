/**
 * Electron hardening: CSP on every response, no navigation, no new windows, no webviews,
 * no permissions, and no requests leaving the app (no remote content).
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

/** Applied to every WebContents the app creates. */
export function hardenWebContents(contents: WebContents, logger: Logger): void {
  contents.on('will-navigate', (event, url) => {
    logger.warn({ url }, 'blocked navigation');
    event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    logger.warn({ url }, 'blocked redirect');
    event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    logger.warn({ url }, 'blocked window.open');
    return { action: 'deny' };
  });
}
