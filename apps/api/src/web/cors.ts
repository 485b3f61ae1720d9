import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a page on another origin may send: the typed client's headers, nothing more. */
const ALLOWED_HEADERS = 'content-type, authorization, x-api-key, x-session-id, x-request-id, trpc-accept';
const ALLOWED_METHODS = 'GET, POST, OPTIONS';
// Headers a page may read from an answer (the request id for support, when to retry).
const EXPOSED_HEADERS = 'x-request-id, retry-after';
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** CORS_ORIGINS: comma-separated origins (`https://app.example.com`), or `*` for any. */
export function parseCorsOrigins(value: string): Set<string> {
  return new Set(
    value
      .split(',')
      .map((origin) => origin.trim().replace(/\/+$/, ''))
      .filter((origin) => origin.length > 0),
  );
}

/**
 * Lets pages hosted on the listed origins call the API. Credentials travel in headers, never
 * cookies, so no `Access-Control-Allow-Credentials`: another site cannot ride on a visitor's
 * session. An origin that is not listed gets no CORS headers (the browser keeps the answer from
 * it) and its preflight a 403. Returns true when the request was a preflight and is answered.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowed: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  if (origin === undefined || allowed.size === 0) {
    if (preflight && origin !== undefined) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('origin not allowed');
      return true;
    }
    return false;
  }
  keepVaryOrigin(res);
  const permitted = allowed.has('*') || allowed.has(origin);
  if (!permitted) {
    if (preflight) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('origin not allowed');
      return true;
    }
    return false;
  }
  res.setHeader('access-control-allow-origin', allowed.has('*') ? '*' : origin);
  res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
  if (!preflight) return false;
  res.writeHead(204, {
    'access-control-allow-methods': ALLOWED_METHODS,
    'access-control-allow-headers': ALLOWED_HEADERS,
    'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
  });
  res.end();
  return true;
}

/**
 * Answers differ by Origin, so caches must key on it. tRPC sets its own `Vary` (replacing what is
 * there), so `origin` is added to whatever value is set later, not only to the current one.
 */
function keepVaryOrigin(res: ServerResponse): void {
  const setHeader = res.setHeader.bind(res);
  const withOrigin = (value: number | string | readonly string[]) => {
    const names = (Array.isArray(value) ? value.join(',') : String(value)).split(',').map((name) => name.trim());
    return names.some((name) => name.toLowerCase() === 'origin')
      ? value
      : [...names.filter(Boolean), 'origin'].join(', ');
  };
  res.setHeader = (name, value) => setHeader(name, name.toLowerCase() === 'vary' ? withOrigin(value) : value);
  res.setHeader('vary', '');
}
