import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@threadstore/db/testing';
import { runHandler } from '../../../test/job-context.ts';
import { retentionJob } from '@threadstore/jobs';

describe('retention of soft-deleted projects', () => {
  const testDb = useTestDatabase();

  it('purges projects deleted longer ago than the grace period, detaching what was filed under them', async () => {
    const pool = await testDb.orm.em.getConnection().getNativeClient();
    const one = async (sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows[0];
    const { id: owner } = await one(`insert into users (issuer, subject) values ('test', 'owner') returning id`);
    const project = async (name: string, deletedDaysAgo: number | null) =>
      (
        await one(
          `insert into projects (owner_id, name, deleted_at) values ($1, $2, now() - make_interval(days => $3::int)) returning id`,
          [owner, name, deletedDaysAgo],
        )
      ).id as string;
    const old = await project('old', 31);
    const recent = await project('recent', 5);
    const live = await project('live', null);
    const held = await project('held', 90);
    await one(
      `insert into retention_policies (scope, project_id, target, legal_hold) values ('project', $1, 'all', true)`,
      [held],
    );
    const { id: session } = await one(`insert into chat_sessions (user_id, project_id) values ($1, $2) returning id`, [
      owner,
      old,
    ]);
    const { id: entry } = await one(
      `insert into knowledge_entries (owner_id, project_id, title, content, source_type) values ($1, $2, 't', 'c', 'text') returning id`,
      [owner, old],
    );
    await one(
      `insert into knowledge_chunks (entry_id, ordinal, owner_id, project_id, language, start_char, length_chars, search_vector)
       values ($1, 0, $2, $3, 'simple', 0, 1, 'c')`,
      [entry, owner, old],
    );

    const dry = await runHandler(retentionJob, testDb.orm, { dryRun: true });
    expect(dry.result.details).toMatchObject({ deletedProjects: 1 });
    expect((await one('select count(*)::int as n from projects')).n).toBe(4);

    const real = await runHandler(retentionJob, testDb.orm, {});
    expect(real.result.details).toMatchObject({ deletedProjects: 1 });
    const left = (await pool.query('select id from projects order by name')).rows.map((row) => row.id);
    expect(left.sort()).toEqual([recent, live, held].sort());
    expect(await one('select project_id from chat_sessions where id = $1', [session])).toEqual({ project_id: null });
    expect(await one('select project_id from knowledge_entries where id = $1', [entry])).toEqual({ project_id: null });
    expect(await one('select project_id from knowledge_chunks where entry_id = $1', [entry])).toEqual({
      project_id: null,
    });
  });
});
