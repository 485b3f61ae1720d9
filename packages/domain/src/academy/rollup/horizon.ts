/*
 * The rollup's horizon: the oldest transaction id that may still add ledger rows. Every ledger row
 * with a tx_id below it was written by a transaction that has ended, so it is visible to the next
 * statement and no row can appear behind a watermark set below it later.
 *
 * Transaction ids are server-wide, but a transaction can only write to the ledger of the database
 * it is connected to. The plain horizon, pg_snapshot_xmin(pg_current_snapshot()), is the oldest
 * transaction running anywhere on the server: a report or a pg_dump in another database held every
 * learner's XP back for as long as it ran (and failed xp-rollup.test.ts on a busy shared server).
 * So the horizon here is the oldest *of this database's* running transactions:
 *
 * - the in-progress ids of the current snapshot (pg_snapshot_xip, xid8), kept only when a backend
 *   connected to this database holds the ExclusiveLock every transaction takes on its own id
 *   (pg_locks, matched on the low 32 bits, as pg_locks shows a plain xid), or a prepared
 *   transaction of this database has it (pg_prepared_xacts; its locks have no backend);
 * - else the snapshot's xmax: everything below it that is not in progress has ended;
 * - and never above the current transaction's own id (rows a fold inserts itself, its mission
 *   rewards, must not land behind the watermark it sets).
 *
 * Why this cannot let a late commit slip past: an id in the snapshot that no backend of this
 * database holds is either another database's (it can never write here) or has ended since the
 * snapshot was taken (its rows are visible to the fold's next statement, which takes a new
 * snapshot). A transaction of this database that had no id yet when the snapshot was taken gets
 * one at or above xmax, so it is above the horizon. pg_locks and pg_stat_activity.datid are
 * readable by any role (pg_stat_activity.backend_xid is not), so this works for an unprivileged
 * application role too.
 */
export const HORIZON_SQL = `with snapshot as (select pg_current_snapshot() as s),
  ours as (
    select l.transactionid::text::bigint as xid32
      from pg_locks l join pg_stat_activity a on a.pid = l.pid
     where l.locktype = 'transactionid' and l.mode = 'ExclusiveLock' and l.granted
       and a.datid = (select oid from pg_database where datname = current_database())
    union all
    select transaction::text::bigint from pg_prepared_xacts where database = current_database()
  )
  select least(
           (select min(x) from snapshot, pg_snapshot_xip(snapshot.s) x
             where (x::text::numeric % 4294967296)::bigint in (select xid32 from ours)),
           (select pg_snapshot_xmax(s) from snapshot),
           pg_current_xact_id())::text as "txId"`;

/**
 * Whether every row in the ledger is below the horizon: a run now would fold all of it. For tests
 * and benchmarks that assert what one run folds.
 */
export const LEDGER_FOLDABLE_SQL = `with horizon as (${HORIZON_SQL})
  select coalesce((select max(tx_id) from academy_xp_transactions) < (select "txId"::xid8 from horizon), true) as ready`;
