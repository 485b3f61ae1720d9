import { createHash } from 'node:crypto';
import type { EntityManager } from '@threadstore/db';
import { auditActorOf, type Actor, type Owner } from '../principal.ts';

type Kysely = ReturnType<EntityManager['getKysely']>;
type CompiledQuery = Extract<Parameters<Kysely['executeQuery']>[0], { sql: string }>;

/**
 * Runs `text` with bind parameters (`$1`, `$2`…) on `em`'s connection, inside `em`'s transaction
 * when it has one, and returns the rows. Database errors come out as MikroORM's exceptions
 * (UniqueConstraintViolationException…), as from any other ORM call.
 *
 * Why not `em.execute`: it inlines every parameter into the SQL text, escaping strings one
 * character at a time in JavaScript (about 30 ms for a single 256 KiB message), and it cannot
 * bind an array, which the batch insert (`unnest($n::text[])`) needs. Here the values travel
 * as parameters, untouched.
 */
export async function query<Row>(em: EntityManager, text: string, parameters: readonly unknown[]): Promise<Row[]> {
  if (!em.isInTransaction()) return prepared<Row>(em, text, parameters);
  // What Kysely's own `CompiledQuery.raw(text, parameters)` builds; that factory is not reachable
  // from here (Kysely is MikroORM's dependency, not ours), so the plain object is spelled out.
  const compiled: CompiledQuery = {
    sql: text,
    parameters,
    query: { kind: 'RawNode', sqlFragments: [text], parameters: [] },
    queryId: { queryId: 'threadstore-messages' },
  };
  try {
    const result = await em.getKysely().executeQuery(compiled);
    return result.rows as Row[];
  } catch (error) {
    throw error instanceof Error ? em.getDriver().convertException(error) : error;
  }
}

/**
 * Runs `text` as a named prepared statement on a pooled connection (outside any transaction).
 * PostgreSQL parses and plans an unnamed statement on every call, and planning the append
 * statement took 0.7 ms of its ~2.8 ms of server CPU (bench/results/api-2026-11-22.md). Named,
 * each connection parses it once, and after five executions the server may keep a generic plan
 * and skip planning altogether. Every statement here binds all of its values, so the texts are
 * few and fixed (one per shape: owner kind, cursor direction, filters), and the name is the
 * text's digest: two texts never share a name, which node-postgres refuses.
 */
async function prepared<Row>(em: EntityManager, text: string, parameters: readonly unknown[]): Promise<Row[]> {
  const pool = await em.getConnection().getNativeClient();
  try {
    const result = await pool.query({ name: statementName(text), text, values: [...parameters] });
    return result.rows as Row[];
  } catch (error) {
    throw error instanceof Error ? em.getDriver().convertException(error) : error;
  }
}

/**
 * The digest is computed once per text: the texts are few, and hashing a 2 KB statement on every
 * call cost more than the lookup. Bounded all the same, so a caller that ever built texts with
 * values in them would only lose the cache, never grow the process.
 */
const NAMES = new Map<string, string>();
const MAX_NAMES = 1_000;

function statementName(text: string): string {
  let name = NAMES.get(text);
  if (name === undefined) {
    if (NAMES.size >= MAX_NAMES) NAMES.clear();
    name = `threadstore_${createHash('sha256').update(text).digest('base64url').slice(0, 24)}`;
    NAMES.set(text, name);
  }
  return name;
}

/** Appends a value to a statement's parameters and returns its placeholder (`$3`). */
export type Bind = (value: unknown) => string;

/** A statement's parameter list and the `bind` that fills it while the SQL is written. */
export function bindings(): { values: unknown[]; bind: Bind } {
  const values: unknown[] = [];
  return {
    values,
    bind: (value) => {
      values.push(value);
      return `$${values.length}`;
    },
  };
}

/**
 * The SQL condition "session `alias` belongs to `owner`". Every statement here reaches messages
 * through it, so another principal's session (and its messages) looks exactly like none at all.
 */
export function ownedBy(alias: string, owner: Owner, bind: Bind): string {
  return owner.userId !== undefined
    ? `${alias}.user_id = ${bind(owner.userId)}`
    : `${alias}.anonymous_id = ${bind(owner.anonymousId)}`;
}

/**
 * An INSERT of one audit row per row `from` yields, for a data-modifying CTE: the audit row rides
 * in the mutation's own statement, so the two commit together or not at all (what `recordAudit`
 * does for ORM flushes). `subjectId` and `details` are SQL expressions over `from`, which is
 * everything after FROM (a WHERE included).
 */
export function auditInsert(
  actor: Actor,
  action: string,
  bind: Bind,
  { subjectType, subjectId, details, from }: { subjectType: string; subjectId: string; details: string; from: string },
): string {
  const { actorType, actorId } = auditActorOf(actor.principal);
  return `insert into audit_log (actor_type, actor_id, action, subject_type, subject_id, details, request_id)
       select ${bind(actorType)}, ${bind(actorId)}, ${bind(action)}, ${bind(subjectType)}, ${subjectId}, ${details},
              ${bind(actor.requestId)}
         from ${from}`;
}
