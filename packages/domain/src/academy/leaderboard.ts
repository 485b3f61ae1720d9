import { createHash } from 'node:crypto';
import type {
  ContentLimits,
  TLeaderboardEntry,
  TLeaderboardInput,
  TLeaderboardPage,
  TLeaderboardPeriod,
  TRankInput,
  TRankOutput,
} from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import * as z from 'zod';
import { DomainError } from '../errors.ts';
import { pageSize } from '../paging.ts';
import type { Actor } from '../principal.ts';
import { learnerOf } from './profile.ts';
import { boardNeighbours, boardPage, boardRowOf, ranksOf, type BoardRow } from './sql.ts';

/*
 * Leaderboards: all-time by total XP, and the current UTC week (from Monday) by the week's net
 * XP, both as the xp-rollup last folded them. Order: XP descending, ties by learner id
 * (descending), the same every time. Rank: competition ranking (learners tied in XP share it).
 * Entries carry display names only, never user ids; `isYou` marks the caller.
 */

/** The Monday (UTC) of the week `now` is in, as YYYY-MM-DD. */
export function currentWeek(now: Date = new Date()): string {
  const day = Math.floor(now.getTime() / 86_400_000);
  return new Date((day - ((day + 3) % 7)) * 86_400_000).toISOString().slice(0, 10);
}

function toEntry(row: BoardRow, rank: number, me: string): TLeaderboardEntry {
  return { rank, displayName: row.display_name, level: row.level, xp: Number(row.xp), isYou: row.user_id === me };
}

interface Position {
  xp: string;
  userId: string;
  rank: number;
  /** How many entries came before, through this one: a tie continuing on the next page keeps its rank. */
  index: number;
}

const ZCursorBody = z.object({
  x: z.string().regex(/^-?\d+$/),
  u: z.uuid(),
  r: z.number().int().positive(),
  i: z.number().int().positive(),
  d: z.string(),
});

const digest = (binding: string, p: Omit<Position, never>) =>
  createHash('sha256')
    .update(JSON.stringify([binding, p.xp, p.userId, p.rank, p.index]))
    .digest('base64url')
    .slice(0, 22);

function encodeCursor(position: Position, binding: string): string {
  const body = {
    x: position.xp,
    u: position.userId,
    r: position.rank,
    i: position.index,
    d: digest(binding, position),
  };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

function decodeCursor(cursor: string, binding: string): Position {
  let body: unknown = null;
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    // falls through to the refusal below
  }
  const parsed = ZCursorBody.safeParse(body);
  const position = parsed.success
    ? { xp: parsed.data.x, userId: parsed.data.u, rank: parsed.data.r, index: parsed.data.i }
    : null;
  if (position === null || parsed.data!.d !== digest(binding, position)) {
    throw new DomainError(
      'BAD_REQUEST',
      'this cursor does not belong to this leaderboard: pass back the nextCursor of the previous page, with the same period',
      { field: 'cursor' },
    );
  }
  return position;
}

/** A page of the board, keyset-paged; ranks continue across pages. */
export async function leaderboard(
  em: EntityManager,
  actor: Actor,
  input: TLeaderboardInput,
  limits: ContentLimits,
): Promise<TLeaderboardPage> {
  const me = learnerOf(actor);
  const period: TLeaderboardPeriod = input.period;
  const week = period === 'week' ? currentWeek() : null;
  const limit = pageSize(input.limit, limits);
  const binding = JSON.stringify([period, week]);
  const after = input.cursor === undefined ? null : decodeCursor(input.cursor, binding);
  const rows = await boardPage(em, period, week, after, limit + 1);
  const page = rows.slice(0, limit);
  // Only the first entry's rank needs counting; the rest follow from it (a new XP value starts at
  // its 1-based position, a tie keeps the rank before it).
  let previous: { xp: string; rank: number } | null = after;
  let index = after?.index ?? 0;
  let firstRank: number | undefined;
  if (page.length > 0 && (previous === null || previous.xp !== page[0]!.xp)) {
    firstRank = (await ranksOf(em, period, week, [page[0]!.xp])).get(page[0]!.xp);
  }
  const items = page.map((row, n) => {
    index += 1;
    const rank =
      previous !== null && previous.xp === row.xp
        ? previous.rank
        : n === 0 && firstRank !== undefined
          ? firstRank
          : index;
    previous = { xp: row.xp, rank };
    return toEntry(row, rank, me);
  });
  const last = page.at(-1);
  return {
    period,
    week,
    items,
    nextCursor:
      rows.length > limit && last !== undefined
        ? encodeCursor({ xp: last.xp, userId: last.user_id, rank: previous!.rank, index }, binding)
        : null,
  };
}

/** The caller's rank on the board and the learners just ahead of and behind them. */
export async function leaderboardRank(em: EntityManager, actor: Actor, input: TRankInput): Promise<TRankOutput> {
  const me = learnerOf(actor);
  const period: TLeaderboardPeriod = input.period;
  const week = period === 'week' ? currentWeek() : null;
  const mine = await boardRowOf(em, period, week, me);
  if (mine === undefined) return { period, week, you: null, around: [] };
  const at = { xp: mine.xp, userId: me };
  const [ahead, behind] =
    input.neighbours === 0
      ? [[], []]
      : await Promise.all([
          boardNeighbours(em, period, week, at, 'ahead', input.neighbours),
          boardNeighbours(em, period, week, at, 'behind', input.neighbours),
        ]);
  const rows = [...ahead.reverse(), mine, ...behind];
  const ranks = await ranksOf(
    em,
    period,
    week,
    rows.map((row) => row.xp),
  );
  const around = rows.map((row) => toEntry(row, ranks.get(row.xp)!, me));
  return { period, week, you: around.find((entry) => entry.isYou)!, around };
}
