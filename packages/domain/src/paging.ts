import type { ContentLimits } from '@threadstore/contract';
import { DomainError } from './errors.ts';

/** The page size a listing uses: the caller's, if within `maxPageSize`, else the default. */
export function pageSize(
  requested: number | undefined,
  limits: Pick<ContentLimits, 'defaultPageSize' | 'maxPageSize'>,
) {
  if (requested === undefined) return limits.defaultPageSize;
  if (requested > limits.maxPageSize) {
    throw new DomainError('BAD_REQUEST', `a page holds at most ${limits.maxPageSize} items (maxPageSize)`, {
      limit: 'maxPageSize',
      max: limits.maxPageSize,
      actual: requested,
    });
  }
  return requested;
}
