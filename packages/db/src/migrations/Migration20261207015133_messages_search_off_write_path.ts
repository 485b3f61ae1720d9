import { Migration } from '@mikro-orm/migrations';

/**
 * Moves full-text indexing of messages off the append path: `chat_messages.search_vector` and its
 * GIN index go; `chat_message_search` (filled by the worker's search indexer) and its queue come.
 *
 * On a populated database the existing vectors are copied, not recomputed (`to_tsvector` is the
 * expensive part), before the new table's indexes are built in one pass each; dropping the column
 * is a catalog change that rewrites nothing. Deleted messages are never searchable, so theirs are
 * not copied.
 */
export class Migration20261207015133_messages_search_off_write_path extends Migration {
  override name = 'Migration20261207015133_messages_search_off_write_path';

  override up(): void | Promise<void> {
    this.addSql(
      `create table "chat_message_search" ("message_id" uuid not null, "session_id" uuid not null, "search_vector" tsvector not null, primary key ("message_id"));`,
    );
    this.addSql(
      `insert into "chat_message_search" ("message_id", "session_id", "search_vector") select "id", "session_id", "search_vector" from "chat_messages" where "deleted_at" is null;`,
    );
    this.addSql(`create index "chat_message_search_session_id_index" on "chat_message_search" ("session_id");`);
    this.addSql(`create index "chat_message_search_vector_index" on "chat_message_search" using gin ("search_vector");`);

    this.addSql(`create table "chat_message_search_queue" ("message_id" uuid not null, primary key ("message_id"));`);

    this.addSql(`drop index "chat_messages_search_vector_index";`);
    this.addSql(`alter table "chat_messages" drop column "search_vector";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "chat_message_search" cascade;`);
    this.addSql(`drop table if exists "chat_message_search_queue" cascade;`);

    this.addSql(
      `alter table "chat_messages" add "search_vector" tsvector generated always as (to_tsvector('simple'::regconfig, left(content, 262144))) stored not null;`,
    );
    this.addSql(`create index "chat_messages_search_vector_index" on "chat_messages" using gin ("search_vector");`);
  }
}
