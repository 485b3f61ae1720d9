import type { TAuditEntry, TListAuditInput, TListAuditOutput } from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import { DomainError } from '../errors.ts';
import { bindings, query } from '../messages/sql.ts';
import type { Principal } from '../principal.ts';
import { auditPage, ownTrail } from './sql.ts';

interface AuditRow {
  id: string;
  actor_type: TAuditEntry['actorType'];
  actor_id: string | null;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  details: Record<string, unknown>;
  request_id: string | null;
  occurred_at: Date | string;
}

/**
 * The audit trail, newest first by keyset on id. Everyone sees their own; administrators may ask
 * for everyone's (`scope: 'all'`), anyone else asking for it is FORBIDDEN.
 */
export async function listAudit(
  em: EntityManager,
  principal: Principal,
  input: TListAuditInput,
  limit: number,
): Promise<TListAuditOutput> {
  const all = input.scope === 'all';
  if (all && (principal.kind === 'anonymous' || principal.role !== 'admin')) {
    throw new DomainError('FORBIDDEN', "administrators only: scope 'all'");
  }
  if (input.actorId !== undefined && !all) {
    throw new DomainError('BAD_REQUEST', "actorId filters scope 'all'; your own trail has one actor");
  }
  const { values, bind } = bindings();
  const where: string[] = [all ? 'true' : ownTrail(principal, bind)];
  if (input.action !== undefined) {
    where.push(
      input.action.endsWith('.') ? `starts_with(a.action, ${bind(input.action)})` : `a.action = ${bind(input.action)}`,
    );
  }
  if (input.subjectType !== undefined) where.push(`a.subject_type = ${bind(input.subjectType)}`);
  if (input.subjectId !== undefined) where.push(`a.subject_id = ${bind(input.subjectId)}`);
  if (input.actorId !== undefined) where.push(`a.actor_id = ${bind(input.actorId)}`);
  if (input.since !== undefined) where.push(`a.occurred_at >= ${bind(input.since)}::timestamptz`);
  if (input.until !== undefined) where.push(`a.occurred_at < ${bind(input.until)}::timestamptz`);
  if (input.cursor !== undefined) where.push(`a.id < ${bind(decodeCursor(input.cursor))}::bigint`);
  const rows = await query<AuditRow>(em, auditPage(where, bind(limit + 1)), values);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => ({
      id: row.id,
      actorType: row.actor_type,
      actorId: row.actor_id,
      action: row.action,
      subjectType: row.subject_type,
      subjectId: row.subject_id,
      details: row.details,
      requestId: row.request_id,
      occurredAt: new Date(row.occurred_at).toISOString(),
    })),
    nextCursor:
      rows.length > limit && last !== undefined ? Buffer.from(`audit:${last.id}`).toString('base64url') : null,
  };
}

function decodeCursor(cursor: string): string {
  const match = /^audit:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (match === null) throw new DomainError('BAD_REQUEST', 'cursor is not one this listing gave');
  return match[1]!;
}
