/**
 * Seeds (or finds) the maintenance benchmark's template database without measuring anything, so
 * the retention benchmark can start on it: `node bench/maintenance/seed-template.ts [--quick]`.
 */
import { parseArgs } from 'node:util';
import { openBenchDatabase } from '../api/database.ts';
import { formatNumber } from '../api/report.ts';
import { FULL_SHAPE, QUICK_SHAPE } from './dataset.ts';
import { seedConversations } from './seed.ts';
import { seedFingerprint, Snapshots } from './snapshot.ts';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const shape = args.quick ? QUICK_SHAPE : FULL_SHAPE;
const log = (line: string) => process.stderr.write(`${line}\n`);
const db = await openBenchDatabase(process.env.DATABASE_URL, log, {
  database: 'threadstore_bench_maintenance',
  dataDirName: 'postgres-maintenance',
});
try {
  const snapshots = new Snapshots(db.url, args.quick ? 'quick' : 'full');
  const seeding = await snapshots.prepare(await seedFingerprint(shape), async () => {
    log(`seeding ~${formatNumber(shape.sessions * shape.messagesPerSession)} messages…`);
    return seedConversations(db.url, shape, log);
  });
  log(seeding.reused ? 'template already there' : `seeded at ${seeding.seededAt.toISOString()}`);
  await snapshots.dropWorkingCopy();
} finally {
  await db.stop();
}
