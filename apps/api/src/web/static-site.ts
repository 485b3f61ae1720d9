import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

const gzip = promisify(gzipCallback);

/** The web app's build output (apps/web/dist), seen from apps/api/src or apps/api/dist. */
export const DEFAULT_WEB_DIST_DIR = join(import.meta.dirname, '..', '..', '..', 'web', 'dist');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.txt', '.svg']);

// Vite puts content-hashed files under assets/: a new build has new names, so browsers may keep
// these forever. Everything else (index.html above all) is revalidated, or a deploy would leave
// visitors on the old page pointing at assets that no longer exist.
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/**
 * Paths the API answers itself: never the page, even when the route that serves them is off
 * (METRICS_ENABLED=false must give a 404, not index.html with a 200).
 */
const RESERVED = ['/trpc', '/api', '/openapi.json', '/metrics', '/healthz', '/readyz'];

export interface StaticSite {
  /** Answers a GET/HEAD for a file of the build or a client route; false when it is neither. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
}

/**
 * Serves the built web app at /: files of `root` with their content types, and index.html for
 * client routes (a path without a file extension), so /chat/<id> reloads into the app. Gzips
 * text files for clients that accept it, each file once (the build does not change while the
 * process runs).
 */
export function createStaticSite(root: string): StaticSite {
  const gzipped = new Map<string, Promise<Buffer>>();

  async function fileAt(path: string): Promise<string | null> {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return null;
    }
    // normalize() folds `..`; anything that still leaves the root (or holds a NUL) is not ours.
    const file = normalize(join(root, decoded));
    if (decoded.includes('\0') || (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep))) {
      return null;
    }
    const info = await stat(file).catch(() => null);
    return info?.isFile() ? file : null;
  }

  return {
    async serve(req, res, path) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      if (RESERVED.some((reserved) => path === reserved || path.startsWith(`${reserved}/`))) return false;
      let file = path === '/' ? null : await fileAt(path);
      if (file === null) {
        // A client route: a browser navigating (it accepts HTML) to a path whose last segment
        // has no extension. A missing /assets/x.js, or a script calling a wrong path, stays a 404.
        const last = path.slice(path.lastIndexOf('/') + 1);
        const navigating = path === '/' || String(req.headers.accept ?? '').includes('text/html');
        if (last.includes('.') || !navigating) return false;
        file = await fileAt('/index.html');
        if (file === null) return false;
      }
      const extension = extname(file);
      const headers: Record<string, string> = {
        'content-type': CONTENT_TYPES[extension] ?? 'application/octet-stream',
        'cache-control': path.startsWith('/assets/') ? IMMUTABLE : REVALIDATE,
        'x-content-type-options': 'nosniff',
      };
      if (COMPRESSIBLE.has(extension)) headers.vary = 'accept-encoding';
      if (COMPRESSIBLE.has(extension) && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
        let body = gzipped.get(file);
        if (body === undefined) {
          body = readFile(file).then((content) => gzip(content));
          gzipped.set(file, body);
        }
        const content = await body;
        res.writeHead(200, { ...headers, 'content-encoding': 'gzip', 'content-length': String(content.length) });
        res.end(req.method === 'HEAD' ? undefined : content);
        return true;
      }
      const { size } = await stat(file);
      res.writeHead(200, { ...headers, 'content-length': String(size) });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
      return true;
    },
  };
}
