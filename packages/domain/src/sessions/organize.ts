import {
  MAX_TAGS_PER_SESSION,
  type TSession,
  type TSessionTagsInput,
  type TSessionTagsOutput,
  type TTagSessionInput,
} from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import { DomainError } from '../errors.ts';
import { bindings, ownedBy, query } from '../messages/sql.ts';
import type { Actor, Owner } from '../principal.ts';
import { changeOwnedSession } from './change.ts';

// Tags and pins organize the owner's list; each change is one locked read-modify-write of the
// session (changeOwnedSession), with its audit row, and changes nothing when there is nothing to
// do (pinning a pinned session, adding a tag it has).

/** Tags compare case-insensitively and without surrounding spaces: `Work ` and `work` are one tag. */
export function normalizeTag(tag: string, field = 'tags'): string {
  const clean = tag.trim().toLowerCase();
  if (clean.length === 0) throw new DomainError('BAD_REQUEST', 'a tag may not be blank', { field });
  return clean;
}

export async function tagSession(em: EntityManager, actor: Actor, input: TTagSessionInput): Promise<TSession> {
  const wanted = input.tags.map((tag, index) => normalizeTag(tag, `tags[${index}]`));
  return changeOwnedSession(em, actor, input.id, 'sessions.tag', (session) => {
    const added = [...new Set(wanted)].filter((tag) => !session.tags.includes(tag)).sort();
    if (added.length === 0) return null;
    const tags = [...session.tags, ...added].sort();
    if (tags.length > MAX_TAGS_PER_SESSION) {
      throw new DomainError('BAD_REQUEST', `a session carries at most ${MAX_TAGS_PER_SESSION} tags`, {
        limit: 'maxTagsPerSession',
        max: MAX_TAGS_PER_SESSION,
        actual: tags.length,
        field: 'tags',
      });
    }
    session.tags = tags;
    return { added };
  });
}

export async function untagSession(em: EntityManager, actor: Actor, input: TTagSessionInput): Promise<TSession> {
  const unwanted = new Set(input.tags.map((tag, index) => normalizeTag(tag, `tags[${index}]`)));
  return changeOwnedSession(em, actor, input.id, 'sessions.untag', (session) => {
    const removed = session.tags.filter((tag) => unwanted.has(tag));
    if (removed.length === 0) return null;
    session.tags = session.tags.filter((tag) => !unwanted.has(tag));
    return { removed };
  });
}

export async function pinSession(em: EntityManager, actor: Actor, id: string): Promise<TSession> {
  return changeOwnedSession(em, actor, id, 'sessions.pin', (session) => {
    if (session.pinnedAt) return null;
    session.pinnedAt = new Date();
    return {};
  });
}

export async function unpinSession(em: EntityManager, actor: Actor, id: string): Promise<TSession> {
  return changeOwnedSession(em, actor, id, 'sessions.unpin', (session) => {
    if (!session.pinnedAt) return null;
    session.pinnedAt = null;
    return {};
  });
}

/** The owner's tags on live sessions with how many sessions carry each, most used first. */
export async function sessionTags(
  em: EntityManager,
  owner: Owner,
  input: TSessionTagsInput,
): Promise<TSessionTagsOutput> {
  const { values, bind } = bindings();
  const rows = await query<{ tag: string; sessions: number }>(
    em,
    `select t.tag, count(*)::int as sessions
       from chat_sessions s cross join unnest(s.tags) as t(tag)
      where ${ownedBy('s', owner, bind)} and s.deleted_at is null and cardinality(s.tags) > 0
      group by t.tag
      order by sessions desc, t.tag
      limit ${bind(input.limit ?? 1_000)}`,
    values,
  );
  return { items: rows };
}
