import { ZMemoriesContextInput, type TMemoriesContext, type TMemoriesContextInput } from '@threadstore/contract';
import type { EntityManager } from '@threadstore/db';
import type * as z from 'zod';
import { DomainError } from '../errors.ts';
import { tsQueryByLanguage } from '../knowledge/sql.ts';
import { bindings, query } from '../messages/sql.ts';
import type { Principal } from '../principal.ts';
import { anyWordTsQueryText } from '../search/query.ts';
import { MEMORY_COLUMNS, toMemoryDto, type MemoryRow } from './sql.ts';

/**
 * How a memory is scored for a prompt: relevance (cover density of the query's words in it, one
 * word 0.39, two 0.63, approaching 1), importance (0–1) and recency (halving every 30 days since this version was written),
 * weighted so that relevance leads and importance breaks ties between equally relevant ones.
 */
const SCORE_WEIGHTS = { relevance: 0.6, importance: 0.25, recency: 0.15 } as const;

/**
 * The best memories of the caller for a prompt about to be sent: current and unexpired, the
 * user's general ones plus those of `projectId` and of `agent`, ranked by relevance to `query`,
 * importance and recency, at most `limit`, and within `tokenBudget` (4 characters a token) when
 * given: the best ones that fit, in order, stopping at the first that does not.
 *
 * Called on every conversation turn, so it is one statement over one index: the partial index
 * on (user_id, …) where valid_to is null holds only a user's current memories, which are scored
 * and cut in the same query. Anonymous visitors have no memories: their context is empty.
 */
export async function memoriesContext(
  em: EntityManager,
  principal: Principal,
  options: TMemoriesContextInput,
): Promise<TMemoriesContext> {
  if (principal.kind === 'anonymous') return { items: [], tokens: 0 };
  // A prompt longer than the API accepts still gets a context: its beginning is matched.
  const parsed = ZMemoriesContextInput.safeParse({ ...options, query: options.query?.slice(0, 10_000) });
  if (!parsed.success)
    throw new DomainError('BAD_REQUEST', parsed.error.issues.map((issue) => issue.message).join('; '));
  const statement = memoriesContextStatement(principal.userId, parsed.data);
  const rows = await query<ContextRow>(em, statement.text, statement.values);
  return contextOf(rows);
}

export type ContextRow = MemoryRow & { score: number; tokens: number };

export function contextOf(rows: ContextRow[]): TMemoriesContext {
  return {
    items: rows.map((row) => ({ memory: toMemoryDto(row), score: Number(row.score) })),
    tokens: rows.reduce((sum, row) => sum + Number(row.tokens), 0),
  };
}

/** The one statement of memoriesContext (also run by the benchmark's bare-pg baseline). */
export function memoriesContextStatement(
  userId: string,
  input: z.output<typeof ZMemoriesContextInput>,
): { text: string; values: unknown[] } {
  const queryText = anyWordTsQueryText(input.query);
  const { values, bind } = bindings();
  // Cover density is computed only for memories that share a word with the prompt (`@@`, a cheap
  // test): it costs several times ts_rank, and is 0 for the rest, which are most of them.
  const tsquery = queryText === '' ? '' : tsQueryByLanguage('m.language', bind, queryText);
  const relevance =
    queryText === ''
      ? '0'
      : `case when m.search_vector @@ ${tsquery} then 1 - exp(-5 * ts_rank_cd(m.search_vector, ${tsquery})) else 0 end`;
  const text = `select * from (
       select scored.*, sum(scored.tokens) over (order by scored.score desc, scored.id) as running_tokens
         from (
           select ${MEMORY_COLUMNS}, ceil(length(m.content) / 4.0)::int as tokens,
                  ${SCORE_WEIGHTS.relevance} * (${relevance})
                  + ${SCORE_WEIGHTS.importance} * m.importance::float8
                  + ${SCORE_WEIGHTS.recency} * exp(-ln(2) * extract(epoch from now() - m.valid_from) / (30 * 86400)) as score
             from memories m
            where m.user_id = ${bind(userId)} and m.valid_to is null
              and (m.expires_at is null or m.expires_at > now())
              and (m.project_id is null or m.project_id = ${bind(input.projectId ?? null)}::uuid)
              and (m.agent_id is null or m.agent_id = ${bind(input.agent ?? null)}::text)
         ) scored
     ) ranked
     where ${bind(input.tokenBudget ?? null)}::int is null or ranked.running_tokens <= ${bind(input.tokenBudget ?? null)}::int
     order by ranked.score desc, ranked.id
     limit ${bind(input.limit)}`;
  return { text, values };
}
