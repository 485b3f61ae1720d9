import { Migration } from '@mikro-orm/migrations';

/**
 * Room on every page of chat_sessions for the append's HOT update of the session row (see
 * ACTIVITY_RESOLUTION_SECONDS in packages/domain/src/messages/append.ts): a HOT update must fit
 * its new row version on the same page. A catalog change only: existing pages are not rewritten
 * (they gain room as their rows are updated and pruned), so it is instant on any table size.
 *
 * The search queue is written and emptied all day: vacuum it after 1,000 dead rows, not after
 * 20% of a table that is nearly always empty.
 */
export class Migration20261207023500_sessions_hot_append extends Migration {
  override name = 'Migration20261207023500_sessions_hot_append';

  override up(): void | Promise<void> {
    this.addSql(`alter table "chat_sessions" set (fillfactor = 70);`);
    this.addSql(
      `alter table "chat_message_search_queue" set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "chat_sessions" reset (fillfactor);`);
    this.addSql(
      `alter table "chat_message_search_queue" reset (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold);`,
    );
  }
}
