import type {
  ContentLimits,
  TEditMessageInput,
  TMessage,
  TMessagePart,
  TMessageVersion,
  TMessageVersionsOutput,
} from '@threadstore/contract';
import { uuidv7, type EntityManager } from '@threadstore/db';
import { prepareJson } from '../content/limits.ts';
import { DomainError, notFound } from '../errors.ts';
import { auditActorOf, ownerOf, type Actor, type Owner } from '../principal.ts';
import { prepareContent } from './parts.ts';
import { MESSAGE_COLUMNS, toMessage, UTC_ISO, type MessageRow } from './rows.ts';
import { auditInsert, bindings, ownedBy, query, type Bind } from './sql.ts';

/** The row an edit locks: what it must copy into the versions table and check against. */
interface LockedMessage {
  id: string;
  version: number;
  generation_status: string | null;
}

/** The condition "message `m` is visible, in a visible session of `owner`'s". */
function visibleMessage(id: string, owner: Owner, bind: Bind): string {
  return `m.id = ${bind(id)} and m.deleted_at is null and s.deleted_at is null and ${ownedBy('s', owner, bind)}`;
}

/**
 * Changes a visible message's content (text or parts) and/or metadata and returns it as it is
 * now, one version further. The version it replaces goes to chat_message_versions with who
 * replaced it and when; the audit row names the versions and the fields changed (never their
 * text); a content change queues the message for the search indexer, which replaces its entry,
 * so search finds the new text and stops finding the old one.
 *
 * Everything is checked before anything is locked or written (BAD_REQUEST, nothing stored). The
 * message's row is locked for the edit, so concurrent edits queue and each replaces the version
 * the previous one made; with `expectedVersion`, a stale editor gets CONFLICT instead. NOT_FOUND
 * for a message that is not the actor's, or is deleted; CONFLICT for an answer still being
 * generated (the conversation loop is writing it).
 */
export async function editMessage(
  em: EntityManager,
  actor: Actor,
  input: TEditMessageInput,
  limits: ContentLimits,
): Promise<TMessage> {
  const content = input.content === undefined ? null : prepareContent(input.content, limits, 'content');
  const metadata = input.metadata === undefined ? null : prepareJson(input.metadata, limits, 'metadata');
  const owner = ownerOf(actor.principal);
  return em.transactional(async (tx) => {
    const lock = bindings();
    const [current] = await query<LockedMessage>(
      tx,
      `select m.id, m.version, m.generation_status
         from chat_messages m join chat_sessions s on s.id = m.session_id
        where ${visibleMessage(input.id, owner, lock.bind)}
          for update of m`,
      lock.values,
    );
    if (current === undefined) throw notFound('message');
    if (input.expectedVersion !== undefined && input.expectedVersion !== current.version) {
      throw new DomainError(
        'CONFLICT',
        `the message is at version ${current.version}, not ${input.expectedVersion}: read it again and redo the edit`,
        { version: current.version, expectedVersion: input.expectedVersion },
      );
    }
    if (current.generation_status === 'generating') {
      throw new DomainError('CONFLICT', 'this answer is still being generated; edit it once it is finished', {
        generationStatus: current.generation_status,
      });
    }

    const { values, bind } = bindings();
    const { actorType, actorId } = auditActorOf(actor.principal);
    const message = bind(current.id);
    const sets = [
      ...(content === null ? [] : [`content = ${bind(content.content)}`, `parts = ${bind(content.parts)}::json`]),
      ...(metadata === null ? [] : [`metadata = ${bind(metadata.json)}::jsonb`]),
      // The flag also covers citations and tool calls, which an edit keeps: once set, it stays.
      `sanitized = m.sanitized or ${bind(content?.sanitized === true || metadata?.sanitized === true)}`,
      'version = m.version + 1',
      'edited_at = now()',
    ];
    const changed = [...(content === null ? [] : ['content']), ...(metadata === null ? [] : ['metadata'])];
    // One statement after the lock: every CTE reads the row as it was before the UPDATE (one
    // snapshot), so `saved` keeps exactly the version `edited` replaces, and the version row,
    // the change, the search queue entry and the audit row commit together or not at all.
    const [row] = await query<MessageRow>(
      tx,
      `with saved as (
         insert into chat_message_versions (id, session_id, message_id, version, content, parts, metadata, sanitized,
                                            replaced_by_type, replaced_by_id)
         select ${bind(uuidv7())}, m.session_id, m.id, m.version, m.content, m.parts, m.metadata, m.sanitized,
                ${bind(actorType)}, ${bind(actorId)}
           from chat_messages m where m.id = ${message}
       ), edited as (
         update chat_messages m set ${sets.join(', ')}
          where m.id = ${message}
         returning ${MESSAGE_COLUMNS}
       )${
         content === null
           ? ''
           : `, queued as (
         -- The indexer replaces the message's entry (on conflict … do update): old text leaves the index.
         -- An imported message still queued with its import's backlog is moved to the front: an
         -- edit is someone's writing now. DO UPDATE, not DO NOTHING, also when nothing changes: it
         -- locks the queued row, so if an indexer batch holds it (and read the old text), the edit
         -- waits for that batch, finds the row gone and queues the id again.
         insert into chat_message_search_queue as q (message_id) select id from edited
         on conflict (message_id) do update set bulk = false where q.bulk
       )`
       }, audit as (
         ${auditInsert(actor, 'messages.edit', bind, {
           subjectType: 'message',
           subjectId: 'edited.id::text',
           details: `jsonb_build_object('sessionId', edited.session_id, 'seq', edited.seq,
                       'fromVersion', edited.version - 1, 'toVersion', edited.version,
                       'changed', ${bind(JSON.stringify(changed))}::jsonb)`,
           from: 'edited',
         })}
       )
       select * from edited`,
      values,
    );
    return toMessage(row!);
  });
}

interface VersionRow {
  version: number;
  content: string;
  parts: TMessagePart[] | null;
  metadata: Record<string, unknown>;
  sanitized: boolean;
  current: boolean;
  replaced_by_type: string | null;
  replaced_by_id: string | null;
  replaced_at: string | null;
  message_created_at: string;
}

/**
 * Every version of a visible message of `owner`'s, oldest first: the stored earlier ones and the
 * current one. Version k's author and time are those of the edit that replaced version k - 1
 * (version 1's are the append's: its time, and no editor). NOT_FOUND like `getMessage`.
 */
export async function messageVersions(em: EntityManager, owner: Owner, id: string): Promise<TMessageVersionsOutput> {
  const { values, bind } = bindings();
  const rows = await query<VersionRow>(
    em,
    `with target as (
       select m.id, m.session_id, m.version, m.content, m.parts, m.metadata, m.sanitized, m.created_at
         from chat_messages m join chat_sessions s on s.id = m.session_id
        where ${visibleMessage(id, owner, bind)}
     )
     select v.version, v.content, v.parts, v.metadata, v.sanitized, false as current, v.replaced_by_type,
            v.replaced_by_id, to_char(v.replaced_at at time zone 'UTC', ${UTC_ISO}) as replaced_at,
            to_char(t.created_at at time zone 'UTC', ${UTC_ISO}) as message_created_at
       from target t join chat_message_versions v on v.message_id = t.id and v.session_id = t.session_id
      where v.version < t.version
     union all
     select t.version, t.content, t.parts, t.metadata, t.sanitized, true, null, null, null,
            to_char(t.created_at at time zone 'UTC', ${UTC_ISO})
       from target t
     order by 1`,
    values,
  );
  if (rows.length === 0) throw notFound('message');
  return {
    items: rows.map((row, index): TMessageVersion => {
      const before = index === 0 ? undefined : rows[index - 1];
      return {
        version: row.version,
        content: row.content,
        parts: row.parts,
        metadata: row.metadata,
        sanitized: row.sanitized,
        createdAt: before?.replaced_at ?? row.message_created_at,
        editedBy:
          before?.replaced_by_type == null || before.replaced_by_id == null
            ? null
            : { actorType: before.replaced_by_type, actorId: before.replaced_by_id },
        current: row.current,
      };
    }),
  };
}
