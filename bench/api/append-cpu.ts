/**
 * PostgreSQL CPU per append, read from the serving backend's own /proc stat (issue 8, goal 1):
 * unlike the postmaster tree's CPU, it is not inflated by autovacuum, checkpoints or by how
 * many requests a busy machine lets through, so it holds on a shared box. One connection appends
 * one 200–800-character message at a time to random sessions, 1,000 appends per round, the
 * variants alternating round by round.
 *
 *   node bench/api/append-cpu.ts [--rounds 3] [--appends 1000]   (DATABASE_URL=… for that server,
 *                                                                 else the embedded PostgreSQL 18)
 * Variants (each quiet, as the API runs it: the session trigger does not NOTIFY):
 *   now          the append statement as shipped, as a named prepared statement
 *   before       the append as of 0fd0e73: the parent check over `unnest($parents)` whether or
 *                not a message has a parent, whose generic plan PostgreSQL rejected (planned on
 *                every append; see `parentCheck` in packages/domain/src/messages/append.ts), and
 *                the session's triggers without their WHEN clauses (both functions called per
 *                append), `updated_at` left to the trigger
 *   unprepared   the shipped text sent unnamed (parsed and planned on every call)
 *   issue3       the append as of issue 3: unnamed, the `before` parent check,
 *                last_activity_at = now() on every append (no HOT update), no search queue, and
 *                (added for it, dropped after) the stored search_vector column with its GIN index
 */
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { appendStatement, prepareMessage } from '@threadstore/domain';
import pg from 'pg';
import { openBenchDatabase } from './database.ts';
import { BENCH_LIMITS, makeCorpus, randomContent } from './dataset.ts';
import { formatNumber, median, spread } from './report.ts';

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, appends: { type: 'string', default: '1000' } },
});
const rounds = Number(args.rounds);
const appends = Number(args.appends);
const log = (line: string) => process.stderr.write(`${line}\n`);

const db = await openBenchDatabase(process.env.DATABASE_URL, log, {
  database: 'threadstore_bench_append_cpu',
  dataDirName: 'postgres',
});
const client = new pg.Client({ connectionString: db.url });
await client.connect();
try {
  const version = (await client.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]!.v;
  const backend = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
  const sessions = (
    await client.query<{ id: string; anonymous_id: string }>(
      `insert into chat_sessions (anonymous_id) select gen_random_uuid() from generate_series(1, 1000)
       returning id, anonymous_id`,
    )
  ).rows;
  const corpus = makeCorpus();
  const ticks = Number(process.env.CLK_TCK ?? 100);
  const cpuSeconds = () => {
    const fields = readFileSync(`/proc/${backend}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticks;
  };
  const statementFor = (variant: string) => {
    const session = sessions[Math.floor(Math.random() * sessions.length)]!;
    const message = prepareMessage({ role: 'user', content: randomContent(corpus) }, BENCH_LIMITS);
    const actor = { principal: { kind: 'anonymous' as const, anonymousId: session.anonymous_id }, requestId: null };
    const statement = appendStatement(actor, 'messages.append', session.id, [message], { quiet: true });
    if (variant === 'now' || variant === 'unprepared') return statement;
    let text = withUnnestParentCheck(statement.text).replace(', updated_at = now()', '');
    if (variant === 'issue3') {
      text = text
        .replace(/last_activity_at = case when[\s\S]*?end/, 'last_activity_at = now()')
        .replace(/queued as \([\s\S]*?\), audit as/, 'audit as');
    }
    return { text, values: statement.values };
  };
  const run = async (variant: string) => {
    if (variant === 'before' || variant === 'issue3') await sessionTriggers(client, 'without when');
    try {
      return await measure(variant);
    } finally {
      await sessionTriggers(client, 'with when');
    }
  };
  const measure = async (variant: string) => {
    const start = cpuSeconds();
    const started = performance.now();
    for (let i = 0; i < appends; i += 1) {
      const { text, values } = statementFor(variant);
      const named = variant === 'now' || variant === 'before';
      await client.query(named ? { name: `append_${variant}_${text.length}`, text, values } : { text, values });
    }
    return { cpuMs: ((cpuSeconds() - start) * 1000) / appends, ms: (performance.now() - started) / appends };
  };
  const results: Record<string, { cpuMs: number; ms: number; load: number }[]> = {
    now: [],
    before: [],
    unprepared: [],
    issue3: [],
  };
  const variants = ['now', 'before', 'unprepared'];
  for (const variant of variants) await run(variant); // warm the cache and the prepared statements
  for (let round = 1; round <= rounds; round += 1) {
    for (const variant of round % 2 ? variants : [...variants].reverse()) {
      log(`${variant}: round ${round}/${rounds}`);
      results[variant]!.push({ ...(await run(variant)), load: loadavg()[0]! });
    }
  }
  await client.query(
    `alter table chat_messages add column search_vector tsvector
       generated always as (to_tsvector('simple'::regconfig, left(content, 262144))) stored`,
  );
  await client.query('create index bench_search_vector on chat_messages using gin (search_vector)');
  try {
    await run('issue3');
    for (let round = 1; round <= rounds; round += 1) {
      log(`issue3: round ${round}/${rounds}`);
      results.issue3!.push({ ...(await run('issue3')), load: loadavg()[0]! });
    }
  } finally {
    await client.query('alter table chat_messages drop column search_vector');
  }
  const row = (variant: string) =>
    `| ${variant} | ${spread(results[variant]!.map((r) => r.cpuMs))} | ${spread(results[variant]!.map((r) => r.ms))} | ${spread(results[variant]!.map((r) => r.load))} |`;
  const ratio = (a: string, b: string) =>
    formatNumber(median(results[a]!.map((r) => r.cpuMs)) / median(results[b]!.map((r) => r.cpuMs)));
  process.stdout.write(
    [
      `PostgreSQL ${version} (${process.env.DATABASE_URL === undefined ? 'embedded' : 'DATABASE_URL'}), ${appends} sequential appends per round, ${rounds} rounds, ${new Date().toISOString()}`,
      '',
      '| variant | backend CPU ms per append | wall ms per append | load average (1 min) |',
      '| --- | --- | --- | --- |',
      row('now'),
      row('before'),
      row('unprepared'),
      row('issue3'),
      '',
      `now ÷ before (backend CPU): ${ratio('now', 'before')}; now ÷ unprepared: ${ratio('now', 'unprepared')}; now ÷ issue3: ${ratio('now', 'issue3')}`,
      '',
    ].join('\n'),
  );
} finally {
  await client.end();
  await db.stop();
}

/**
 * chat_sessions' two triggers as of 0fd0e73 (no WHEN clause: each function called on every
 * append) or as shipped (Migration20261207144553_triggers_skip_by_when).
 */
async function sessionTriggers(client: pg.Client, shape: 'with when' | 'without when'): Promise<void> {
  const when = (condition: string) => (shape === 'with when' ? `when (${condition})` : '');
  await client.query('begin');
  await client.query('drop trigger touch_updated_at on chat_sessions');
  await client.query(
    `create trigger touch_updated_at before update on chat_sessions for each row
       ${when('new.updated_at is not distinct from old.updated_at')}
       execute function chat_sessions_touch_updated_at_fn()`,
  );
  await client.query('drop trigger announce_change on chat_sessions');
  await client.query(
    `create trigger announce_change after insert or update on chat_sessions for each row
       ${when(`current_setting('threadstore.announce', true) is distinct from 'off'`)}
       execute function chat_sessions_announce_change_fn()`,
  );
  await client.query('commit');
}

/**
 * The statement as of 0fd0e73: every append checked its parents over `unnest` of the bound
 * parent array (`$2`, the array the INSERT reads too), which kept its generic plan out of reach.
 */
function withUnnestParentCheck(text: string): string {
  const check = `
         and not exists (
           select from unnest($2::uuid[]) as wanted(parent_id)
            where wanted.parent_id is not null
              and not exists (
                select from chat_messages p
                 where p.id = wanted.parent_id and p.session_id = s.id and p.deleted_at is null))`;
  const replaced = text.replace(/(and s\.anonymous_id = \$\d+)/, `$1${check}`);
  // `$2` must be the INSERT's parent array: `unnest(<ids>, <parents>, …)`.
  if (replaced === text || !/unnest\(\$\d+::uuid\[\], \$2::uuid\[\]/.test(text)) {
    throw new Error('the append statement changed shape: update withUnnestParentCheck');
  }
  return replaced;
}
