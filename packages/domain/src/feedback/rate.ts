import type { ContentLimits, TRateMessageInput, TRateMessageOutput, TRating } from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import { notFound } from '../errors.ts';
import { auditInsert, bindings, ownedBy, query } from '../messages/sql.ts';
import { ownerOf, type Actor } from '../principal.ts';
import { cleanText } from '../sessions/content.ts';

interface RatingRow {
  message_id: string;
  value: TRating['value'];
  reason: string | null;
  comment: string | null;
  created_at: string;
  updated_at: string;
}

const RATING_COLUMNS = `r.message_id, r.value, r.reason, r.comment,
  to_char(r.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at,
  to_char(r.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as updated_at`;

/**
 * Rates a visible message of a session of the actor's, up or down, replacing an earlier rating;
 * `value: null` removes it. One statement each way, with its audit row (the value and reason,
 * never the comment: the audit log holds no content). NOT_FOUND for anyone else's message.
 */
export async function rateMessage(
  em: EntityManager,
  actor: Actor,
  input: TRateMessageInput,
  limits: ContentLimits,
): Promise<TRateMessageOutput> {
  const comment = cleanText(input.comment, 'comment', limits) ?? null;
  const { values, bind } = bindings();
  const target = `
       select m.id, m.session_id
         from chat_messages m
         join chat_sessions s on s.id = m.session_id
        where m.id = ${bind(input.messageId)} and m.deleted_at is null and s.deleted_at is null
          and ${ownedBy('s', ownerOf(actor.principal), bind)}`;
  // The upsert on the unique message_id makes two concurrent ratings of one message end as one
  // row (the later one), never as a duplicate or a unique-violation 500.
  const change =
    input.value === null
      ? `delete from message_ratings r using target where r.message_id = target.id returning ${RATING_COLUMNS}`
      : `insert into message_ratings as r (session_id, message_id, value, reason, comment)
         select target.session_id, target.id, ${bind(input.value)}, ${bind(input.reason ?? null)}, ${bind(comment)}
           from target
         on conflict on constraint message_ratings_message_id_unique
         do update set value = excluded.value, reason = excluded.reason, comment = excluded.comment,
                       updated_at = now()
         returning ${RATING_COLUMNS}`;
  const rows = await query<RatingRow & { found: boolean }>(
    em,
    `with target as (${target}), changed as (${change}), audit as (
       ${auditInsert(actor, 'messages.rate', bind, {
         subjectType: 'message',
         subjectId: 'target.id::text',
         details: `jsonb_build_object('sessionId', target.session_id, 'value', ${bind(input.value)}::text,
                   'reason', ${bind(input.reason ?? null)}::text)`,
         from: 'target',
       })}
     )
     select exists (select from target) as found, changed.* from (select 1) one left join changed on true`,
    values,
  );
  const [row] = rows;
  if (row?.found !== true) throw notFound('message');
  if (input.value === null || row.message_id === null) return { rating: null };
  return {
    rating: {
      messageId: row.message_id,
      value: row.value,
      reason: row.reason,
      comment: row.comment,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    },
  };
}
