/** Static files of the built renderer for web mode, with a fallback page when it is not built. */
import { promises as fs } from 'node:fs';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Map a URL path to a file inside `root`, or undefined when it would leave `root`, names a
 * dotfile, or does not exist as a regular file.
 */
export async function resolveStaticFile(root: string, urlPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const segments = decoded.split('/').filter((s) => s.length > 0);
  if (segments.some((s) => s.startsWith('.') || s.includes('\\'))) return undefined;
  const base = path.resolve(root);
  const file = path.resolve(base, ...segments);
  if (file !== base && !file.startsWith(base + path.sep)) return undefined;
  try {
    const stat = await fs.stat(file);
    return stat.isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** Shown instead of the app when `staticDir` has no index.html. No scripts, no inline styles. */
export function notBuiltPage(staticDir: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="color-scheme" content="light dark">
<title>EC2 Connect: renderer not built</title>
</head>
<body>
<h1>EC2 Connect: the renderer is not built</h1>
<p>Web mode serves the built renderer from <code>${escapeHtml(staticDir)}</code>, which has no <code>index.html</code>.</p>
<p>Run <code>npm run build</code> in the project directory, then reload this page.</p>
<p>The web-mode bridge on this server is running; only the page is missing.</p>
</body>
</html>
`;
}
