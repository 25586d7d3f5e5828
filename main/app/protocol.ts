/**
 * The renderer is served from `app://renderer/` (a privileged, secure, standard scheme) rather
 * than file://, so it gets a real origin for CSP `'self'` and cannot read other local files.
 */
import { promises as fs } from 'node:fs';
import { protocol } from 'electron';
import { contentTypeFor, resolveStaticFile } from '../core/web/static.js';

export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://renderer`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

/** Serve `rendererDir` (out/renderer) on app://renderer/, with the CSP header on every file. */
export function serveRenderer(rendererDir: string, csp: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const file =
      url.host === 'renderer'
        ? await resolveStaticFile(rendererDir, url.pathname === '/' ? '/index.html' : url.pathname)
        : undefined;
    if (!file) return new Response('Not found', { status: 404, headers: { 'content-type': 'text/plain' } });
    const body = await fs.readFile(file);
    return new Response(new Uint8Array(body), {
      status: 200,
      headers: {
        'content-type': contentTypeFor(file),
        'content-security-policy': csp,
        'x-content-type-options': 'nosniff',
      },
    });
  });
}
