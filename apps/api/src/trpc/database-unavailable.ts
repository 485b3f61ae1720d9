/**
 * Whether an error means "the database cannot be reached right now" (down, restarting, refusing
 * connections, or the pool gave up waiting for one) rather than a bug or bad input. Such calls are
 * answered 503 SERVICE_UNAVAILABLE with Retry-After, so clients back off and retry instead of
 * reporting a server bug; the pool reconnects on its own once the database is back.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (NETWORK_CODES.has(code)) return true;
      // Class 08: connection exception, except 08P01 (protocol violation: a NUL in a value, the
      // input's fault); 57P01-03: admin/crash shutdown, cannot connect now (starting up).
      if ((code.startsWith('08') && code !== '08P01') || code === '57P01' || code === '57P02' || code === '57P03') {
        return true;
      }
    }
    if (UNAVAILABLE_MESSAGES.test(cause.message)) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

// node-postgres reports these without a code.
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection to server .* failed|the database system is (starting up|shutting down)/i;
