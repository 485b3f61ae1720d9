import { Migration } from '@mikro-orm/migrations';

export class Migration20261207045831_conversation_fork_share_rate_tags extends Migration {

  override name = 'Migration20261207045831_conversation_fork_share_rate_tags';

  override up(): void | Promise<void> {
    this.addSql(`create table "session_shares" ("id" uuid not null default gen_random_uuid(), "session_id" uuid not null, "token_hash" varchar(64) not null, "mode" text not null, "up_to_seq" bigint null, "expires_at" timestamptz null, "revoked_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "session_shares_session_id_index" on "session_shares" ("session_id");`);
    this.addSql(`alter table "session_shares" add constraint "session_shares_token_hash_unique" unique ("token_hash");`);

    this.addSql(`create table "message_ratings" ("id" uuid not null default gen_random_uuid(), "session_id" uuid not null, "message_id" uuid not null, "value" text not null, "reason" varchar(64) null, "comment" text null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "message_ratings_session_id_index" on "message_ratings" ("session_id");`);
    this.addSql(`alter table "message_ratings" add constraint "message_ratings_message_id_unique" unique ("message_id");`);
    this.addSql(`create index "message_ratings_updated_at_index" on "message_ratings" ("updated_at");`);

    this.addSql(`create table "message_clears" ("id" uuid not null default gen_random_uuid(), "session_id" uuid not null, "chapter" varchar(255) null, "cleared_at" timestamptz not null, "cleared" int not null, "undone_at" timestamptz null, "created_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create index "message_clears_session_id_index" on "message_clears" ("session_id");`);

    this.addSql(`alter table "chat_sessions" add "pinned_at" timestamptz null, add "tags" text[] not null default '{}', add "forked_from_session_id" uuid null, add "forked_from_message_id" uuid null;`);
    this.addSql(`create index "chat_sessions_user_pinned_index" on "chat_sessions" ("user_id") where "pinned_at" is not null;`);
    this.addSql(`create index "chat_sessions_anonymous_pinned_index" on "chat_sessions" ("anonymous_id") where "pinned_at" is not null;`);
    this.addSql(`alter table "chat_sessions" add constraint "chat_sessions_tags_bounded_check" check (cardinality(tags) <= 32);`);

    this.addSql(`alter table "chat_messages" add "forked_from_id" uuid null;`);

    this.addSql(`alter table "session_shares" add constraint "session_shares_session_id_foreign" foreign key ("session_id") references "chat_sessions" ("id") on delete cascade;`);
    this.addSql(`alter table "session_shares" add constraint "session_shares_snapshot_has_seq_check" check ((mode = 'snapshot') = (up_to_seq is not null));`);
    this.addSql(`alter table "session_shares" add constraint "session_shares_mode_check" check ("mode" in ('snapshot', 'live'));`);
    this.addSql(`create or replace function "session_shares_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "session_shares" for each ROW execute function "session_shares_touch_updated_at_fn"();`);

    this.addSql(`alter table "message_ratings" add constraint "message_ratings_session_id_foreign" foreign key ("session_id") references "chat_sessions" ("id") on delete cascade;`);
    this.addSql(`alter table "message_ratings" add constraint "message_ratings_value_check" check ("value" in ('up', 'down'));`);
    this.addSql(`create or replace function "message_ratings_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "message_ratings" for each ROW execute function "message_ratings_touch_updated_at_fn"();`);

    this.addSql(`alter table "message_clears" add constraint "message_clears_session_id_foreign" foreign key ("session_id") references "chat_sessions" ("id") on delete cascade;`);
    this.addSql(`alter table "message_clears" add constraint "message_clears_cleared_non_negative_check" check (cleared >= 0);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "touch_updated_at" on "session_shares";`);
    this.addSql(`drop function if exists "session_shares_touch_updated_at_fn"();`);
    this.addSql(`drop table if exists "session_shares" cascade;`);
    this.addSql(`drop trigger if exists "touch_updated_at" on "message_ratings";`);
    this.addSql(`drop function if exists "message_ratings_touch_updated_at_fn"();`);
    this.addSql(`drop table if exists "message_ratings" cascade;`);
    this.addSql(`drop table if exists "message_clears" cascade;`);

    this.addSql(`alter table "chat_messages" drop column "forked_from_id";`);

    this.addSql(`drop index "chat_sessions_user_pinned_index";`);
    this.addSql(`drop index "chat_sessions_anonymous_pinned_index";`);
    this.addSql(`alter table "chat_sessions" drop constraint "chat_sessions_tags_bounded_check";`);
    this.addSql(`alter table "chat_sessions" drop column "pinned_at", drop column "tags", drop column "forked_from_session_id", drop column "forked_from_message_id";`);
  }

}
