/**
 * What a domain function can refuse, in the vocabulary the API answers with. The API maps each
 * code to the tRPC error of the same name; the worker logs it. Nothing else a domain function
 * throws is expected, so anything else is a bug (and a 500).
 */
export const DOMAIN_ERROR_CODES = [
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'TOO_MANY_REQUESTS',
  'TIMEOUT',
] as const;
export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export class DomainError extends Error {
  override name = 'DomainError';
  readonly code: DomainErrorCode;
  /** Safe to show the caller: limits, states, field names; never another principal's data. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: DomainErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

/**
 * The one answer for "no such thing" and "not yours": a caller probing another principal's ids
 * must learn nothing, not even that the id exists.
 */
export function notFound(what: string): DomainError {
  return new DomainError('NOT_FOUND', `${what} not found`);
}
