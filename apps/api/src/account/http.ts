import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { MikroORM } from '@threadstore/db';
import { DomainError, exportAccount, importAccount, recordAudit, type Principal } from '@threadstore/domain';
import type { Logger } from '@threadstore/runtime';
import type { Authenticator } from '../auth/authenticator.ts';
import { sendJson } from '../send-json.ts';

/**
 * `GET /account/export` and `POST /account/import`: the account as an NDJSON stream, outside tRPC.
 *
 * Why not a tRPC procedure: tRPC 11 streams a generator's values inside its own JSON envelope
 * (httpBatchStreamLink), so the response is not a file a person can keep with `curl -o` or feed
 * back later, and an import would have to fit in one request body under LIMIT_MAX_BODY_BYTES.
 * Here the export is written as it is read from one database snapshot, with backpressure, in
 * constant memory, and the import is read line by line. Same credentials as the API (bearer
 * token, API key, never an anonymous id); errors are JSON `{ error: { code, message } }` with
 * the tRPC code's HTTP status.
 */
export const EXPORT_PATH = '/account/export';
export const IMPORT_PATH = '/account/import';

const STATUS: Record<string, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_SUPPORTED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
};

export interface AccountHttpOptions {
  orm: MikroORM;
  logger: Logger;
  authenticator: Authenticator;
  /** The longest line an import accepts (one row); LIMIT_MAX_BODY_BYTES. */
  maxLineBytes: number;
}

/** Handles the two paths; false for any other path. */
export function createAccountHttp({ orm, logger, authenticator, maxLineBytes }: AccountHttpOptions) {
  return async (req: IncomingMessage, res: ServerResponse, path: string, requestId: string): Promise<boolean> => {
    if (path !== EXPORT_PATH && path !== IMPORT_PATH) return false;
    const em = orm.em.fork();
    try {
      const method = path === EXPORT_PATH ? 'GET' : 'POST';
      if (req.method !== method) {
        res.setHeader('allow', method);
        throw new DomainError('BAD_REQUEST', `use ${method}`, { status: 405 });
      }
      const { principal, failure } = await authenticator.authenticate(req.headers, em);
      const userId = userOf(principal, failure, path === EXPORT_PATH ? 'read' : 'import');
      const actor = { principal: principal!, requestId };
      if (path === EXPORT_PATH) {
        await streamExport(res, em, userId);
        recordAudit(em, actor, { action: 'account.export', subjectType: 'user', subjectId: userId });
        await em.flush();
      } else {
        const result = await importAccount(em, actor, userId, linesOf(req, maxLineBytes));
        sendJson(res, 200, result);
      }
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      if (res.headersSent) {
        // Half an export is worse than none: the client sees the stream cut, with no manifest.
        res.destroy();
        return true;
      }
      const status = (error.details?.status as number | undefined) ?? STATUS[error.code] ?? 400;
      logger.info({ requestId, path, code: error.code, message: error.message }, 'account request refused');
      sendJson(res, status, { error: { code: error.code, message: error.message, details: error.details ?? null } });
    }
    return true;
  };
}

/**
 * Exports are for the account's owner: a bearer token, or an API key with `read` (backups run by
 * an agent backend). An import replaces nothing but still writes a whole account: signed-in
 * people only, as for erasure.
 */
function userOf(principal: Principal | null, failure: string | null, need: 'read' | 'import'): string {
  if (principal === null) throw new DomainError('UNAUTHORIZED', failure ?? 'sign in, or send an API key');
  if (principal.kind === 'anonymous')
    throw new DomainError('UNAUTHORIZED', 'sign in first: anonymous visitors have no account');
  if (principal.kind === 'apiKey') {
    if (need === 'import') throw new DomainError('FORBIDDEN', 'API keys cannot do this; sign in with a bearer token');
    if (!principal.scopes.includes('read')) throw new DomainError('FORBIDDEN', "this API key lacks the 'read' scope");
  }
  return principal.userId;
}

async function streamExport(res: ServerResponse, em: Parameters<typeof exportAccount>[0], userId: string) {
  const lines = exportAccount(em, userId);
  // The first chunk (the header) is read before any byte is sent, so a failure to start is still
  // a clean JSON error.
  const first = await lines.next();
  res.writeHead(200, {
    'content-type': 'application/x-ndjson; charset=utf-8',
    'content-disposition': `attachment; filename="threadstore-export-${new Date().toISOString().slice(0, 10)}.ndjson"`,
    'cache-control': 'no-store',
  });
  if (!first.done) res.write(first.value);
  const closed = once(res, 'close');
  for await (const chunk of lines) {
    if (res.destroyed) {
      await lines.return(undefined);
      return;
    }
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), closed]);
  }
  res.end();
}

/** The body's lines, each at most `maxBytes`; a longer one is a BAD_REQUEST, not a memory blow-up. */
async function* linesOf(req: IncomingMessage, maxBytes: number): AsyncGenerator<string> {
  req.setEncoding('utf8');
  let buffered = '';
  for await (const chunk of req as AsyncIterable<string>) {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
    if (buffered.length > maxBytes) {
      throw new DomainError('BAD_REQUEST', `a line of the import exceeds ${maxBytes} bytes (LIMIT_MAX_BODY_BYTES)`, {
        status: 413,
      });
    }
  }
  if (buffered.length > 0) yield buffered;
}
