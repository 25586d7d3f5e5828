import type { Session, WebContents } from 'electron';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../main/core/log/logger.js';
import {
  RENDERER_CSP,
  devCsp,
  hardenSession,
  hardenWebContents,
  isAllowedUrl,
} from '../../main/app/security.js';

// main/app/security.ts imports electron for types only, so it runs under plain Node with fakes.

describe('RENDERER_CSP', () => {
  it('allows only same-origin content, no inline scripts, no eval', () => {
    expect(RENDERER_CSP).toContain("default-src 'self'");
    expect(RENDERER_CSP).toContain("script-src 'self'");
    expect(RENDERER_CSP).toContain("object-src 'none'");
    expect(RENDERER_CSP).not.toMatch(/unsafe-(inline|eval)|\*|https?:/);
  });

  it('only relaxes styles and the dev server connection in development', () => {
    const dev = devCsp('http://localhost:5173');
    expect(dev).toContain("style-src 'self' 'unsafe-inline'");
    expect(dev).toContain('ws://localhost:5173');
    expect(dev).toContain("script-src 'self';");
  });
});

describe('isAllowedUrl', () => {
  const origins = ['app://renderer'];
  it.each([
    ['app://renderer/index.html', true],
    ['app://renderer/assets/index.js', true],
    ['devtools://devtools/bundled/inspector.html', true],
    ['data:image/png;base64,AAAA', true],
    ['app://other/index.html', false],
    ['https://example.com/', false],
    ['http://127.0.0.1:8080/', false],
    ['file:///etc/passwd', false],
    ['not a url', false],
  ])('%s -> %s', (url, allowed) => {
    expect(isAllowedUrl(url, origins)).toBe(allowed);
  });
});

type BeforeRequest = (details: { url: string }, cb: (r: { cancel: boolean }) => void) => void;
type HeadersReceived = (
  details: { responseHeaders?: Record<string, string[]> },
  cb: (r: { responseHeaders: Record<string, string[]> }) => void,
) => void;

function fakeSession() {
  const hooks: {
    beforeRequest?: BeforeRequest;
    headers?: HeadersReceived;
    permission?: (wc: unknown, p: string, cb: (ok: boolean) => void) => void;
    check?: () => boolean;
  } = {};
  const session = {
    setPermissionRequestHandler: (h: typeof hooks.permission) => (hooks.permission = h),
    setPermissionCheckHandler: (h: typeof hooks.check) => (hooks.check = h),
    webRequest: {
      onBeforeRequest: (h: BeforeRequest) => (hooks.beforeRequest = h),
      onHeadersReceived: (h: HeadersReceived) => (hooks.headers = h),
    },
  };
  return { session: session as unknown as Session, hooks };
}

describe('hardenSession', () => {
  it('blocks remote requests, denies permissions and replaces any CSP header', () => {
    const { session, hooks } = fakeSession();
    hardenSession(session, { csp: RENDERER_CSP, allowedOrigins: ['app://renderer'], logger: silentLogger });

    const cancelled = (url: string): boolean => {
      let result = false;
      hooks.beforeRequest!({ url }, (r) => (result = r.cancel));
      return result;
    };
    expect(cancelled('app://renderer/index.html')).toBe(false);
    expect(cancelled('https://cdn.example.com/x.js')).toBe(true);

    let granted = true;
    hooks.permission!({}, 'media', (ok) => (granted = ok));
    expect(granted).toBe(false);
    expect(hooks.check!()).toBe(false);

    let headers: Record<string, string[]> = {};
    hooks.headers!(
      { responseHeaders: { 'content-security-policy': ['default-src *'], 'X-Other': ['1'] } },
      (r) => {
        headers = r.responseHeaders;
      },
    );
    expect(headers['Content-Security-Policy']).toEqual([RENDERER_CSP]);
    expect(headers['content-security-policy']).toBeUndefined();
    expect(headers['X-Other']).toEqual(['1']);
  });
});

describe('hardenWebContents', () => {
  it('prevents navigation, redirects, webviews and window.open', () => {
    const listeners = new Map<string, (event: { preventDefault(): void }, url?: string) => void>();
    let openHandler: ((d: { url: string }) => { action: string }) | undefined;
    const contents = {
      on: (name: string, l: (event: { preventDefault(): void }, url?: string) => void) =>
        listeners.set(name, l),
      setWindowOpenHandler: (h: typeof openHandler) => (openHandler = h),
    } as unknown as WebContents;
    hardenWebContents(contents, silentLogger);

    for (const name of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      let prevented = false;
      listeners.get(name)!({ preventDefault: () => (prevented = true) }, 'https://example.com/');
      expect(prevented, name).toBe(true);
    }
    expect(openHandler!({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
  });
});
