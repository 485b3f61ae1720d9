import { Migration } from '@mikro-orm/migrations';

/**
 * The search queue tells a bulk import's ids (`bulk`) from the ones people just wrote, so the
 * indexer can take the latter first (packages/domain/src/messages/search-index.ts): an append made
 * during an import waited behind the import's backlog, once 81.8 s (bench/results/import-2026-12-07.md).
 *
 * Adding a column with a constant default is a catalog change (no table rewrite). The partial
 * index is built in one pass over the queue, under a lock that holds appends' queue inserts
 * meanwhile; the queue holds only what is not indexed yet (nothing, or an import's backlog): 0.52 s
 * for a million queued ids on PostgreSQL 15 on the benchmark machine (load ~7), whatever the
 * number of messages stored. Ids queued before the migration count as interactive.
 */
export class Migration20261207142055_search_queue_bulk extends Migration {
  override name = 'Migration20261207142055_search_queue_bulk';

  override up(): void | Promise<void> {
    this.addSql(`alter table "chat_message_search_queue" add "bulk" boolean not null default false;`);
    this.addSql(
      `create index "chat_message_search_queue_interactive_index" on "chat_message_search_queue" ("message_id") where not "bulk";`,
    );
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "chat_message_search_queue_interactive_index";`);
    this.addSql(`alter table "chat_message_search_queue" drop column "bulk";`);
  }
}
