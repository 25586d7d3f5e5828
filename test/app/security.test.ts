import type { Session, WebContents } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../main/core/log/logger.js';
import {
  RENDERER_CSP,
  createExternalOpener,
  devCsp,
  externalUrl,
  hardenSession,
  hardenWebContents,
  isAllowedUrl,
} from '../../main/app/security.js';
import { mainWindowOptions, secureWebPreferences } from '../../main/app/window.js';
import { DEFAULT_WINDOW_STATE } from '../../main/app/window-state.js';

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

type NavigationListener = (event: { preventDefault(): void }, url?: string) => void;

function fakeContents() {
  const listeners = new Map<string, NavigationListener>();
  let openHandler: ((d: { url: string }) => { action: string }) | undefined;
  const contents = {
    on: (name: string, l: NavigationListener) => listeners.set(name, l),
    setWindowOpenHandler: (h: typeof openHandler) => (openHandler = h),
  } as unknown as WebContents;
  const navigate = (name: string, url: string): boolean => {
    let prevented = false;
    listeners.get(name)!({ preventDefault: () => (prevented = true) }, url);
    return prevented;
  };
  return { contents, navigate, open: (url: string) => openHandler!({ url }) };
}

describe('hardenWebContents', () => {
  it('prevents navigation, redirects, webviews and window.open', () => {
    const { contents, navigate, open } = fakeContents();
    hardenWebContents(contents, silentLogger);

    for (const name of ['will-navigate', 'will-redirect', 'will-attach-webview'])
      expect(navigate(name, 'https://example.com/'), name).toBe(true);
    expect(open('https://example.com/')).toEqual({ action: 'deny' });
  });

  it('hands http(s) links to the system browser, and nothing else', () => {
    const opened: string[] = [];
    const { contents, navigate, open } = fakeContents();
    hardenWebContents(contents, silentLogger, {
      allowedOrigins: ['app://renderer'],
      openExternal: (url) => {
        opened.push(url);
        return true;
      },
    });
    expect(open('https://docs.aws.amazon.com/systems-manager/')).toEqual({ action: 'deny' });
    expect(navigate('will-navigate', 'http://example.com/a b')).toBe(true);
    expect(open('app://renderer/index.html')).toEqual({ action: 'deny' });
    expect(navigate('will-redirect', 'https://example.com/redirected')).toBe(true);
    expect(opened).toEqual(['https://docs.aws.amazon.com/systems-manager/', 'http://example.com/a b']);
  });
});

describe('externalUrl', () => {
  it.each([
    ['https://example.com/path?q=1#x', 'https://example.com/path?q=1#x'],
    ['http://127.0.0.1:8080/', 'http://127.0.0.1:8080/'],
    ['HTTPS://EXAMPLE.com', 'https://example.com/'],
    ['file:///etc/passwd', undefined],
    ['javascript:alert(1)', undefined],
    ['smb://server/share', undefined],
    ['app://renderer/index.html', undefined],
    ['https://user:pass@example.com/', undefined],
    ['https://evil.example@example.com/', undefined],
    ['not a url', undefined],
    [`https://example.com/${'a'.repeat(3000)}`, undefined],
  ])('%s -> %s', (url, expected) => {
    expect(externalUrl(url)).toBe(expected);
  });
});

describe('createExternalOpener', () => {
  it('opens checked URLs, at most `limit` per window of time', async () => {
    let now = 0;
    const openExternal = vi.fn(async (_url: string) => undefined);
    const open = createExternalOpener(openExternal, { limit: 2, windowMs: 1000, now: () => now });
    expect(open('https://a.example/')).toBe(true);
    expect(open('file:///etc/passwd')).toBe(false);
    expect(open('https://b.example/')).toBe(true);
    expect(open('https://c.example/')).toBe(false);
    now = 1000;
    expect(open('https://d.example/')).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(openExternal.mock.calls.map((c) => c[0])).toEqual([
      'https://a.example/',
      'https://b.example/',
      'https://d.example/',
    ]);
  });

  it('logs a failure of the system to open a link', async () => {
    const warned: unknown[] = [];
    const logger = { ...silentLogger, info: () => undefined, warn: (o: unknown) => warned.push(o) };
    const open = createExternalOpener(() => Promise.reject(new Error('no browser')), {
      logger: logger as unknown as typeof silentLogger,
    });
    expect(open('https://example.com/')).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(warned).toHaveLength(1);
  });
});

describe('main window options', () => {
  it('isolate the page from Node and Electron', () => {
    expect(secureWebPreferences('/app/out/preload/index.cjs')).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
    });
  });

  it('restore the saved bounds, hidden until painted, with a minimum size', () => {
    const options = mainWindowOptions({
      preloadPath: '/p.cjs',
      url: 'app://renderer/index.html',
      state: { ...DEFAULT_WINDOW_STATE, x: 40, y: 50, width: 1000, height: 700 },
      iconPath: '/icon.png',
    });
    expect(options).toMatchObject({
      x: 40,
      y: 50,
      width: 1000,
      height: 700,
      minWidth: 800,
      minHeight: 500,
      show: false,
      icon: '/icon.png',
    });
    expect(options.webPreferences?.sandbox).toBe(true);
    const centred = mainWindowOptions({ preloadPath: '/p.cjs', url: 'x', state: DEFAULT_WINDOW_STATE });
    expect(centred.center).toBe(true);
    expect(centred.x).toBeUndefined();
  });
});
