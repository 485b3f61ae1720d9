import type { ContentLimits, TMessage, TMessageThread, TMessageThreadInput } from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import { notFound } from '../errors.ts';
import { pageSize } from '../paging.ts';
import type { Owner } from '../principal.ts';
import { MESSAGE_COLUMNS, toMessage, type MessageRow } from './rows.ts';
import { bindings, ownedBy, query } from './sql.ts';

/** A visible message of a visible session of `owner`'s; NOT_FOUND otherwise. */
export async function getMessage(em: EntityManager, owner: Owner, id: string): Promise<TMessage> {
  const { values, bind } = bindings();
  const [row] = await query<MessageRow>(
    em,
    `select ${MESSAGE_COLUMNS}
       from chat_messages m
       join chat_sessions s on s.id = m.session_id
      where m.id = ${bind(id)} and m.deleted_at is null and s.deleted_at is null and ${ownedBy('s', owner, bind)}`,
    values,
  );
  if (row === undefined) throw notFound('message');
  return toMessage(row);
}

/**
 * The path from the root of a branched conversation down to message `id`, following `parentId`
 * within the message's session, oldest first. The walk takes at most `limit` steps (default and
 * cap `maxPageSize`), so a long chain cannot make one call unbounded; `truncated` says it stopped
 * short of the root. Deleted ancestors are walked through but not returned.
 */
export async function messageThread(
  em: EntityManager,
  owner: Owner,
  input: TMessageThreadInput,
  limits: ContentLimits,
): Promise<TMessageThread> {
  const limit = pageSize(input.limit ?? limits.maxPageSize, limits);
  const { values, bind } = bindings();
  const steps = bind(limit);
  const rows = await query<MessageRow & { truncated: boolean }>(
    em,
    `with recursive path (id, parent_id, session_id, step) as (
       select m.id, m.parent_id, m.session_id, 1
         from chat_messages m
         join chat_sessions s on s.id = m.session_id
        where m.id = ${bind(input.id)} and m.deleted_at is null and s.deleted_at is null and ${ownedBy('s', owner, bind)}
       union all
       select m.id, m.parent_id, m.session_id, path.step + 1
         from path
         join chat_messages m on m.id = path.parent_id and m.session_id = path.session_id
        where path.step < ${steps}
     )
     select ${MESSAGE_COLUMNS},
            exists (select from path
                      join chat_messages m on m.id = path.parent_id and m.session_id = path.session_id
                     where path.step = ${steps}) as truncated
       from path
       join chat_messages m on m.id = path.id
      where m.deleted_at is null
      order by m.seq`,
    values,
  );
  const [first] = rows;
  if (first === undefined) throw notFound('message');
  return { items: rows.map(toMessage), truncated: first.truncated };
}
