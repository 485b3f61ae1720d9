import type { ContentLimits, TSession, TUpdateSessionInput } from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import { DomainError } from '../errors.ts';
import type { Actor } from '../principal.ts';
import { changeOwnedSession } from './change.ts';
import { cleanJsonObject, cleanText } from './content.ts';

/**
 * Sets the title, context and/or metadata (each replaced whole). With `expectedVersion`, only
 * if nobody changed the session since the caller read it: else CONFLICT with the current version.
 */
export async function updateSession(
  em: EntityManager,
  actor: Actor,
  input: TUpdateSessionInput,
  limits: ContentLimits,
): Promise<TSession> {
  const title = cleanText(input.title, 'title', limits);
  const context = cleanJsonObject(input.context, 'context', limits);
  const metadata = cleanJsonObject(input.metadata, 'metadata', limits);
  return changeOwnedSession(em, actor, input.id, 'sessions.update', (session) => {
    const { expectedVersion } = input;
    if (expectedVersion !== undefined && expectedVersion !== session.version) {
      throw new DomainError(
        'CONFLICT',
        `the session is at version ${session.version}, not ${expectedVersion}: it changed since you read it; reload and retry`,
        { expectedVersion, currentVersion: session.version },
      );
    }
    const fields: string[] = [];
    if (title !== undefined) {
      session.title = title;
      fields.push('title');
    }
    if (context !== undefined) {
      session.context = context;
      fields.push('context');
    }
    if (metadata !== undefined) {
      session.metadata = metadata;
      fields.push('metadata');
    }
    session.lastActivityAt = new Date();
    // Field names only: titles and metadata are the user's content, not the audit trail's.
    return { fields, fromVersion: session.version };
  });
}
