import pg from 'pg';
import { knowledgeSearchStatement, memoriesContextStatement, messageSearchStatement } from '@threadstore/domain';
const client = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:5432/threadstore_bench_search' });
await client.connect();
const [kind, q, extra] = process.argv.slice(2);
const id = async (subject: string) => (await client.query(`select id from users where subject = $1`, [subject])).rows[0]?.id;
const seeded = { seeded: { knowledgeOwner: { id: await id('knowledge-owner') }, messageSearcher: { id: await id('message-searcher') }, memoryUsers: [{ id: await id(process.env.MU ?? 'memory-user-1') }] } };
let st: { text: string; values: unknown[] };
if (kind === 'k') st = knowledgeSearchStatement(seeded.seeded.knowledgeOwner.id, { query: q!, prefix: extra === 'p', limit: 20 } as never, 20);
else if (kind === 'm') st = messageSearchStatement({ userId: seeded.seeded.messageSearcher.id }, { query: q!, prefix: extra === 'p', limit: 20 } as never, 20);
else st = memoriesContextStatement(seeded.seeded.memoryUsers[0].id, { query: q!, limit: 20, tokenBudget: 500 } as never);
if (process.env.SHOW) console.log(st.text, st.values);
for (let i = 0; i < Number(process.env.N ?? 1); i++) {
  const t = performance.now();
  const r = await client.query(`explain (analyze, buffers) ${st.text}`, st.values);
  if (i === Number(process.env.N ?? 1) - 1) console.log(r.rows.map((x) => x['QUERY PLAN']).join('\n'));
  console.log('ms', (performance.now() - t).toFixed(1));
}
await client.end();
