import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@threadstore/db';
import { claimAnonymousSessions } from '../identity/claim-anonymous.ts';
import { query } from '../messages/sql.ts';
import type { Principal } from '../principal.ts';
import { actorFor, createTestUser } from './index.ts';

export interface SeededAccount {
  userId: string;
  email: string;
  username: string;
  principal: Extract<Principal, { kind: 'user' }>;
  /** The anonymous id the user claimed (and later used again, anonymously). */
  anonymousId: string;
  apiKeyId: string;
}

/**
 * A user with something in every kind of table a user can own: projects, sessions with messages
 * (one edited, with its earlier version; one claimed from an anonymous visit, one still anonymous
 * under that claimed id), memories with
 * a superseded version, knowledge, an investigation, academy progress, an API key with its own
 * audit rows, a retention policy, and audit rows about the user written by someone else.
 */
export async function seedAccount(
  em: EntityManager,
  { messages = 20, name = `acct-${randomUUID().slice(0, 8)}` }: { messages?: number; name?: string } = {},
): Promise<SeededAccount> {
  const { userId, principal } = await createTestUser(em.fork(), { name });
  const email = `${name}@example.test`;
  const username = `${name}-login`;
  const anonymousId = randomUUID();
  const run = <Row>(sql: string, parameters: unknown[]) => query<Row>(em, sql, parameters);

  await run(`update users set username = $2 where id = $1`, [userId, username]);
  const [project] = await run<{ id: string }>(
    `insert into projects (owner_id, name, description, settings) values ($1, $2, 'notes', '{"tone":"dry"}') returning id`,
    [userId, `${name} project`],
  );
  const [session] = await run<{ id: string }>(
    `insert into chat_sessions (user_id, project_id, title, client_key, metadata, last_seq, message_count)
     values ($1, $2, 'first chat', 'main', '{"from":"seed"}', $3, $3) returning id`,
    [userId, project!.id, messages],
  );
  await run(
    `insert into chat_messages (session_id, seq, role, content, metadata, citations, model, prompt_tokens, cost)
     select $1, seq, case when seq % 2 = 1 then 'user' else 'assistant' end, 'message ' || seq || ' of ' || $3,
            jsonb_build_object('n', seq), jsonb_build_array(jsonb_build_object('url', 'https://x.test/' || seq)),
            'gpt-test', seq, 0.0001 * seq
       from generate_series(1, $2) seq`,
    [session!.id, messages, name],
  );
  await run(
    `update chat_messages set parent_id = (select id from chat_messages where session_id = $1 and seq = 1)
              where session_id = $1 and seq = 2`,
    [session!.id],
  );
  // The first message was edited once (messages.edit): its first version is kept aside.
  await run(
    `with kept as (
       insert into chat_message_versions (session_id, message_id, version, content, metadata, replaced_by_type, replaced_by_id)
       select session_id, id, 1, 'before the edit, by ' || $2, metadata, 'user', $3
         from chat_messages where session_id = $1 and seq = 1
       returning message_id)
     update chat_messages m set version = 2, edited_at = now() from kept where m.id = kept.message_id`,
    [session!.id, name, userId],
  );

  // What a chat user does with a conversation: tags and pins it, shares it, rates an answer, and
  // clears a chapter they may still undo.
  await run(`update chat_sessions set tags = '{work,seed}', pinned_at = now() where id = $1`, [session!.id]);
  await run(
    `insert into session_shares (session_id, token_hash, mode, up_to_seq) values ($1, encode(sha256($2::bytea), 'hex'), 'snapshot', $3)`,
    [session!.id, `token-${randomUUID()}`, messages],
  );
  await run(
    `insert into message_ratings (session_id, message_id, value, reason, comment)
     select session_id, id, 'up', 'great', 'rated by ' || $2 from chat_messages where session_id = $1 and seq = 2`,
    [session!.id, name],
  );
  await run(`insert into message_clears (session_id, chapter, cleared_at, cleared) values ($1, 'old', now(), 0)`, [
    session!.id,
  ]);

  // An anonymous visit, claimed on sign-in; then the same browser chats anonymously again.
  const anonymousSession = await run<{ id: string }>(
    `insert into chat_sessions (anonymous_id, title, last_seq, message_count) values ($1, 'before sign-in', 1, 1) returning id`,
    [anonymousId],
  );
  await run(`insert into chat_messages (session_id, seq, role, content) values ($1, 1, 'user', 'hi from anon')`, [
    anonymousSession[0]!.id,
  ]);
  await claimAnonymousSessions(em.fork(), actorFor(principal), userId, anonymousId);
  await run(`insert into chat_sessions (anonymous_id, title) values ($1, 'after sign-in, signed out')`, [anonymousId]);

  const [newer] = await run<{ id: string }>(
    `insert into memories (user_id, kind, content, importance) values ($1, 'long_term', 'likes tea', 0.9) returning id`,
    [userId],
  );
  await run(
    `insert into memories (user_id, kind, content, superseded_by_id, source_message_id)
     values ($1, 'long_term', 'likes coffee', $2, (select id from chat_messages where session_id = $3 and seq = 1))`,
    [userId, newer!.id, session!.id],
  );
  await run(
    `insert into knowledge_entries (owner_id, project_id, title, content, source_type)
     values ($1, $2, 'How we ship', '# Ship it\nOn Tuesdays.', 'text')`,
    [userId, project!.id],
  );
  await run(`insert into investigations (owner_id, session_id, title, query) values ($1, $2, 'why', 'what happened')`, [
    userId,
    session!.id,
  ]);
  await run(`insert into academy_users (user_id, total_xp) values ($1, 10)`, [userId]);
  await run(`insert into academy_xp_transactions (user_id, amount, reason, source_ref) values ($1, 10, 'lesson', $2)`, [
    userId,
    `lesson-${name}`,
  ]);
  const [key] = await run<{ id: string }>(
    `insert into api_keys (user_id, name, key_prefix, key_hash, scopes) values ($1, 'agent', 'ts_abc', $2, '{read,write}') returning id`,
    [userId, `hash-${randomUUID()}`],
  );
  await run(
    `insert into audit_log (actor_type, actor_id, action, subject_type, subject_id, details)
     values ('api_key', $1, 'messages.append', 'session', $2, '{}'),
            ('anonymous', $3, 'sessions.create', 'session', $2, '{}'),
            ('user', $4, 'sessions.update', 'session', $2, jsonb_build_object('title', 'first chat')),
            ('user', $5, 'admin.note', 'user', $4, jsonb_build_object('about', $6::text))`,
    [key!.id, session!.id, anonymousId, userId, randomUUID(), email],
  );
  await run(
    `insert into retention_policies (scope, user_id, target, keep_for_days) values ('user', $1, 'episodic_memories', 7)`,
    [userId],
  );
  return { userId, email, username, principal, anonymousId, apiKeyId: key!.id };
}

/**
 * Every row, in every table of every schema (found from the catalog, so tables added later and
 * pg-boss's job tables count too), whose text form contains one of `needles`.
 */
export async function rowsMentioning(
  em: EntityManager,
  needles: readonly string[],
): Promise<{ table: string; rows: number }[]> {
  const tables = await query<{ name: string }>(
    em,
    `select format('%I.%I', n.nspname, c.relname) as name
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
      order by 1`,
    [],
  );
  const patterns = needles.map((needle) => `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  const found: { table: string; rows: number }[] = [];
  for (const { name } of tables) {
    const [row] = await query<{ rows: number }>(
      em,
      `select count(*)::int as rows from ${name} t where t::text like any($1::text[])`,
      [patterns],
    );
    if (row!.rows > 0) found.push({ table: name, rows: row!.rows });
  }
  return found;
}
