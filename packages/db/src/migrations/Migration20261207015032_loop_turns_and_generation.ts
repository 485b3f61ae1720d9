import { Migration } from '@mikro-orm/migrations';

export class Migration20261207015032_loop_turns_and_generation extends Migration {

  override name = 'Migration20261207015032_loop_turns_and_generation';

  override up(): void | Promise<void> {
    this.addSql(`create table "chat_turns" ("id" uuid not null default gen_random_uuid(), "session_id" uuid not null, "user_message_id" uuid not null, "assistant_message_id" uuid null, "client_message_id" varchar(255) null, "status" text not null, "stop_reason" varchar(64) null, "holder_pid" int null, "holder_started_at" timestamptz null, "cancel_requested" boolean not null default false, "started_at" timestamptz null, "finished_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), primary key ("id"));`);
    this.addSql(`create unique index "chat_turns_one_running_per_session" on "chat_turns" ("session_id") where "status" = 'running';`);
    this.addSql(`create index "chat_turns_queued_index" on "chat_turns" ("session_id", "created_at") where "status" = 'queued';`);
    this.addSql(`create index "chat_turns_user_message_index" on "chat_turns" ("user_message_id");`);
    this.addSql(`alter table "chat_turns" add constraint "chat_turns_session_client_message_id_unique" unique ("session_id", "client_message_id");`);

    this.addSql(`create or replace function "chat_sessions_announce_change_fn"() returns trigger as \$\$ begin perform pg_notify('threadstore_changes', json_build_object('s', new.id, 'u', new.user_id, 'a', new.anonymous_id)::text); return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "announce_change" AFTER INSERT OR UPDATE on "chat_sessions" for each ROW execute function "chat_sessions_announce_change_fn"();`);

    this.addSql(`alter table "chat_messages" add "generation_status" text null, add "stop_reason" varchar(64) null, add "context_record" jsonb null;`);
    this.addSql(`alter table "chat_messages" add constraint "chat_messages_generation_status_check" check ("generation_status" in ('generating', 'complete', 'incomplete', 'interrupted'));`);

    this.addSql(`alter table "chat_turns" add constraint "chat_turns_session_id_foreign" foreign key ("session_id") references "chat_sessions" ("id") on delete cascade;`);
    this.addSql(`alter table "chat_turns" add constraint "chat_turns_status_check" check ("status" in ('queued', 'running', 'completed', 'incomplete', 'interrupted', 'cancelled'));`);
    this.addSql(`create or replace function "chat_turns_touch_updated_at_fn"() returns trigger as \$\$ begin if new.updated_at is not distinct from old.updated_at then new.updated_at := now(); end if; return new; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "touch_updated_at" BEFORE UPDATE on "chat_turns" for each ROW execute function "chat_turns_touch_updated_at_fn"();`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "touch_updated_at" on "chat_turns";`);
    this.addSql(`drop function if exists "chat_turns_touch_updated_at_fn"();`);
    this.addSql(`drop table if exists "chat_turns" cascade;`);

    this.addSql(`alter table "chat_messages" drop constraint "chat_messages_generation_status_check";`);
    this.addSql(`alter table "chat_messages" drop column "generation_status", drop column "stop_reason", drop column "context_record";`);

    this.addSql(`drop trigger if exists "announce_change" on "chat_sessions";`);
    this.addSql(`drop function if exists "chat_sessions_announce_change_fn"();`);
  }

}
