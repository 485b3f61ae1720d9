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
  res.appendHeader('vary', 'origin');
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
