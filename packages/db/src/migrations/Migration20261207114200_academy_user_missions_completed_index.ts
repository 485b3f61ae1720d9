import { Migration } from '@mikro-orm/migrations';

/**
 * Completed missions per learner, for the xp-rollup: a batch asks of each learner whether a mission
 * is completed (and leaves it alone) and how many are (the missions badge). From this index both
 * are an index probe; from the unique (user_id, mission_id) index each was a visit to the heap rows
 * of every mission the learner has (bench/results/xp-2026-12-07.md). Small (completed rows only);
 * built in one pass over academy_user_missions under a lock that blocks writes to it meanwhile
 * (well under a second per million learner-mission rows on the benchmark machine).
 */
export class Migration20261207114200_academy_user_missions_completed_index extends Migration {
  override name = 'Migration20261207114200_academy_user_missions_completed_index';

  override up(): void | Promise<void> {
    this.addSql(
      `create index "academy_user_missions_completed_index" on "academy_user_missions" ("user_id", "mission_id") where "status" = 'completed';`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "academy_user_missions_completed_index";`);
  }
}
