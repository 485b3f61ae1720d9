/*
 * The academy's SQL that bypasses the ORM, each statement with bound parameters ($n).
 *
 * - Awards are one INSERT … ON CONFLICT DO NOTHING on the ledger's unique (user_id, source_ref): a
 *   retried or concurrent award of the same event inserts at most one row, whatever the timing,
 *   without a read-then-write race. The audit row rides in the same statement.
 * - Leaderboards read the (total_xp, user_id) and (week, xp, user_id) indexes backwards: a page is
 *   an index range after the cursor's (xp, user id), never an OFFSET, so page 1,000 costs what
 *   page 1 does and a learner moving between two page loads is neither skipped twice nor lost.
 * - A rank is competition ranking: 1 + the learners with strictly more XP, so learners tied in XP
 *   share a rank, and a tie is listed in the same (user id) order every time.
 */
import { bindings, query, type Bind } from '../messages/sql.ts';
import { auditInsert } from '../messages/sql.ts';
import type { Actor } from '../principal.ts';
import type { EntityManager } from '@threadstore/db';

export interface LedgerRow {
  id: string;
  amount: number;
  reason: string;
  source_ref: string;
  created_at: Date;
}

/**
 * Inserts one ledger row unless the learner already has one for `sourceRef`; the row that is
 * there afterwards (new or old) and whether this call inserted it. The audit row is written only
 * with a new ledger row.
 */
export async function insertLedgerRow(
  em: EntityManager,
  actor: Actor,
  row: { userId: string; amount: number; reason: string; sourceRef: string; metadata: Record<string, unknown> },
  action: string,
): Promise<{ row: LedgerRow; inserted: boolean }> {
  const award = awardStatement(actor, row, action);
  const [inserted] = await query<LedgerRow>(em, award.text, award.values);
  if (inserted !== undefined) return { row: inserted, inserted: true };
  // The conflicting row committed before our insert gave up on it, so this read sees it.
  const [existing] = await query<LedgerRow>(
    em,
    `select id::text as id, amount, reason, source_ref, created_at
       from academy_xp_transactions where user_id = $1 and source_ref = $2`,
    [row.userId, row.sourceRef],
  );
  return { row: existing!, inserted: false };
}

/** A statement's text and its bound values: what the API runs, and the benchmark's bare baseline too. */
export interface Statement {
  text: string;
  values: unknown[];
}

/** The award's INSERT … ON CONFLICT DO NOTHING with its audit row; returns the new row, or none. */
export function awardStatement(
  actor: Actor,
  row: { userId: string; amount: number; reason: string; sourceRef: string; metadata: Record<string, unknown> },
  action: string,
): Statement {
  const { values, bind } = bindings();
  const text = `with paid as (
       insert into academy_xp_transactions (user_id, amount, reason, source_ref, metadata)
       values (${bind(row.userId)}, ${bind(row.amount)}, ${bind(row.reason)}, ${bind(row.sourceRef)}, ${bind(JSON.stringify(row.metadata))}::jsonb)
       on conflict (user_id, source_ref) do nothing
       returning id, user_id, amount, reason, source_ref, created_at
     ),
     audited as (
       ${auditInsert(actor, action, bind, {
         subjectType: 'user',
         subjectId: 'paid.user_id::text',
         details: `jsonb_build_object('transactionId', paid.id::text, 'amount', paid.amount, 'reason', paid.reason, 'sourceRef', paid.source_ref)`,
         from: 'paid',
       })}
     )
     select id::text as id, amount, reason, source_ref, created_at from paid`;
  return { text, values };
}

export interface BoardRow {
  user_id: string;
  display_name: string | null;
  level: number;
  xp: string;
}

/** Which board a statement reads: its rows as (user_id, xp, display_name, level) and its filter. */
function board(period: 'allTime' | 'week', bind: Bind, week: string | null): { from: string; xp: string } {
  if (period === 'allTime') {
    return {
      from: `(select user_id, total_xp as xp, display_name, level from academy_users) b`,
      xp: 'b.xp',
    };
  }
  return {
    from: `(select w.user_id, w.xp, u.display_name, coalesce(u.level, 1) as level
              from academy_weekly_xp w left join academy_users u using (user_id)
             where w.week = ${bind(week)}::date) b`,
    xp: 'b.xp',
  };
}

type Period = 'allTime' | 'week';
const BOARD_COLUMNS = `b.user_id::text as user_id, b.display_name, b.level, b.xp::text as xp`;

/** The next `limit` learners after `after` (xp, user id) in board order, or the first ones. */
export function boardPageStatement(
  period: Period,
  week: string | null,
  after: { xp: string; userId: string } | null,
  limit: number,
): Statement {
  const { values, bind } = bindings();
  const { from } = board(period, bind, week);
  const where =
    after === null ? '' : `where (b.xp, b.user_id) < (${bind(after.xp)}::bigint, ${bind(after.userId)}::uuid)`;
  const text = `select ${BOARD_COLUMNS} from ${from} ${where} order by b.xp desc, b.user_id desc limit ${bind(limit)}`;
  return { text, values };
}

/** The learner's row on the board, or none. */
export function boardRowStatement(period: Period, week: string | null, userId: string): Statement {
  const { values, bind } = bindings();
  const { from } = board(period, bind, week);
  return { text: `select ${BOARD_COLUMNS} from ${from} where b.user_id = ${bind(userId)}`, values };
}

/** Up to `limit` learners just ahead of (or behind) the position (xp, user id), nearest first. */
export function boardNeighboursStatement(
  period: Period,
  week: string | null,
  at: { xp: string; userId: string },
  side: 'ahead' | 'behind',
  limit: number,
): Statement {
  const { values, bind } = bindings();
  const { from } = board(period, bind, week);
  const [compare, order] = side === 'ahead' ? ['>', 'asc'] : ['<', 'desc'];
  const text = `select ${BOARD_COLUMNS} from ${from}
      where (b.xp, b.user_id) ${compare} (${bind(at.xp)}::bigint, ${bind(at.userId)}::uuid)
      order by b.xp ${order}, b.user_id ${order} limit ${bind(limit)}`;
  return { text, values };
}

/**
 * Competition rank of each XP value: 1 + the learners on the board with more XP. One index-only
 * scan of the board above the smallest value, grouped by XP, serves every value at once (a rank
 * with its neighbours asks for up to five), instead of one count per value.
 */
export function ranksStatement(period: Period, week: string | null, xps: readonly string[]): Statement {
  const { values, bind } = bindings();
  const wanted = bind([...new Set(xps)]);
  const above =
    period === 'allTime'
      ? `select a.total_xp as xp, count(*) as n from academy_users a
          where a.total_xp > (select min(x) from unnest(${wanted}::bigint[]) x) group by a.total_xp`
      : `select w.xp, count(*) as n from academy_weekly_xp w
          where w.week = ${bind(week)}::date and w.xp > (select min(x) from unnest(${wanted}::bigint[]) x)
          group by w.xp`;
  const text = `select v.xp::text as xp, 1 + coalesce(sum(c.n) filter (where c.xp > v.xp), 0) as rank
       from unnest(${wanted}::bigint[]) as v(xp) left join (${above}) c on c.xp > v.xp
      group by v.xp`;
  return { text, values };
}

const run = <Row>(em: EntityManager, statement: Statement) => query<Row>(em, statement.text, statement.values);

export const boardPage = (em: EntityManager, ...args: Parameters<typeof boardPageStatement>) =>
  run<BoardRow>(em, boardPageStatement(...args));

export const boardRowOf = async (em: EntityManager, ...args: Parameters<typeof boardRowStatement>) =>
  (await run<BoardRow>(em, boardRowStatement(...args)))[0];

export const boardNeighbours = (em: EntityManager, ...args: Parameters<typeof boardNeighboursStatement>) =>
  run<BoardRow>(em, boardNeighboursStatement(...args));

export async function ranksOf(
  em: EntityManager,
  ...args: Parameters<typeof ranksStatement>
): Promise<Map<string, number>> {
  if (args[2].length === 0) return new Map();
  const rows = await run<{ xp: string; rank: string }>(em, ranksStatement(...args));
  return new Map(rows.map((row) => [row.xp, Number(row.rank)]));
}
