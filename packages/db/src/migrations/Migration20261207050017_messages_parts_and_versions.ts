import { Migration } from '@mikro-orm/migrations';

/**
 * Message parts and edit history. On a populated database every statement here is a catalog
 * change: the new chat_messages columns are nullable or have a constant default (PostgreSQL 11+
 * stores that default once, in the catalog, and rewrites no row), and chat_message_versions is
 * created empty. Its ACCESS EXCLUSIVE lock on chat_messages is held for milliseconds whatever the
 * table's size (measured in bench/results/parts-and-edits-2026-12-07.md).
 */
export class Migration20261207050017_messages_parts_and_versions extends Migration {

  override name = 'Migration20261207050017_messages_parts_and_versions';

  override up(): void | Promise<void> {
    this.addSql(`create table "chat_message_versions" ("id" uuid not null default gen_random_uuid(), "session_id" uuid not null, "message_id" uuid not null, "version" int not null, "content" text not null, "parts" json null, "metadata" jsonb not null default '{}', "sanitized" boolean not null default false, "replaced_by_type" varchar(32) not null, "replaced_by_id" varchar(255) not null, "replaced_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "chat_message_versions_session_id_index" on "chat_message_versions" ("session_id");`);
    this.addSql(`alter table "chat_message_versions" add constraint "chat_message_versions_message_version_unique" unique ("message_id", "version");`);

    this.addSql(`alter table "chat_messages" add "parts" json null, add "version" int not null default 1, add "edited_at" timestamptz null, add "edit_of" uuid null;`);

    this.addSql(`alter table "chat_message_versions" add constraint "chat_message_versions_session_id_foreign" foreign key ("session_id") references "chat_sessions" ("id") on delete cascade;`);
    this.addSql(`alter table "chat_message_versions" add constraint "chat_message_versions_version_positive_check" check (version >= 1);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "chat_message_versions" cascade;`);

    this.addSql(`alter table "chat_messages" drop column "parts", drop column "version", drop column "edited_at", drop column "edit_of";`);
  }

}
